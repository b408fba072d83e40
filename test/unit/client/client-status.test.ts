/**
 * The SDK's side of `Config-Client-Status` (DESIGN §8): what the application reports with
 * reportApplied / reportRejected, and what the client itself rejects (a snapshot that fails
 * verification), rides on the next poll as an RFC 8941 dictionary, with no request of its own.
 */
import { describe, expect, it } from "vitest";
import { parseClientStatus } from "../../../core";
import { useSdkHarness } from "./support/sdk-harness";
import { flipByte, serveSnapshot, waitFor } from "./support/snapshot-server";

const KEY = "shop/prod/limits";
const harness = useSdkHarness(KEY);

function statusesSent(): (string | undefined)[] {
  return harness.server.requests.map((r) => {
    const value = r.headers["config-client-status"];
    return Array.isArray(value) ? value.join(", ") : value;
  });
}

describe("Config-Client-Status from the SDK", () => {
  it("sends nothing until the application reports, then what it reported on the next polls", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 3, { ok: true })));
    const { c } = harness.client({ intervalMs: 20 });
    await c.ready();
    expect(statusesSent()[0]).toBeUndefined();
    c.reportApplied();
    const before = harness.server.requests.length;
    await waitFor(() => harness.server.requests.length > before + 1, 5000, "two more polls");
    const sent = statusesSent().at(-1);
    expect(parseClientStatus(sent ?? "")).toEqual({ applied: 3, rejected: null, reason: null });
  });

  it("sends a rejection with its reason, and applying that version later clears it", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 4, { ok: true })));
    const { c } = harness.client({ intervalMs: 20 });
    await c.ready();
    c.reportRejected("reload failed: port in use");
    let count = harness.server.requests.length;
    await waitFor(() => harness.server.requests.length > count + 1, 5000, "two more polls");
    expect(parseClientStatus(statusesSent().at(-1) ?? "")).toEqual({
      applied: null,
      rejected: 4,
      reason: "reload failed: port in use",
    });
    c.reportApplied(4);
    count = harness.server.requests.length;
    await waitFor(() => harness.server.requests.length > count + 1, 5000, "two more polls");
    expect(parseClientStatus(statusesSent().at(-1) ?? "")).toEqual({
      applied: 4,
      rejected: null,
      reason: null,
    });
  });

  it("reports a snapshot that fails verification as rejected by itself", async () => {
    const good = await harness.signer.sign(KEY, 5, { ok: true });
    harness.server.handle(serveSnapshot(good));
    const { c } = harness.client({ intervalMs: 20 });
    await c.ready();
    c.reportApplied();
    const bad = await harness.signer.sign(KEY, 6, { ok: false });
    harness.server.handle(serveSnapshot(bad, { body: flipByte(bad.body) }));
    const count = harness.server.requests.length;
    await waitFor(() => harness.server.requests.length > count + 2, 5000, "three more polls");
    const status = parseClientStatus(statusesSent().at(-1) ?? "");
    expect(status).toMatchObject({ applied: 5, rejected: 6 });
    expect(status?.reason).toMatch(/digest|signature/);
    expect(c.current()?.version).toBe(5);
  });

  it("does not report an older version it refuses (version_rollback) as rejected: it never tried to apply it", async () => {
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 5, { ok: true })));
    const { c, errors } = harness.client({ intervalMs: 20 });
    await c.ready();
    c.reportApplied();
    // Out of a rollout's ring (or a replay): the stable v4 again, validly signed.
    harness.server.handle(serveSnapshot(await harness.signer.sign(KEY, 4, { ok: "stable" })));
    await waitFor(() => errors.some((e) => e.code === "version_rollback"), 5000, "the refusal");
    const count = harness.server.requests.length;
    await waitFor(() => harness.server.requests.length > count + 1, 5000, "two more polls");
    expect(parseClientStatus(statusesSent().at(-1) ?? "")).toEqual({
      applied: 5,
      rejected: null,
      reason: null,
    });
    expect(c.current()?.version).toBe(5);
  });
});
