/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser) against the shared `wrangler dev` stack. The on-call walk-through: sign in,
 * open the demo key, publish through the API and see the new version and the diff, start a
 * rollout while clients poll the edge and watch the convergence chart move, abort it, sign out.
 * Hostile content renders as text (no dialog fires), and a form posted from a page on another
 * port is refused. Screenshots of every page go to .build/console-screenshots/ (and, with
 * FLEETCONF_UPDATE_SCREENSHOTS=1, the rollout page to docs/images/console-rollout.png).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { copyFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEMO_KEY, seedDemo } from "../../scripts/lib/seed";
import { adminTokenFor, type OriginClient, originClient } from "./support/http";
import { REPO_ROOT } from "./support/stack";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(REPO_ROOT, ".build", "console-screenshots");
const stack = inject("stack");

let context: BrowserContext;
let page: Page;
let userDataDir: string;
let admin: OriginClient;
let token: string;
const dialogs: string[] = [];

async function shot(name: string, target: Page = page): Promise<string> {
  const path = join(SHOTS, `${name}.png`);
  await target.screenshot({ path, fullPage: true });
  return path;
}

/** Simulated services polling the edge with conditional GETs, as the SDK does; bounded. */
function startPollers(key: string, count: number, everyMs: number, maxMs: number) {
  const etags = new Map<string, string>();
  let running = true;
  const stopAt = Date.now() + maxMs;
  const loops = Array.from({ length: count }, async (_, i) => {
    const id = `console-e2e-${i}`;
    while (running && Date.now() < stopAt) {
      const headers: Record<string, string> = { "Config-Client-Id": id };
      const etag = etags.get(id);
      if (etag) headers["If-None-Match"] = etag;
      try {
        const res = await fetch(`${stack.edgeUrl}/v1/configs/${key}`, {
          headers,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        const next = res.headers.get("ETag");
        if (res.status === 200 && next) etags.set(id, next);
      } catch {
        // A slow answer on a loaded machine: poll again.
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

async function chartNumbers(): Promise<{ fleet: number | null; target: number | null }> {
  const chart = page.getByTestId("convergence-chart");
  const fleet = await chart.getAttribute("data-fleet-share");
  const target = await chart.getAttribute("data-target-share");
  return { fleet: fleet ? Number(fleet) : null, target: target ? Number(target) : null };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The console browser test needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does it). It never downloads a browser.`,
    );
  }
  mkdirSync(SHOTS, { recursive: true });
  userDataDir = mkdtempSync(join(tmpdir(), "fleetconf-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  token = await adminTokenFor(stack);
  admin = originClient(stack, token);
  const seeded = await seedDemo({ originUrl: stack.originUrl, edgeUrl: stack.edgeUrl, token, log: () => {} });
  expect(seeded.warnings).toEqual([]);
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe("the console in Chromium", () => {
  it("walks the on-call path: sign in, key, publish, diff, rollout chart, abort, sign out", async () => {
    const base = `${stack.originUrl}/console`;
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    // Keyboard: the first Tab reaches the skip link, the next the token field.
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement && document.activeElement.textContent")).toBe(
      "Skip to content",
    );
    await shot("01-sign-in");
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}`);
    expect(page.url()).not.toContain(token);
    const cookies = await context.cookies(`${stack.originUrl}/console`);
    const session = cookies.find((c) => c.name === "fleetconf_console");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/console" });
    expect(await page.evaluate("document.cookie")).toBe("");
    await expect.poll(() => page.locator("#ns-demo").isVisible()).toBe(true);
    await shot("02-namespaces");

    await page.getByRole("link", { name: "demo", exact: true }).click();
    await shot("03-namespace");
    await page.getByRole("link", { name: DEMO_KEY }).click();
    await expect.poll(() => page.getByTestId("current-version").textContent()).toBe("v1");
    await shot("04-key");

    const xssContent = `<img src=x onerror=alert(1)>`;
    const xssMessage = `<script>alert("message")</script> raise refresh`;
    const published = await admin.publish(
      DEMO_KEY,
      JSON.stringify({ greeting: xssContent, theme: "dark", refreshSeconds: 10 }),
      { "Config-Message": xssMessage },
    );
    expect(published.status).toBe(201);
    await page.reload();
    await expect.poll(() => page.getByTestId("current-version").textContent()).toBe("v2");
    await expect.poll(() => page.getByText(xssMessage).isVisible()).toBe(true);
    expect(await page.getByTestId("current-content").textContent()).toContain(xssContent);
    await page.getByRole("button", { name: "Show diff" }).click();
    await expect.poll(() => page.getByTestId("diff-summary").textContent()).toMatch(/^\d+ changes?\.$/);
    const patch = (await page.getByTestId("patch").textContent()) ?? "";
    expect(patch).toContain("/theme");
    expect(patch).toContain("/refreshSeconds");
    await shot("05-diff");

    await page.goto(`${base}/keys/${DEMO_KEY}/-/rollback?to=1`);
    await shot("06-rollback-confirm");

    // A rollout while 30 clients poll the edge; the page's script re-fetches the live fragment.
    const stopPollers = startPollers(DEMO_KEY, 30, 500, 100_000);
    try {
      await expect
        .poll(async () => (await admin.call("GET", `/v1/configs/${DEMO_KEY}/-/fleet?window=60`)).json, {
          timeout: 20_000,
        })
        .toMatchObject({ clients: 30 });
      const rollout = await admin.publish(DEMO_KEY, JSON.stringify({ greeting: "v3", theme: "dark" }), {
        "Config-Rollout": "linear; start=10; step=30; every=6",
        "Config-Message": "try the new greeting",
      });
      expect(rollout.status).toBe(201);
      await page.goto(`${base}/keys/${DEMO_KEY}/-/rollout`);
      expect(await page.getByTestId("rollout-state").textContent()).toBe("running");
      const first = await chartNumbers();
      // No reload: the chart moves because the live fragment is re-fetched and redrawn.
      await expect
        .poll(async () => (await chartNumbers()).fleet ?? 0, { timeout: 40_000, interval: 500 })
        .toBeGreaterThan(first.fleet ?? 0);
      await expect
        .poll(async () => (await chartNumbers()).target ?? 0, { timeout: 30_000, interval: 500 })
        .toBeGreaterThan(first.target ?? 0);
      // Two steps further (10 → 40 → 70 %) so the screenshot shows the rollout under way.
      await expect
        .poll(async () => (await chartNumbers()).target ?? 0, { timeout: 30_000, interval: 500 })
        .toBeGreaterThanOrEqual(70);
      await expect.poll(() => page.getByTestId("fleet-dot").count()).toBe(1);
      // The page sent back the shares it saw: the convergence so far is drawn as a line.
      await expect.poll(() => page.getByTestId("fleet-trail").count()).toBe(1);
      const rolloutShot = await shot("07-rollout");
      if (process.env.FLEETCONF_UPDATE_SCREENSHOTS === "1") {
        mkdirSync(join(REPO_ROOT, "docs", "images"), { recursive: true });
        await copyFile(rolloutShot, join(REPO_ROOT, "docs", "images", "console-rollout.png"));
      }
      await page.setViewportSize({ width: 390, height: 844 });
      await shot("08-rollout-phone");
      const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      expect(Number(overflow)).toBeLessThanOrEqual(0);
      await page.setViewportSize({ width: 1280, height: 900 });

      await page.getByTestId("abort").click();
      await expect.poll(() => page.getByTestId("rollout-state").textContent()).toBe("aborted");
      await expect.poll(() => page.getByRole("status").textContent()).toContain("Rollout aborted");
      await shot("09-rollout-aborted");
    } finally {
      await stopPollers();
    }

    await page.goto(`${base}/status`);
    await shot("10-status");
    await page.goto(`${base}/audit?key=${encodeURIComponent(DEMO_KEY)}`);
    await expect.poll(() => page.getByText(xssMessage).first().isVisible()).toBe(true);
    await shot("11-audit");

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/sign-in`);
    await page.goto(base);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    expect(
      (await context.cookies(`${stack.originUrl}/console`)).find((c) => c.name === "fleetconf_console"),
    ).toBeUndefined();
    expect(dialogs).toEqual([]);
  });

  it("shows script in key filters, content and messages as text and never runs it", async () => {
    await page.goto(`${stack.originUrl}/console/sign-in`);
    await page.getByLabel("Admin token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${stack.originUrl}/console`);
    // A key name cannot hold markup (DESIGN §2), so the hostile "key" is a filter the API refuses.
    const hostileKey = `<img src=x onerror=alert("key")>/x`;
    await page.goto(`${stack.originUrl}/console/audit?key=${encodeURIComponent(hostileKey)}`);
    expect(await page.getByLabel("Key").inputValue()).toBe(hostileKey);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("400");
    const key = "demo/web/hostile";
    const content = `<img src=x onerror=alert(1)>`;
    const message = `<script>alert("message")</script>`;
    expect(
      (await admin.publish(key, JSON.stringify({ html: content }), { "Config-Message": message })).status,
    ).toBe(201);
    await page.goto(`${stack.originUrl}/console/keys/${key}`);
    await expect.poll(() => page.getByText(message).isVisible()).toBe(true);
    expect(await page.getByTestId("current-content").textContent()).toContain(content);
    await shot("12-xss-as-text");
    expect(await page.locator("img").count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("refuses a form posted to the console from a page on another port", async () => {
    const before = Number((await admin.get(DEMO_KEY)).headers.get("Config-Version"));
    const target = `${stack.originUrl}/console/keys/${DEMO_KEY}/-/rollback`;
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(
        `<!doctype html><form id="f" method="post" action="${target}"><input name="to" value="1"><input name="csrf" value="guess"></form><script>document.getElementById("f").submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const port = (evil.address() as AddressInfo).port;
      // Same host, other port: same *site*, so SameSite=Strict still sends the cookie; the
      // Sec-Fetch-Site: same-site check (not same-origin) is what refuses it.
      const refused = page.waitForResponse((r) => r.url() === target && r.request().method() === "POST");
      await page.goto(`http://127.0.0.1:${port}/`);
      const answer = await refused;
      expect(answer.status()).toBe(403);
      await page.waitForLoadState();
      expect(await page.textContent("body")).toContain("Cross-site request refused");
      await shot("13-cross-site-refused");
    } finally {
      // Chromium keeps its connection alive; close it so the server stops at once.
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
    const after = Number((await admin.get(DEMO_KEY)).headers.get("Config-Version"));
    expect(after).toBe(before);
  });
});
