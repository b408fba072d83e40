/**
 * What every declared admin route shares (docs/decisions.md, "Declared routes"): the route
 * factory with the one validation hook, the path pattern of a `{key}` that spans slashes, and
 * zod schemas that wrap the core parsers so a bad parameter answers with the same code and
 * detail as before, now before any handler runs.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { type ErrorCode, FleetconfError } from "../../core";
import type { OriginApp } from "../app-env";
import { Problem as ProblemSchema } from "../contract";

/**
 * A `{key}` path parameter spans slashes, so routes spell it `{key{KEY_PATTERN}}`: Hono takes the
 * regex (its router allows `/` in a regex parameter) and @hono/zod-openapi turns `/{name…}` into
 * `/:name…` for it. The pattern accepts any run of segments except one that is exactly `-` — the
 * `/-/` separator, which no valid key contains (a key segment starts with `[a-z0-9]`) — so
 * `…/{key}` and `…/{key}/-/versions` can never both match one path, whatever order they were
 * registered in. Empty segments and malformed keys still match, to be refused by the key's
 * validator with 400 rather than by the router with 404. The pattern holds no `{`/`}` because
 * Hono's path parser cuts a regex parameter at the first `}`. The OpenAPI document names the
 * parameter plainly `{key}` (openapiPath in routes/openapi.ts).
 */
const SEGMENT_PATTERN = "(?:[^/-][^/]*|-[^/]+)?";
export const KEY_PATTERN = `${SEGMENT_PATTERN}(?:/${SEGMENT_PATTERN})*`;
export const KEY = `{key{${KEY_PATTERN}}}`;

/** Where a field of a refused request sits: a body member by JSON Pointer, else the name. */
export type FieldRef = { pointer: string } | { parameter: string } | { header: string };
export type FieldError = FieldRef & { detail: string };

type Target = "json" | "form" | "query" | "param" | "header" | "cookie";

/** RFC 6901 §3: `~` → `~0`, `/` → `~1`. */
function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((part) => `/${String(part).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function fieldOf(target: Target, path: readonly PropertyKey[]): FieldRef {
  if (target === "json" || target === "form") return { pointer: pointerOf(path) };
  const name = String(path[0] ?? "");
  return target === "header" ? { header: name } : { parameter: name };
}

/** A zod issue's fleetconf error code, set by `parsedBy` (else invalid_request). */
function codeOf(issue: z.core.$ZodIssue): ErrorCode {
  const params = "params" in issue ? issue.params : undefined;
  const code: unknown = params?.code;
  return typeof code === "string" && isErrorCode(code) ? code : "invalid_request";
}

const ISSUE_CODES: readonly ErrorCode[] = [
  "invalid_key",
  "invalid_version",
  "invalid_request",
  "invalid_json",
];
function isErrorCode(value: string): value is ErrorCode {
  return ISSUE_CODES.some((code) => code === value);
}

/** Zod issues → field errors; an unknown-members issue becomes one error per member. */
export function fieldErrors(target: Target, issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((name) => ({
        ...fieldOf(target, [...issue.path, name]),
        detail: `Unknown member ${JSON.stringify(name)}.`,
      }));
    }
    return [{ ...fieldOf(target, issue.path), detail: issue.message }];
  });
}

/**
 * The validation hook of every declared route: a refused input is a 400 problem (RFC 9457 §3)
 * whose `errors` member names each field, thrown so the app's one onError renders it.
 */
export function refuseInvalid(
  result: { target: Target } & ({ success: true } | { success: false; error: z.ZodError }),
): void {
  if (result.success) return;
  const { issues } = result.error;
  const first = issues[0];
  const errors = fieldErrors(result.target, issues);
  const detail =
    first?.code === "unrecognized_keys"
      ? `Unknown member${first.keys.length > 1 ? "s" : ""} ${first.keys.map((n) => JSON.stringify(n)).join(", ")}.`
      : (first?.message ?? "Invalid request.");
  throw new FleetconfError(first ? codeOf(first) : "invalid_request", detail, { extensions: { errors } });
}

/** A router for a group of admin routes, every route validated by refuseInvalid. */
export function declaredRoutes(): OpenAPIHono<OriginApp> {
  return new OpenAPIHono<OriginApp>({
    defaultHook: (result) => {
      refuseInvalid(result);
    },
  });
}

/**
 * A string input parsed by one of the core parsers (parseKey, parseVersion…): the parser's
 * FleetconfError becomes a zod issue carrying its code and detail, so the validator refuses it
 * exactly as the parser did when handlers called it.
 */
export function parsedBy<T>(parse: (raw: string) => T) {
  return z.string().transform((raw, ctx): T => {
    try {
      return parse(raw);
    } catch (error) {
      if (!(error instanceof FleetconfError)) throw error;
      ctx.issues.push({ code: "custom", message: error.message, input: raw, params: { code: error.code } });
      return z.NEVER;
    }
  });
}

/** As parsedBy, for an optional input (query parameter or header) whose absence the parser handles. */
export function optionalParsedBy<T>(parse: (raw: string | undefined) => T) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      try {
        return parse(raw);
      } catch (error) {
        if (!(error instanceof FleetconfError)) throw error;
        ctx.issues.push({ code: "custom", message: error.message, input: raw, params: { code: error.code } });
        return z.NEVER;
      }
    });
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request: the problem's `errors` member names each refused field.",
  401: "Missing or invalid admin token (RFC 6750 §3).",
  403: "The token's scope does not cover this resource.",
  404: "Not found.",
  405: "Method not allowed.",
  409: "Conflict with the stored state.",
  410: "Gone: the version's bytes were redacted, or the change request expired.",
  412: "A precondition (If-Match / If-None-Match) failed.",
  413: "The body is larger than the limit.",
  415: "The body is not JSON.",
  422: "The config does not match its schema.",
};

/** Problem+json responses (RFC 9457) for the given statuses; 400, 401 and 403 are always possible. */
export function problems(...statuses: number[]) {
  const all = [...new Set([400, 401, 403, ...statuses])].sort();
  return Object.fromEntries(
    all.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? "Error.",
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}

/**
 * A response whose body is stored JSON bytes (a config's exact content, spliced, never
 * re-serialised) for a route that declares that JSON document: the bytes are the document, so
 * only the type the route's declaration expects is added.
 */
export function storedJson<T extends z.ZodType>(
  _document: T,
  response: Response,
): Response & TypedResponse<JSONParsed<z.output<T>>, 200, "json"> {
  return response as Response & TypedResponse<JSONParsed<z.output<T>>, 200, "json">;
}

/** When the old spellings without `/-/` were deprecated (RFC 9745 §2: `@` + epoch seconds). */
export const ALIASES_DEPRECATED_AT = "@1796083200"; // 2026-12-01T00:00:00Z

/**
 * Marks an old spelling that still works: `Deprecation` (RFC 9745 §2) and a `Link` to the path
 * that replaces it with `rel="successor-version"` (RFC 5829 §3.4). `oldSuffix` ends the old path;
 * the successor ends in `newSuffix` instead.
 */
export function deprecatedAlias(oldSuffix: string, newSuffix: string): MiddlewareHandler<OriginApp> {
  return async function deprecatedAlias(c, next) {
    const path = c.req.path;
    const successor = path.endsWith(oldSuffix) ? `${path.slice(0, -oldSuffix.length)}${newSuffix}` : path;
    await next();
    c.res.headers.set("Deprecation", ALIASES_DEPRECATED_AT);
    c.res.headers.append("Link", `<${successor}>; rel="successor-version"`);
  };
}
