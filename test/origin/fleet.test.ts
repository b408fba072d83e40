/**
 * The fleet view at the origin: `POST /internal/fleet` takes the edge's batches (authenticated by
 * the shared PURGE_SECRET) into the namespace's FleetStore, and `GET /v1/configs/{key}/-/fleet`
 * reports per-version counts and convergence over the window, per cohort during a rollout.
 */
import { describe, expect, it } from "vitest";
import { bucketOf, type FleetSighting } from "../../core";
import { worker } from "../support/workerd";
import { adminToken, call, freshNamespace, ORIGIN, originEnv, publish } from "./support/origin";

function sighting(key: string, clientId: string, version: number, ageMs = 0, colo: string | null = "AMS") {
  return { key, clientId, version, seenAt: Date.now() - ageMs, colo } satisfies FleetSighting;
}

function sendBatch(sightings: unknown[], secret: string | null = originEnv.PURGE_SECRET, dropped = 0) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (secret !== null) headers["Fleetconf-Purge-Secret"] = secret;
  return worker.fetch(`${ORIGIN}/internal/fleet`, {
    method: "POST",
    headers,
    body: JSON.stringify({ sightings, dropped }),
  });
}

async function fleetOf(key: string, query = "", token?: string) {
  const res = await call("GET", `/v1/configs/${key}/-/fleet${query}`, token === undefined ? {} : { token });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

async function published(key: string, doc: unknown, headers: Record<string, string> = {}) {
  const res = await publish(key, doc, { headers });
  expect(res.status, await res.clone().text()).toBe(201);
}

describe("POST /internal/fleet", () => {
  it("answers 202 and stores the batch's sightings in the key's namespace", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { a: 1 });
    const res = await sendBatch([sighting(key, "c1", 1), sighting(key, "c2", 1)]);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    const { body } = await fleetOf(key);
    expect(body).toMatchObject({
      key,
      clients: 2,
      versions: [{ version: 1, clients: 2 }],
      current: 1,
      converged: 1,
    });
  });

  it.each([
    ["no secret", null],
    ["a wrong secret", "not-the-secret"],
    ["an empty secret", ""],
  ])("refuses a batch with %s (401) and stores nothing", async (_what, secret) => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { a: 1 });
    const res = await sendBatch([sighting(key, "intruder", 1)], secret);
    expect(res.status).toBe(401);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await fleetOf(key)).body.clients).toBe(0);
  });

  it.each([
    ["not JSON", "{"],
    [
      "an invalid key",
      JSON.stringify({ sightings: [{ key: "Bad Key", clientId: "c", version: 1, seenAt: 1 }] }),
    ],
    [
      "a client id with spaces",
      JSON.stringify({ sightings: [{ key: "a/b", clientId: "c d", version: 1, seenAt: 1 }] }),
    ],
    ["version 0", JSON.stringify({ sightings: [{ key: "a/b", clientId: "c", version: 0, seenAt: 1 }] })],
    [
      "too many sightings",
      JSON.stringify({
        sightings: Array.from({ length: 2001 }, () => ({ key: "a/b", clientId: "c", version: 1, seenAt: 1 })),
      }),
    ],
  ])("refuses a batch with %s (400)", async (_what, body) => {
    const res = await worker.fetch(`${ORIGIN}/internal/fleet`, {
      method: "POST",
      headers: { "Fleetconf-Purge-Secret": originEnv.PURGE_SECRET },
      body,
    });
    expect(res.status).toBe(400);
  });

  it("refuses an oversized batch with 413 while streaming it, with or without Content-Length", async () => {
    const big = new TextEncoder().encode(`{"sightings": [], "pad": "${"x".repeat(1024 * 1024 + 10)}"}`);
    const headers = { "Content-Type": "application/json", "Fleetconf-Purge-Secret": originEnv.PURGE_SECRET };
    const declared = await worker.fetch(`${ORIGIN}/internal/fleet`, { method: "POST", headers, body: big });
    expect(declared.status).toBe(413);
    // A stream has no Content-Length: the body is cut off once it passes the limit.
    const streamed = await worker.fetch(`${ORIGIN}/internal/fleet`, {
      method: "POST",
      headers,
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < big.length; i += 64 * 1024) controller.enqueue(big.subarray(i, i + 64 * 1024));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("keeps the later sighting when batches arrive out of order", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { a: 1 });
    await published(key, { a: 2 });
    expect((await sendBatch([sighting(key, "c1", 2, 0)])).status).toBe(202);
    expect((await sendBatch([sighting(key, "c1", 1, 5000)])).status).toBe(202);
    const { body } = await fleetOf(key);
    expect(body.versions).toEqual([{ version: 2, clients: 1, applied: 0, rejected: 0 }]);
  });
});

describe("GET /v1/configs/{key}/-/fleet", () => {
  it("counts each version's clients and the converged share on the current version", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { v: 1 });
    await published(key, { v: 2 });
    await sendBatch([
      sighting(key, "a", 2, 0, "AMS"),
      sighting(key, "b", 2, 0, "AMS"),
      sighting(key, "c", 2, 0, "SJC"),
      sighting(key, "d", 1, 0, "SJC"),
    ]);
    const { res, body } = await fleetOf(key, "?window=60");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body).toMatchObject({
      key,
      window: 60,
      clients: 4,
      versions: [
        { version: 2, clients: 3 },
        { version: 1, clients: 1 },
      ],
      current: 2,
      converged: 0.75,
      rollout: null,
      locations: [
        { colo: "AMS", clients: 2, converged: 1 },
        { colo: "SJC", clients: 2, converged: 0.5 },
      ],
    });
  });

  it("leaves out clients last seen before the window", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { v: 1 });
    await sendBatch([sighting(key, "recent", 1, 1000), sighting(key, "gone", 1, 120_000)]);
    expect((await fleetOf(key, "?window=60")).body.clients).toBe(1);
    expect((await fleetOf(key, "?window=300")).body.clients).toBe(2);
  });

  it("counts a candidate-cohort client as converged only when it holds the candidate during a rollout", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { v: 1 });
    await published(key, { v: 2 }, { "Config-Rollout": "50" });
    const ids = Array.from({ length: 40 }, (_, i) => `client-${i}`);
    const inCohort = (id: string) => bucketOf(key, id) < 5000;
    const cohort = ids.filter(inCohort);
    const rest = ids.filter((id) => !inCohort(id));
    expect(cohort.length).toBeGreaterThan(0);
    expect(rest.length).toBeGreaterThan(0);
    // Everyone holds what the edge serves them, except one cohort client still on v1 and one
    // stable client that somehow holds v2: both are not converged.
    const [lagging, ...cohortOk] = cohort;
    const [wrong, ...restOk] = rest;
    await sendBatch([
      ...cohortOk.map((id) => sighting(key, id, 2)),
      ...restOk.map((id) => sighting(key, id, 1)),
      sighting(key, lagging ?? "", 1),
      sighting(key, wrong ?? "", 2),
    ]);
    const { body } = await fleetOf(key);
    expect(body.current).toBe(1);
    expect(body.rollout).toMatchObject({ candidate: 2, stable: 1, share: 50 });
    expect(body.converged).toBe(Math.round(((ids.length - 2) / ids.length) * 10_000) / 10_000);
  });

  it("answers 0 clients and 0 converged for a key nobody polls", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { v: 1 });
    expect((await fleetOf(key)).body).toMatchObject({ clients: 0, versions: [], converged: 0 });
  });

  it("answers 404 for a key never published", async () => {
    const { res } = await fleetOf(`${freshNamespace()}/svc/none`);
    expect(res.status).toBe(404);
  });

  it.each(["0", "86401", "abc", "1.5"])("answers 400 for window=%s", async (window) => {
    const key = `${freshNamespace()}/svc/flags`;
    await published(key, { v: 1 });
    expect((await fleetOf(key, `?window=${window}`)).res.status).toBe(400);
  });

  it("still serves a 2-segment key named fleet as a config", async () => {
    const key = `${freshNamespace()}/fleet`;
    await published(key, { v: 1 });
    const res = await call("GET", `/v1/configs/${key}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ v: 1 });
  });

  it("answers 401 without a token and 403 for another namespace's read scope", async () => {
    const namespace = freshNamespace();
    const key = `${namespace}/svc/flags`;
    await published(key, { v: 1 });
    expect((await call("GET", `/v1/configs/${key}/-/fleet`, { token: null })).status).toBe(401);
    const other = await adminToken("read:someone-else");
    expect((await fleetOf(key, "", other)).res.status).toBe(403);
    const own = await adminToken(`read:${namespace}`);
    expect((await fleetOf(key, "", own)).res.status).toBe(200);
  });
});
