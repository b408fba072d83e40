/**
 * The console's Hono environment and its middleware: security headers with a per-response CSP
 * nonce, the signed-in session (redirect to sign-in without one), and the same-origin + CSRF
 * checks every POST passes before its handler runs.
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { NONCE, type SecureHeadersVariables, secureHeaders } from "hono/secure-headers";
import { FleetconfError, type VerifiedToken, verifyAdminToken } from "../../core";
import type { OriginVariables } from "../app-env";
import type { OriginEnv } from "../env";
import { ConsoleApi, type Dispatch } from "./api";
import { stylesheetName } from "./assets";
import type { PageContext } from "./layout";
import { endSession, readSession, requireCsrf, requireSameOrigin, type Session } from "./session";

export interface ConsoleVariables extends OriginVariables, SecureHeadersVariables {
  session: Session;
  api: ConsoleApi;
  form: Record<string, string>;
}

export type ConsoleApp = { Bindings: OriginEnv; Variables: ConsoleVariables };
export type ConsoleContext = Context<ConsoleApp>;

/** A sign-in token or a rollback message is small; anything larger is not a console form. */
export const MAX_FORM_BYTES = 16 * 1024;

/**
 * CSP (CSP Level 3): nothing by default; scripts only with this response's nonce; styles only
 * from the console's own stylesheet; forms only to this origin; never framed; no `<base>`.
 */
export function consoleSecurityHeaders(): MiddlewareHandler<ConsoleApp> {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: [NONCE],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
    },
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    crossOriginResourcePolicy: "same-origin",
    crossOriginOpenerPolicy: "same-origin",
  });
  return async function consoleSecurityHeaders(c, next) {
    await headers(c, next);
    // Pages carry a session's data; only the hashed stylesheet may be kept (assets route).
    if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
  };
}

/** True when the client asked for HTML (a browser) rather than JSON. */
export function wantsHtml(c: Context): boolean {
  return (c.req.header("Accept") ?? "").includes("text/html");
}

/**
 * Requires a signed-in session whose token still verifies; without one a page GET is redirected
 * to sign-in (303, RFC 9110 §15.4.4) and anything else is 401. The token is checked with the
 * API's own verifier only to name the person and drop a dead session; every permission is
 * decided by the API the pages call.
 */
export function consoleSession(dispatchFor: (c: ConsoleContext) => Dispatch): MiddlewareHandler<ConsoleApp> {
  return async function consoleSession(c, next) {
    const session = await readSession(c);
    let caller: VerifiedToken | null = null;
    if (session) {
      try {
        caller = await verifyAdminToken(session.token, c.get("services").config.adminKeys);
      } catch {
        endSession(c);
      }
    }
    if (!session || caller === null) {
      if (c.req.method === "GET" && wantsHtml(c)) {
        const back = new URL(c.req.url);
        return c.redirect(`/console/sign-in?next=${encodeURIComponent(back.pathname + back.search)}`, 303);
      }
      throw new FleetconfError("unauthorized", "Sign in to the console first.");
    }
    c.set("session", session);
    c.set("caller", caller);
    c.set("api", new ConsoleApi(dispatchFor(c), new URL(c.req.url).origin, session.token));
    await next();
    return undefined;
  };
}

/** Every POST, signed in or not (login CSRF too), must come from a page of this origin. */
export function sameOriginOnly(): MiddlewareHandler<ConsoleApp> {
  return async function sameOriginOnly(c, next) {
    requireSameOrigin(c);
    await next();
  };
}

/** A POST's bounded urlencoded body, and with `csrf` the session's CSRF token in it. */
export function formProtection(options: { csrf: boolean }): MiddlewareHandler<ConsoleApp> {
  const limit = bodyLimit({
    maxSize: MAX_FORM_BYTES,
    onError: () => {
      throw new FleetconfError("payload_too_large", `A console form is at most ${MAX_FORM_BYTES} bytes.`);
    },
  });
  return async function formProtection(c, next) {
    await limit(c, async () => {
      const type = c.req.header("Content-Type") ?? "";
      if (!type.startsWith("application/x-www-form-urlencoded")) {
        throw new FleetconfError(
          "unsupported_media_type",
          "Console forms are application/x-www-form-urlencoded.",
        );
      }
      const fields: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(await c.req.text())) fields[name] = value;
      c.set("form", fields);
      if (options.csrf) requireCsrf(c.get("session"), fields.csrf);
      await next();
    });
  };
}

export async function pageContext(c: ConsoleContext, current: PageContext["current"]): Promise<PageContext> {
  const session = c.get("session") as Session | undefined;
  const caller = c.get("caller") as VerifiedToken | undefined;
  return {
    nonce: c.get("secureHeadersNonce") ?? "",
    stylesheet: await stylesheetName(),
    user: session && caller ? { sub: caller.sub, csrf: session.csrf } : null,
    current,
  };
}
