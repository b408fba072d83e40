/**
 * The web console inside workerd, against the real origin (its Durable Objects, KV and the edge
 * beside it): sign-in and its cookie, the security headers, CSRF refusals, escaping of hostile
 * content, and that the console has exactly the rights of the token behind it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { worker } from "../support/workerd";
import { type Browser, cookieOf, page, postAs, postForm, SAME_ORIGIN, signIn } from "./console-support";
import { adminToken, call, freshNamespace, ORIGIN, publishOk } from "./support/origin";

async function currentVersion(key: string): Promise<number> {
  const res = await call("GET", `/v1/configs/${key}`);
  return Number(res.headers.get("Config-Version"));
}

// The isolate's first request builds the whole app (every declared route); on a loaded 2-CPU
// machine that alone can take seconds, which is not what these tests measure.
beforeAll(async () => {
  await page("/console/sign-in", null);
}, 60_000);

describe("console sign-in", () => {
  it("redirects a signed-out browser to sign-in and answers 401 problem+json to a non-browser", async () => {
    const res = await page("/console/status", null);
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/console/sign-in?next=%2Fconsole%2Fstatus");
    const api = await page("/console/status", null, { Accept: "application/json" });
    expect(api.status).toBe(401);
    expect(api.headers.get("Content-Type")).toBe("application/problem+json");
  });

  it("keeps the token in an HttpOnly, Secure, SameSite=Strict cookie scoped to /console, never in the URL", async () => {
    const token = await adminToken("admin", { ttlSeconds: 600 });
    const res = await postForm("/console/sign-in", { token, next: "/console/audit" }, SAME_ORIGIN);
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toBe("/console/audit");
    const set = res.headers.get("Set-Cookie") ?? "";
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; SameSite=Strict/);
    expect(set).toMatch(/; Path=\/console(;|$)/);
    const maxAge = Number(/Max-Age=(\d+)/.exec(set)?.[1]);
    expect(maxAge).toBeGreaterThan(500);
    expect(maxAge).toBeLessThanOrEqual(600);
    expect(res.headers.get("Location")).not.toContain(token);
  });

  it("refuses a bad token with 401 and sets no cookie", async () => {
    const res = await postForm("/console/sign-in", { token: "not-a-jwt" }, SAME_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(await res.text()).toContain("Sign-in failed");
  });

  it("refuses a cross-site sign-in post (login CSRF)", async () => {
    const token = await adminToken();
    const res = await postForm(
      "/console/sign-in",
      { token },
      { Origin: "https://evil.test", "Sec-Fetch-Site": "cross-site" },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("Set-Cookie")).toBeNull();
  });

  it("does not redirect after sign-in to another site (no open redirect)", async () => {
    const token = await adminToken();
    const res = await postForm("/console/sign-in", { token, next: "https://evil.test/x" }, SAME_ORIGIN);
    expect(res.headers.get("Location")).toBe("/console");
    const slashes = await postForm("/console/sign-in", { token, next: "//evil.test/x" }, SAME_ORIGIN);
    expect(slashes.headers.get("Location")).toBe("/console");
  });

  it("signs out: the cookie is cleared and the next page asks to sign in", async () => {
    const browser = await signIn();
    const res = await postAs(browser, "/console/sign-out", {});
    expect(res.status).toBe(303);
    const set = res.headers.get("Set-Cookie") ?? "";
    expect(set).toMatch(/fleetconf_console=;/);
    expect(set).toMatch(/Max-Age=0/);
    // The cleared cookie carries no session.
    const after = await page("/console", { cookie: cookieOf(res), csrf: "" });
    expect(after.status).toBe(303);
  });

  it("drops a session whose token no longer verifies", async () => {
    const res = await page("/console", {
      cookie: "fleetconf_console=AAAAAAAAAAAAAAAAAAAAAAAA.bad.token.here",
      csrf: "",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("Location")).toMatch(/^\/console\/sign-in/);
  });
});

describe("console security headers", () => {
  it("sends a strict CSP with a fresh nonce per response, nosniff, no-referrer and no-store", async () => {
    const browser = await signIn();
    const one = await page("/console", browser);
    const two = await page("/console", browser);
    expect(one.status).toBe(200);
    const csp = one.headers.get("Content-Security-Policy") ?? "";
    for (const directive of [
      "default-src 'none'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "form-action 'self'",
      "base-uri 'none'",
    ]) {
      expect(csp).toContain(directive);
    }
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).not.toContain("unsafe-inline");
    expect(two.headers.get("Content-Security-Policy")).not.toBe(csp);
    expect(one.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(one.headers.get("Referrer-Policy")).toBe("no-referrer");
    expect(one.headers.get("Cache-Control")).toBe("no-store");
    expect(one.headers.get("X-Frame-Options")).toBe("DENY");
  });

  it("serves the stylesheet under a hashed name with a year-long immutable cache", async () => {
    const html = await (await page("/console/sign-in", null)).text();
    const href = /href="(\/console\/assets\/console-[A-Za-z0-9_-]{12}\.css)"/.exec(html)?.[1] ?? "";
    expect(href).not.toBe("");
    const css = await page(href, null);
    expect(css.status).toBe(200);
    expect(css.headers.get("Content-Type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect((await page("/console/assets/console-AAAAAAAAAAAA.css", null)).status).toBe(404);
  });
});

describe("console pages over the admin API", () => {
  it("lists namespaces with visibility, cache numbers, key count and the last change", async () => {
    const ns = freshNamespace("cons");
    await publishOk(`${ns}/app/flags`, { a: 1 });
    await publishOk(`${ns}/app/limits`, { rps: 5 });
    await call("PUT", `/v1/namespaces/${ns}`, { json: { visibility: "public", maxAge: 7 } });
    const html = await (await page("/console", await signIn())).text();
    const card = html.slice(html.indexOf(`id="ns-${ns}"`));
    expect(card).toContain('class="badge public"');
    expect(card).toContain("max-age=7, stale-while-revalidate=30");
    expect(card).toMatch(/data-testid="key-count">2</);
    expect(card).toContain(`${ns}/app/limits`);
  });

  it("shows a key's current version, history with authors and messages, and a diff of two versions", async () => {
    const ns = freshNamespace("cons");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { rps: 100, regions: ["eu"] }, { headers: { "Config-Message": "first" } });
    await publishOk(
      key,
      { rps: 250, regions: ["eu", "apac"] },
      { headers: { "Config-Message": "raise rps" } },
    );
    const browser = await signIn();
    const html = await (await page(`/console/keys/${key}`, browser)).text();
    expect(html).toContain('data-testid="current-version">v2<');
    expect(html).toContain("raise rps");
    expect(html).toContain("tester");
    const diff = await page(`/console/keys/${key}/-/diff?from=1&to=2`, browser);
    expect(diff.status).toBe(200);
    const text = await diff.text();
    expect(text).toContain("<code>/rps</code>");
    expect(text).toContain("<code>250</code>");
    expect(text).toContain("/regions/1");
  });

  it("rolls back only after the confirmation form is posted with the session's CSRF token", async () => {
    const ns = freshNamespace("cons");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { good: true });
    await publishOk(key, { good: false });
    const browser = await signIn();
    const confirm = await page(`/console/keys/${key}/-/rollback?to=1`, browser);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain("Roll back to v1");
    expect(await currentVersion(key)).toBe(2);
    const done = await postAs(browser, `/console/keys/${key}/-/rollback`, { to: "1", message: "bad flags" });
    expect(done.status).toBe(303);
    expect(await currentVersion(key)).toBe(3);
  });

  it("draws the rollout page with its chart and aborts it from the console", async () => {
    const ns = freshNamespace("cons");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 }, { headers: { "Config-Rollout": "linear; start=10; step=10; every=60" } });
    const browser = await signIn();
    const res = await page(`/console/keys/${key}/-/rollout`, browser);
    const html = await res.text();
    expect(html).toContain('data-testid="rollout-state">running<');
    expect(html).toContain('data-testid="convergence-chart"');
    expect(html).toContain('data-target-share="10"');
    // The one script carries this response's nonce.
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get("Content-Security-Policy") ?? "")?.[1];
    expect(html).toContain(`<script nonce="${nonce}" src="/console/assets/live-`);
    const live = await (await page(`/console/keys/${key}/-/rollout/live`, browser)).text();
    expect(live.startsWith("<div")).toBe(true);
    expect(live).not.toContain('data-testid="fleet-trail"');
    // The live script sends back the fleet shares it saw; the server draws them as a line.
    // Points before the rollout started are not drawn: wait until two whole seconds lie after it.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const now = Math.floor(Date.now() / 1000);
    const trail = `${now - 1}:0,${now}:5.5`;
    const drawn = await page(`/console/keys/${key}/-/rollout/live?trail=${trail}`, browser);
    expect(drawn.status).toBe(200);
    expect(await drawn.text()).toMatch(/<polyline class="fleet-line" points="[^"]+"/);
    for (const bad of ["x", "1:101", `${now}:5,`, Array.from({ length: 121 }, () => `${now}:1`).join(",")]) {
      const refused = await page(`/console/keys/${key}/-/rollout/live?trail=${bad}`, browser, {
        Accept: "*/*",
      });
      expect(refused.status).toBe(400);
      expect(refused.headers.get("Content-Type")).toBe("application/problem+json");
    }
    const abort = await postAs(browser, `/console/keys/${key}/-/rollout/abort`, { message: "stop" });
    expect(abort.status).toBe(303);
    const after = await (await page(`/console/keys/${key}/-/rollout`, browser)).text();
    expect(after).toContain('data-testid="rollout-state">aborted<');
  });

  it("shows a rollout's ring on the rollout page, and everywhere without one", async () => {
    const ns = freshNamespace("cons");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { v: 1 });
    await publishOk(key, { v: 2 }, { headers: { "Config-Rollout": '100; colos="AMS"; continents="EU"' } });
    const browser = await signIn();
    const html = await (await page(`/console/keys/${key}/-/rollout`, browser)).text();
    expect(html).toMatch(/data-testid="rollout-ring">Ring: <strong>colos=AMS; continents=EU<\/strong>/);
    const plain = `${ns}/svc/other`;
    await publishOk(plain, { v: 1 });
    await publishOk(plain, { v: 2 }, { headers: { "Config-Rollout": "30" } });
    const everywhere = await (await page(`/console/keys/${plain}/-/rollout`, browser)).text();
    expect(everywhere).toContain("Ring: everywhere");
  });

  it("shows pending distribution and the audit log with filters", async () => {
    const ns = freshNamespace("cons");
    await publishOk(`${ns}/a/b`, { x: 1 }, { headers: { "Config-Message": "audited change" } });
    const browser = await signIn();
    const status = await page("/console/status", browser);
    expect(status.status).toBe(200);
    expect(await status.text()).toContain("Pending distribution");
    const audit = await (await page(`/console/audit?namespace=${ns}&action=publish`, browser)).text();
    expect(audit).toContain("audited change");
    const none = await (await page(`/console/audit?namespace=${ns}&action=rollback`, browser)).text();
    expect(none).not.toContain("audited change");
  });
});

describe("console CSRF protection", () => {
  async function setup(): Promise<{ key: string; browser: Browser }> {
    const key = `${freshNamespace("csrf")}/svc/flags`;
    await publishOk(key, { n: 1 });
    await publishOk(key, { n: 2 });
    return { key, browser: await signIn() };
  }

  it("refuses a cross-site form post even with the right CSRF token", async () => {
    const { key, browser } = await setup();
    const res = await postAs(
      browser,
      `/console/keys/${key}/-/rollback`,
      { to: "1" },
      {
        Origin: "https://evil.test",
        "Sec-Fetch-Site": "cross-site",
      },
    );
    expect(res.status).toBe(403);
    // A refusal is a console page too: the same headers.
    expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("<h1>Cross-site request refused</h1>");
    expect(html).not.toContain("Token scope");
    expect(await currentVersion(key)).toBe(2);
  });

  it("refuses a post without Sec-Fetch-Site whose Origin is another site, or with neither header", async () => {
    const { key, browser } = await setup();
    const foreign = await postAs(
      browser,
      `/console/keys/${key}/-/rollback`,
      { to: "1" },
      { Origin: "https://evil.test" },
    );
    expect(foreign.status).toBe(403);
    const bare = await postAs(browser, `/console/keys/${key}/-/rollback`, { to: "1" }, {});
    expect(bare.status).toBe(403);
    expect(await currentVersion(key)).toBe(2);
  });

  it("refuses a same-origin post whose CSRF token is missing or from another session", async () => {
    const { key, browser } = await setup();
    const other = await signIn();
    const wrong = await postForm(
      `/console/keys/${key}/-/rollback`,
      { to: "1", csrf: other.csrf },
      { Cookie: browser.cookie, ...SAME_ORIGIN },
    );
    expect(wrong.status).toBe(403);
    const json = await postForm(
      `/console/keys/${key}/-/rollback`,
      { to: "1", csrf: other.csrf },
      { Cookie: browser.cookie, ...SAME_ORIGIN, Accept: "application/json" },
    );
    expect(json.status).toBe(403);
    expect(await json.json()).toMatchObject({ code: "forbidden", reason: "csrf" });
    const missing = await postForm(
      `/console/keys/${key}/-/rollback`,
      { to: "1" },
      { Cookie: browser.cookie, ...SAME_ORIGIN },
    );
    expect(missing.status).toBe(403);
    expect(await currentVersion(key)).toBe(2);
  });
});

describe("console form bodies", () => {
  it("refuses a form that is not urlencoded (415) or larger than 16 KiB (413)", async () => {
    const browser = await signIn();
    const json = await worker.fetch(`${ORIGIN}/console/sign-out`, {
      method: "POST",
      headers: { ...SAME_ORIGIN, Cookie: browser.cookie, Accept: "*/*", "Content-Type": "application/json" },
      body: JSON.stringify({ csrf: browser.csrf }),
    });
    expect(json.status).toBe(415);
    expect(json.headers.get("Content-Type")).toBe("application/problem+json");
    const big = await postAs(browser, "/console/sign-out", { pad: "x".repeat(17 * 1024) });
    expect(big.status).toBe(413);
    // Neither ended the session.
    expect((await page("/console/status", browser)).status).toBe(200);
  });
});

describe("console escaping", () => {
  it("renders script in config content, messages and authors as text", async () => {
    const ns = freshNamespace("xss");
    const key = `${ns}/svc/flags`;
    const payload = `<script>alert("content")</script>`;
    await publishOk(key, { html: payload, "</pre><img src=x onerror=alert(1)>": 1 });
    await publishOk(
      key,
      { html: "ok" },
      {
        headers: { "Config-Message": `<img src=x onerror=alert("message")>` },
        token: await adminToken("admin", { sub: `<script>alert("author")</script>` }),
      },
    );
    const browser = await signIn();
    for (const path of [
      `/console/keys/${key}`,
      `/console/keys/${key}/-/diff?from=1&to=2`,
      `/console/keys/${key}/-/versions/1`,
    ]) {
      const html = await (await page(path, browser)).text();
      expect(html).not.toMatch(/<script>alert/);
      expect(html).not.toMatch(/<img src=x/);
      expect(html).toMatch(/&lt;(script|img)/);
    }
    const audit = await (await page(`/console/audit?namespace=${ns}`, browser)).text();
    expect(audit).toContain("&lt;img src=x onerror=alert(&quot;message&quot;)&gt;");
    expect(audit).not.toMatch(/<img src=x/);
  });

  it("escapes what an error page repeats from the request", async () => {
    const browser = await signIn();
    const res = await page(`/console/audit?key=${encodeURIComponent("<script>x</script>/a")}`, browser);
    const html = await res.text();
    expect(html).not.toContain("<script>x</script>");
  });
});

describe("console rights are the token's rights", () => {
  it("lets a read token look but not roll back, with the API's own 403", async () => {
    const ns = freshNamespace("rights");
    const key = `${ns}/svc/flags`;
    await publishOk(key, { n: 1 });
    await publishOk(key, { n: 2 });
    const reader = await signIn(`read:${ns}`, "reader");
    expect((await page(`/console/keys/${key}`, reader)).status).toBe(200);
    const res = await postAs(reader, `/console/keys/${key}/-/rollback`, { to: "1" });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain(`publish:${ns}`);
    expect(await currentVersion(key)).toBe(2);
  });

  it("shows a scoped token only its namespaces and refuses others with 403", async () => {
    const mine = freshNamespace("rights");
    const theirs = freshNamespace("rights");
    await publishOk(`${mine}/a/b`, { n: 1 });
    await publishOk(`${theirs}/a/b`, { n: 1 });
    const browser = await signIn(`publish:${mine}`, "scoped");
    const html = await (await page("/console", browser)).text();
    expect(html).toContain(`id="ns-${mine}"`);
    expect(html).not.toContain(`id="ns-${theirs}"`);
    expect((await page(`/console/keys/${theirs}/a/b`, browser)).status).toBe(403);
    const status = await page("/console/status", browser);
    expect(status.status).toBe(200);
    const text = await status.text();
    expect(text).toContain(`${mine}: 0 consecutive`);
    expect(text).not.toContain(theirs);
  });
});
