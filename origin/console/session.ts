/**
 * The console's session: the admin token the person signed in with, kept only in an
 * `HttpOnly; Secure; SameSite=Strict; Path=/console` cookie (never in a URL or in storage a script
 * can read), beside a random session id. Every state-changing form carries a CSRF token derived
 * from both (HMAC-SHA-256 keyed with the token), and every POST must also come from this origin
 * (`Sec-Fetch-Site`, else `Origin`): either check alone stops a cross-site form post.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { FleetconfError, timingSafeEqualStrings, toBase64Url, utf8Bytes } from "../../core";

export const SESSION_COOKIE = "fleetconf_console";
export const CONSOLE_PATH = "/console";
/** A session never outlives this, whatever the token's own expiry (an on-call shift). */
export const MAX_SESSION_SECONDS = 12 * 3600;

export interface Session {
  id: string;
  token: string;
  csrf: string;
}

/** Reads the session cookie; null when absent or malformed. */
export async function readSession(c: Context): Promise<Session | null> {
  const raw = getCookie(c, SESSION_COOKIE);
  if (raw === undefined) return null;
  const dot = raw.indexOf(".");
  if (dot < 16) return null;
  const id = raw.slice(0, dot);
  const token = raw.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(id) || token.length === 0) return null;
  return { id, token, csrf: await csrfToken(token, id) };
}

/** Starts a session for a token the caller has verified; the cookie lives no longer than the token. */
export async function startSession(c: Context, token: string, expSeconds: number): Promise<Session> {
  const id = toBase64Url(crypto.getRandomValues(new Uint8Array(18)));
  const maxAge = Math.min(MAX_SESSION_SECONDS, Math.max(0, expSeconds - Math.floor(Date.now() / 1000)));
  setCookie(c, SESSION_COOKIE, `${id}.${token}`, {
    httpOnly: true,
    // Browsers accept Secure cookies from http://127.0.0.1 and localhost (potentially trustworthy origins).
    secure: true,
    sameSite: "Strict",
    path: CONSOLE_PATH,
    maxAge,
  });
  return { id, token, csrf: await csrfToken(token, id) };
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: CONSOLE_PATH, secure: true, httpOnly: true, sameSite: "Strict" });
}

async function csrfToken(token: string, sessionId: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    utf8Bytes(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, utf8Bytes(`fleetconf-console-csrf:${sessionId}`));
  return toBase64Url(new Uint8Array(mac));
}

/** Marks a 403 as a CSRF refusal (problem member `reason`), not a token's missing scope. */
export const CSRF_REFUSAL = { extensions: { reason: "csrf" } };
export const CSRF_REFUSAL_TITLE = "Cross-site request refused";

/**
 * Refuses a state-changing request not sent by a page of this origin. Fetch Metadata first
 * (`Sec-Fetch-Site: same-origin`, sent by every current browser); without it, the `Origin` header
 * must name this origin (RFC 6454 §7; browsers send it on every POST). Neither → refused.
 */
export function requireSameOrigin(c: Context): void {
  const site = c.req.header("Sec-Fetch-Site");
  if (site !== undefined) {
    if (site === "same-origin") return;
    throw new FleetconfError(
      "forbidden",
      `Cross-site request refused (Sec-Fetch-Site: ${site}).`,
      CSRF_REFUSAL,
    );
  }
  const origin = c.req.header("Origin");
  if (origin !== undefined && origin === new URL(c.req.url).origin) return;
  throw new FleetconfError(
    "forbidden",
    "Cross-site request refused: the Origin is not this console's.",
    CSRF_REFUSAL,
  );
}

/** The hidden `csrf` field must equal the session's token (compared in constant time). */
export function requireCsrf(session: Session, submitted: unknown): void {
  if (typeof submitted !== "string" || !timingSafeEqualStrings(submitted, session.csrf)) {
    throw new FleetconfError(
      "forbidden",
      "The form's CSRF token is missing or does not match this session.",
      CSRF_REFUSAL,
    );
  }
}
