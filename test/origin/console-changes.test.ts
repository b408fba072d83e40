/**
 * The console's change-request page (four-eyes) inside workerd: a second admin sees a pending
 * request and approves it; the author's own approval is refused as the API refuses it; a reject
 * carries its reason; a post without the session's CSRF token changes nothing.
 */
import { describe, expect, it } from "vitest";
import { AUTHOR, gatedNamespace, heldOf, requestOf, tokenOf, turnOn } from "./approvals-support";
import { page, postAs, signIn } from "./console-support";
import { call, freshNamespace, publish, publishOk } from "./support/origin";

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

  it("shows a request for review: the whole document of a new key, the rollout a start would start", async () => {
    const ns = freshNamespace();
    await publishOk(`${ns}/app/live`, { limit: 1 });
    await turnOn(ns);
    const create = await heldOf(
      await publish(`${ns}/app/new`, { limit: 7 }, { token: await tokenOf(AUTHOR) }),
    );
    const start = await heldOf(
      await publish(
        `${ns}/app/live`,
        { limit: 2 },
        {
          token: await tokenOf(AUTHOR),
          headers: { "Config-Rollout": '100; colos="AMS"' },
        },
      ),
    );
    const reviewer = await signIn("admin", "bob");
    const list = await (await page(`/console/namespaces/${ns}/changes`, reviewer)).text();
    expect(list).toContain(`href="/console/namespaces/${ns}/changes/${create.id}"`);
    const review = await page(`/console/namespaces/${ns}/changes/${create.id}`, reviewer);
    expect(review.status).toBe(200);
    const html = await review.text();
    expect(html).toContain('data-testid="change-request-patch"');
    expect(html).toContain("{&quot;limit&quot;:7}");
    expect(html).toContain("no version (a new key)");
    expect(html).toContain(`/console/namespaces/${ns}/changes/${create.id}/approve`);
    const rollout = await (await page(`/console/namespaces/${ns}/changes/${start.id}`, reviewer)).text();
    expect(rollout).toMatch(/data-testid="change-request-rollout">[^<]*AMS/);
    expect(rollout).toContain("/limit");
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
