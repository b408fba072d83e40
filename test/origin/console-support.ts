/** Signing in to the console and browsing it inside workerd, as a browser would (docs/console.md). */
import { worker } from "../support/workerd";
import { adminToken, ORIGIN } from "./support/origin";

export const SAME_ORIGIN = { Origin: ORIGIN, "Sec-Fetch-Site": "same-origin" };

export interface Browser {
  cookie: string;
  /** The session's CSRF token, read from the sign-out form of a page. */
  csrf: string;
}

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return worker.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html", ...headers },
    body: form(fields),
  });
}

export function page(path: string, browser: Browser | null, headers: Record<string, string> = {}) {
  return worker.fetch(`${ORIGIN}${path}`, {
    redirect: "manual",
    headers: { Accept: "text/html", ...(browser ? { Cookie: browser.cookie } : {}), ...headers },
  });
}

/** The `name=value` of the session cookie in a Set-Cookie header. */
export function cookieOf(res: Response): string {
  const set = res.headers.get("Set-Cookie") ?? "";
  const pair = set.split(";")[0] ?? "";
  if (!pair.startsWith("fleetconf_console=")) throw new Error(`no session cookie in ${set}`);
  return pair;
}

export async function signIn(scope = "admin", sub = "console-tester"): Promise<Browser> {
  const token = await adminToken(scope, { sub });
  const res = await postForm("/console/sign-in", { token, next: "/console/status" }, SAME_ORIGIN);
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = cookieOf(res);
  const html = await (await page("/console/status", { cookie, csrf: "" })).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!csrf) throw new Error("no CSRF field on the status page");
  return { cookie, csrf };
}

export function postAs(
  browser: Browser,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string> = SAME_ORIGIN,
) {
  return postForm(path, { csrf: browser.csrf, ...fields }, { Cookie: browser.cookie, ...headers });
}
