/**
 * Client status and health-gated rollouts at the origin (DESIGN §8): the edge's sightings carry
 * `Config-Client-Status` reports into FleetStore, the fleet view counts clients, applied and
 * rejected per version, per cohort and per location, a report for a version the client was never
 * served is not counted, and a gated rollout whose candidate is rejected by more than
 * `max-rejected` percent of at least `min-clients` reporting clients is aborted by FleetStore's
 * alarm, with the figures in the rollout document and the audit.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { FleetSighting } from "../../core";
import { GATE_CHECK_MS, MAX_CLIENTS_PER_KEY } from "../../origin/store/fleet-store";
import { worker } from "../support/workerd";
import { adminToken, call, freshNamespace, ORIGIN, originEnv, publish, publishOk } from "./support/origin";

// The sub-resource paths (DESIGN §4).
const FLEET = "-/fleet";
const ROLLOUT = "-/rollout";

type Report = Partial<Pick<FleetSighting, "applied" | "rejected" | "reason" | "previous" | "subject">>;

function sighting(key: string, clientId: string, version: number, report: Report = {}, colo = "AMS") {
  return { key, clientId, version, seenAt: Date.now(), colo, ...report };
}

async function sendBatch(sightings: unknown[]) {
  const res = await worker.fetch(`${ORIGIN}/internal/fleet`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Fleetconf-Purge-Secret": originEnv.PURGE_SECRET ?? "" },
    body: JSON.stringify({ sightings }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
}

async function fleetOf(key: string) {
  const res = await call("GET", `/v1/configs/${key}/${FLEET}`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    clients: number;
    versions: { version: number; clients: number; applied: number; rejected: number }[];
    locations: { colo: string; clients: number; applied: number; rejected: number }[];
    rollout: null | {
      cohorts: Record<"candidate" | "stable", { clients: number; applied: number; rejected: number }>;
    };
  };
}

async function rolloutOf(key: string) {
  const res = await call("GET", `/v1/configs/${key}/${ROLLOUT}`);
  return (await res.json()) as Record<string, unknown> & {
    state: string;
    autoAbort: null | Record<string, unknown>;
    resultVersion: number | null;
  };
}

function fleetStub(namespace: string) {
  return originEnv.FLEET.get(originEnv.FLEET.idFromName(namespace));
}

async function gatedRollout(header: string) {
  const namespace = freshNamespace();
  const key = `${namespace}/svc/flags`;
  await publishOk(key, { mode: "stable" });
  const res = await publish(key, { mode: "candidate" }, { headers: { "Config-Rollout": header } });
  expect(res.status, await res.clone().text()).toBe(201);
  return { namespace, key };
}

describe("client status in the fleet view", () => {
  it("counts clients, applied and rejected per version and per location", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    await sendBatch([
      sighting(key, "a", 2, { applied: 2 }, "AMS"),
      sighting(key, "b", 2, { applied: 2 }, "FRA"),
      sighting(key, "c", 2, { applied: 1, rejected: 2, reason: "schema" }, "FRA"),
      sighting(key, "d", 2, {}, "FRA"),
    ]);
    const view = await fleetOf(key);
    expect(view.clients).toBe(4);
    // c applied 1 before (it was not recorded being served 1): that report is not counted.
    expect(view.versions).toEqual([{ version: 2, clients: 4, applied: 2, rejected: 1 }]);
    expect(view.locations).toEqual([
      { colo: "AMS", clients: 1, converged: 1, applied: 1, rejected: 0 },
      { colo: "FRA", clients: 3, converged: 1, applied: 1, rejected: 1 },
    ]);
  });

  it("does not count a report for a version the client was never served", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    await publishOk(key, { v: 3 });
    // Served 3 and claims to have rejected 2 and applied 1: neither was ever served to it.
    await sendBatch([sighting(key, "liar", 3, { applied: 1, rejected: 2 })]);
    const view = await fleetOf(key);
    expect(view.versions).toEqual([{ version: 3, clients: 1, applied: 0, rejected: 0 }]);
  });

  it("counts a report for the version served before, seen by the origin or the isolate", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    await sendBatch([sighting(key, "a", 1), sighting(key, "b", 2, { previous: 1, rejected: 1 })]);
    await sendBatch([sighting(key, "a", 2, { applied: 1 })]);
    const view = await fleetOf(key);
    expect(view.versions.find((v) => v.version === 1)).toMatchObject({ applied: 1, rejected: 1 });
  });

  it("counts applied by the version reported, not the version served", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    // Both are served v2; one has applied it, the other still runs v1 (served before).
    await sendBatch([
      sighting(key, "new", 2, { applied: 2 }),
      sighting(key, "old", 2, { previous: 1, applied: 1 }),
    ]);
    const view = await fleetOf(key);
    expect(view.versions).toEqual([
      { version: 2, clients: 2, applied: 1, rejected: 0 },
      { version: 1, clients: 0, applied: 1, rejected: 0 },
    ]);
  });

  it("keeps the newer report when an older one arrives later (a hold its client gave up)", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    await publishOk(key, { v: 3 });
    const at = Date.now();
    // A host outside a rollout's cohort: served and applied 1, then served 3 (an abort restoring
    // 1's content), which it applied; its older report comes in a later batch, seen later, from
    // the request it had given up to send the newer one.
    await sendBatch([{ ...sighting(key, "host", 1, { applied: 1 }), seenAt: at }]);
    await sendBatch([{ ...sighting(key, "host", 3, { previous: 1, applied: 3 }), seenAt: at + 10 }]);
    await sendBatch([{ ...sighting(key, "host", 3, { applied: 1 }), seenAt: at + 50 }]);
    const view = await fleetOf(key);
    expect(view.versions).toEqual([{ version: 3, clients: 1, applied: 1, rejected: 0 }]);
  });

  it("keeps a client id with the read-token subject it was first seen with", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 });
    await sendBatch([sighting(key, "host-1", 2, { applied: 2, subject: "team-a" })]);
    // Another token's holder sends the same id, claiming v1 and a rejection: not stored.
    await sendBatch([sighting(key, "host-1", 1, { previous: 2, rejected: 2, subject: "team-b" })]);
    const view = await fleetOf(key);
    expect(view.versions).toEqual([{ version: 2, clients: 1, applied: 1, rejected: 0 }]);
  });

  it("reports per cohort during a rollout: the candidate's cohort and the stable rest", async () => {
    const { key } = await gatedRollout("100");
    const rollout = await rolloutOf(key);
    expect(rollout.state).toBe("running");
    await sendBatch([sighting(key, "a", 2, { applied: 2 }), sighting(key, "b", 2, { rejected: 2 })]);
    const view = await fleetOf(key);
    expect(view.rollout?.cohorts.candidate).toMatchObject({ clients: 2, applied: 1, rejected: 1 });
    expect(view.rollout?.cohorts.stable).toMatchObject({ clients: 0 });
  });
});

describe("FleetStore bounds", () => {
  it("caps rows per key: a new client past MAX_CLIENTS_PER_KEY is refused unless an idle row makes room", async () => {
    const namespace = freshNamespace();
    const key = `${namespace}/svc/flags`;
    await publishOk(key, { v: 1 });
    const now = Date.now();
    // Fill the key to the cap in SQL (shard 0, where colo AMS lands), one row idle for 10 minutes.
    await runInDurableObject(fleetStub(namespace), (_, state) => {
      state.storage.sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO last_seen (key, client_id, version, seen_at, colo, bucket)
         SELECT ?, 'filler-' || i, 1, CASE WHEN i = 1 THEN ? ELSE ? END, 'AMS', 0 FROM n`,
        MAX_CLIENTS_PER_KEY,
        key,
        now - 10 * 60_000,
        now,
      );
      state.storage.sql.exec(
        "INSERT INTO key_clients (key, clients) VALUES (?, ?)",
        key,
        MAX_CLIENTS_PER_KEY,
      );
    });
    const outcome = (sightings: unknown[]) =>
      runInDurableObject(fleetStub(namespace), (store) => store.record(sightings as FleetSighting[]));
    // The idle row makes room for one newcomer; the next is refused; a known client still updates.
    expect(await outcome([sighting(key, "new-1", 1)])).toMatchObject({ stored: 1, refused: 0 });
    expect(await outcome([sighting(key, "new-2", 1)])).toMatchObject({ stored: 0, refused: 1 });
    expect(await outcome([sighting(key, "filler-2", 1)])).toMatchObject({ stored: 1, refused: 0 });
    const view = await fleetOf(key);
    expect(view.clients).toBe(MAX_CLIENTS_PER_KEY);
  }, 30_000);
});

describe("health-gated rollouts", () => {
  it("aborts by itself within 15 s once the candidate's rejected share crosses max-rejected", async () => {
    const { namespace, key } = await gatedRollout("30; max-rejected=10; min-clients=5");
    const crossedAt = Date.now();
    // 10 candidate clients report: 4 rejected (40%), above 10% among ≥ 5 reporting. AMS and SJC
    // land in different FleetStore shards: the gate sums them.
    await sendBatch(
      Array.from({ length: 10 }, (_, i) =>
        sighting(
          key,
          `host-${i}`,
          2,
          i < 4 ? { applied: 1, previous: 1, rejected: 2, reason: "hook exit 1" } : { applied: 2 },
          i % 2 === 0 ? "AMS" : "SJC",
        ),
      ),
    );
    let rollout = await rolloutOf(key);
    while (rollout.state === "running" && Date.now() - crossedAt < 15_000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      rollout = await rolloutOf(key);
    }
    expect(rollout.state, "aborted by the gate within 15 s").toBe("aborted");
    expect(rollout.endedBy).toBe("fleetconf:health-gate");
    expect(rollout.autoAbort).toMatchObject({
      trigger: "health-gate",
      reporting: 10,
      rejected: 4,
      rejectedPercent: 40,
      maxRejected: 10,
      minClients: 5,
      reasons: [{ reason: "hook exit 1", clients: 4 }],
    });
    // Abort as today: the stable content as a new version above the candidate.
    const live = await call("GET", `/v1/configs/${key}`);
    expect(live.headers.get("Config-Version")).toBe("3");
    expect(await live.json()).toEqual({ mode: "stable" });
    const audit = await call("GET", `/v1/audit?namespace=${namespace}&key=${encodeURIComponent(key)}`);
    const entries = ((await audit.json()) as { entries: Record<string, unknown>[] }).entries;
    const abort = entries.find((e) => e.action === "rollout_abort");
    expect(abort).toMatchObject({ actor: "fleetconf:health-gate" });
    expect(JSON.stringify(abort)).toContain("rejectedPercent");
    expect(String(abort?.message)).toContain("4 of 10 reporting clients (40%)");
  }, 20_000);

  it("does not abort while fewer than min-clients report, however many of them reject", async () => {
    const { namespace, key } = await gatedRollout("30; max-rejected=10; min-clients=5");
    await sendBatch(Array.from({ length: 4 }, (_, i) => sighting(key, `h${i}`, 2, { rejected: 2 })));
    const results = await runInDurableObject(fleetStub(namespace), (store) => store.checkGates(Date.now()));
    expect(results).toEqual([expect.objectContaining({ key, tripped: false })]);
    expect((await rolloutOf(key)).state).toBe("running");
  });

  it("counts a host that applied the candidate, then failed on it, as rejecting it", async () => {
    const { namespace, key } = await gatedRollout("30; max-rejected=10; min-clients=5");
    await sendBatch(
      Array.from({ length: 5 }, (_, i) =>
        sighting(key, `h${i}`, 2, i < 2 ? { applied: 2, rejected: 2 } : { applied: 2 }),
      ),
    );
    const results = await runInDurableObject(fleetStub(namespace), (store) => store.checkGates(Date.now()));
    expect(results).toEqual([
      expect.objectContaining({
        key,
        tripped: true,
        figures: expect.objectContaining({ reporting: 5, rejected: 2 }),
      }),
    ]);
    expect((await rolloutOf(key)).state).toBe("aborted");
  });

  it("does not abort at or below max-rejected", async () => {
    const { namespace, key } = await gatedRollout("30; max-rejected=20; min-clients=5");
    await sendBatch(
      Array.from({ length: 10 }, (_, i) =>
        sighting(key, `h${i}`, 2, i < 2 ? { rejected: 2 } : { applied: 2 }),
      ),
    );
    expect(await runDurableObjectAlarm(fleetStub(namespace))).toBe(true);
    expect((await rolloutOf(key)).state).toBe("running");
  });

  it("checks watched gates every GATE_CHECK_MS by alarm", async () => {
    const { namespace } = await gatedRollout("30; max-rejected=10");
    const alarm = await runInDurableObject(fleetStub(namespace), (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect((alarm ?? 0) - Date.now()).toBeLessThanOrEqual(GATE_CHECK_MS);
  });

  it.each([
    ["completed", "complete"],
    ["aborted by hand", "abort"],
  ])("stops watching a gate once its rollout is %s: no gate left, the 5 s alarm ends", async (_, how) => {
    const { namespace, key } = await gatedRollout("30; max-rejected=10");
    const gatesLeft = () =>
      runInDurableObject(
        fleetStub(namespace),
        (_store, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM gates").one().n,
      );
    expect(await gatesLeft()).toBe(1);
    const res = await call("POST", `/v1/configs/${key}/${ROLLOUT}/${how}`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await gatesLeft()).toBe(0);
    // The alarm that was checking the gate runs once more and is not set again (no sightings).
    await runDurableObjectAlarm(fleetStub(namespace));
    expect(
      await runInDurableObject(fleetStub(namespace), (_s, state) => state.storage.getAlarm()),
    ).toBeNull();
  });

  it("stops watching a gate once an external alarm aborted its rollout", async () => {
    const { namespace, key } = await gatedRollout("30; max-rejected=10");
    const res = await call("POST", `/v1/configs/${key}/${ROLLOUT}/alarm`, {
      token: await adminToken(`alarm:${namespace}`),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const left = await runInDurableObject(
      fleetStub(namespace),
      (_store, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM gates").one().n,
    );
    expect(left).toBe(0);
  });

  it("refuses to complete before bake seconds have passed (409), and says until when", async () => {
    const { key } = await gatedRollout("100; bake=600");
    const res = await call("POST", `/v1/configs/${key}/${ROLLOUT}/complete`);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { detail: string }).detail).toContain("bake=600s");
    expect((await rolloutOf(key)).gates).toMatchObject({ bakeSeconds: 600, maxRejected: null });
  });

  it("keeps checking the gate once a linear rollout serves everyone, while it bakes, and aborts an unhealthy one", async () => {
    const { namespace, key } = await gatedRollout(
      "linear; start=50; step=50; every=1; max-rejected=10; min-clients=2; bake=600",
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await rolloutOf(key)).toMatchObject({ state: "running", share: 100 });
    const early = await call("POST", `/v1/configs/${key}/${ROLLOUT}/complete`);
    expect(early.status, "still baking at 100%").toBe(409);
    await sendBatch([
      sighting(key, "h1", 2, { applied: 2 }),
      sighting(key, "h2", 2, { previous: 1, rejected: 2, reason: "p99 up" }),
    ]);
    expect(await runDurableObjectAlarm(fleetStub(namespace))).toBe(true);
    const rollout = await rolloutOf(key);
    expect(rollout).toMatchObject({ state: "aborted", endedBy: "fleetconf:health-gate", resultVersion: 3 });
    expect(rollout.autoAbort).toMatchObject({ reporting: 2, rejected: 1, rejectedPercent: 50 });
  });

  it.each([
    ["max-rejected above 100", "30; max-rejected=101"],
    ["min-clients without max-rejected", "30; min-clients=5"],
    ["min-clients 0", "30; max-rejected=5; min-clients=0"],
    ["a negative bake", "30; bake=-1"],
    ["an unknown parameter", "30; max-rejectd=5"],
  ])("refuses Config-Rollout with %s (400) and publishes nothing", async (_what, header) => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    const res = await publish(key, { v: 2 }, { headers: { "Config-Rollout": header } });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await call("GET", `/v1/configs/${key}`)).headers.get("Config-Version")).toBe("1");
  });
});

describe("POST /v1/configs/{key}/-/rollout/alarm", () => {
  it("stops the running rollout with only alarm:{namespace}, recording the alarm and the figures", async () => {
    const { namespace, key } = await gatedRollout("30");
    await sendBatch([
      sighting(key, "h1", 2, { applied: 2 }),
      sighting(key, "h2", 2, { previous: 1, rejected: 2 }),
    ]);
    const token = await adminToken(`alarm:${namespace}`, { sub: "cloudwatch" });
    const res = await call("POST", `/v1/configs/${key}/-/rollout/alarm`, {
      token,
      json: { name: "p99-latency", detail: "p99 above 800 ms for 3 minutes" },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("Config-Version")).toBe("3");
    const body = (await res.json()) as { state: string; autoAbort: Record<string, unknown> };
    expect(body.state).toBe("aborted");
    expect(body.autoAbort).toMatchObject({
      trigger: "alarm",
      alarm: { name: "p99-latency", detail: "p99 above 800 ms for 3 minutes" },
      reporting: 2,
      rejected: 1,
    });
    expect(await (await call("GET", `/v1/configs/${key}`)).json()).toEqual({ mode: "stable" });
  });

  it("takes a bare POST as an alarm named external", async () => {
    const { namespace, key } = await gatedRollout("30");
    const token = await adminToken(`alarm:${namespace}`);
    const res = await call("POST", `/v1/configs/${key}/-/rollout/alarm`, { token });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { autoAbort: { alarm: { name: string } } }).autoAbort.alarm.name).toBe(
      "external",
    );
  });

  it("answers 409 when no rollout is running, and changes nothing", async () => {
    const key = `${freshNamespace()}/svc/flags`;
    await publishOk(key, { v: 1 });
    const res = await call("POST", `/v1/configs/${key}/-/rollout/alarm`);
    expect(res.status).toBe(409);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    expect((await call("GET", `/v1/configs/${key}`)).headers.get("Config-Version")).toBe("1");
  });

  it.each([
    ["another namespace's alarm scope", (ns: string) => `alarm:${ns}x`],
    ["a read scope", (ns: string) => `read:${ns}`],
  ])("refuses %s (403) and leaves the rollout running", async (_what, scopeOf) => {
    const { namespace, key } = await gatedRollout("30");
    const res = await call("POST", `/v1/configs/${key}/-/rollout/alarm`, {
      token: await adminToken(scopeOf(namespace)),
    });
    expect(res.status).toBe(403);
    expect((await rolloutOf(key)).state).toBe("running");
  });

  it("gives an alarm token nothing else: publishing with it is 403", async () => {
    const { namespace, key } = await gatedRollout("30");
    const token = await adminToken(`alarm:${namespace}`);
    expect((await publish(`${namespace}/svc/other`, { v: 1 }, { token })).status).toBe(403);
    expect((await call("POST", `/v1/configs/${key}/rollout/abort`, { token })).status).toBe(403);
  });

  it.each([
    ["a name with a newline", { name: "a\nb" }],
    ["an unknown member", { severity: "high" }],
    ["a long detail", { detail: "x".repeat(501) }],
  ])("refuses a body with %s (400)", async (_what, json) => {
    const { key } = await gatedRollout("30");
    const res = await call("POST", `/v1/configs/${key}/-/rollout/alarm`, { json });
    expect(res.status).toBe(400);
    expect((await rolloutOf(key)).state).toBe("running");
  });
});
