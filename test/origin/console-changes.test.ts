/**
 * The console's change-request page (four-eyes) inside workerd: a second admin sees a pending
 * request and approves it; the author's own approval is refused as the API refuses it; a reject
 * carries its reason; a post without the session's CSRF token changes nothing.
 */
import { describe, expect, it } from "vitest";
import { AUTHOR, gatedNamespace, heldOf, requestOf, tokenOf } from "./approvals-support";
import { page, postAs, signIn } from "./console-support";
import { call, publish } from "./support/origin";

async function heldPublish(ns: string) {
  return heldOf(await publish(`${ns}/app/x`, { a: 1 }, { token: await tokenOf(AUTHOR) }));
}

describe("console change requests", { timeout: 20_000 }, () => {
  it("lists a pending request and approves it as another admin", async () => {
    const ns = await gatedNamespace();
    const held = await heldPublish(ns);
    const reviewer = await signIn("admin", "bob");
    const list = await page(`/console/namespaces/${ns}/changes`, reviewer);
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain(`data-testid="change-request-${held.id}"`);
    expect(html).toContain(AUTHOR);
    const approved = await postAs(reviewer, `/console/namespaces/${ns}/changes/${held.id}/approve`, {});
    expect(approved.status).toBe(303);
    expect(decodeURIComponent(approved.headers.get("Location") ?? "")).toContain(
      `Approved ${ns}/${held.id} as v1`,
    );
    expect((await call("GET", `/v1/configs/${ns}/app/x`)).status).toBe(200);
    const after = await (await page(`/console/namespaces/${ns}/changes`, reviewer)).text();
    expect(after).toContain('data-testid="no-change-requests"');
  });

  it("refuses the author's own approval (403) and records a reject's reason", async () => {
    const ns = await gatedNamespace();
    const held = await heldPublish(ns);
    const author = await signIn("admin", AUTHOR);
    const own = await postAs(author, `/console/namespaces/${ns}/changes/${held.id}/approve`, {});
    expect(own.status).toBe(403);
    expect(await own.text()).toContain("another admin");
    const rejected = await postAs(author, `/console/namespaces/${ns}/changes/${held.id}/reject`, {
      reason: "withdrawn",
    });
    expect(rejected.status).toBe(303);
    expect((await requestOf(ns, held.id)).changeRequest).toMatchObject({
      state: "rejected",
      reason: "withdrawn",
    });
  });

  it("changes nothing on a post without the session's CSRF token", async () => {
    const ns = await gatedNamespace();
    const held = await heldPublish(ns);
    const reviewer = await signIn("admin", "bob");
    const forged = await postAs(
      { ...reviewer, csrf: "forged" },
      `/console/namespaces/${ns}/changes/${held.id}/approve`,
      {},
    );
    expect(forged.status).toBe(403);
    expect((await requestOf(ns, held.id)).changeRequest.state).toBe("pending");
  });
});
