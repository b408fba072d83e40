import { describe, expect, it } from "vitest";
import { worker } from "../support/workerd";

describe("GET /healthz", () => {
  it("answers with the build version", async () => {
    const res = await worker.fetch("http://edge/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, part: "edge" });
  });
});
