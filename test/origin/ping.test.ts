import { expect, it } from "vitest";
import { worker } from "../support/workerd";

it("reaches the DO, KV and the edge", async () => {
  const res = await worker.fetch("http://origin/ping");
  expect(await res.json()).toEqual({ dobj: "pong", edge: "hello" });
});
