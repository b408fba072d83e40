/**
 * The origin's admin API (DESIGN §4) as typed calls. Each answer is parsed once here into the
 * shape the commands use; any non-2xx becomes a `CliError` carrying the problem+json `code`,
 * `status` and `detail` (RFC 9457), and an unreachable origin says how to point the CLI at one.
 */
import type { z } from "@hono/zod-openapi";
import {
  type ChangeRequestDocument,
  ChangeRequestHeld,
  ChangeSetResult,
  DeleteResult,
  HistoryPage,
  NamespaceDocument as NamespaceSchema,
  RedactResult,
  RootStored,
  type SettingsPatchInput,
  TokenDocument,
  VersionDocument as VersionSchema,
  WriteResult,
} from "../origin/contract";
import { CliError } from "./errors";

/** A write's answer (origin/contract.ts WriteResult) and whether it made a version (201). */
export type PublishResult = z.infer<typeof WriteResult> & {
  /** False when the bytes equalled the current version's (200, nothing new was made). */
  created: boolean;
};
/** A write the namespace's approval setting held (202): a change request, nothing changed yet. */
export type Held = { held: ChangeRequestDocument };
export type VersionPage = z.infer<typeof HistoryPage>;
export type VersionItem = VersionPage["versions"][number];
export type VersionDocument = z.infer<typeof VersionSchema>;
export type NamespaceDocument = z.infer<typeof NamespaceSchema>;
export type NamespacePatch = SettingsPatchInput;

export interface CurrentConfig {
  version: number;
  etag: string;
  bytes: Uint8Array;
}

export interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
}

export class AdminApi {
  constructor(
    readonly origin: string,
    private readonly token: string,
    private readonly fetcher: typeof fetch = fetch,
  ) {}

  async publish(
    key: string,
    body: Uint8Array,
    options: { ifMatch?: string; create?: boolean; message?: string },
  ) {
    const answer = await this.call("PUT", `/v1/configs/${key}`, { body, headers: writeHeaders(options) });
    return parseWrite(answer);
  }

  async current(key: string): Promise<CurrentConfig> {
    const answer = await this.call("GET", `/v1/configs/${key}`);
    const version = Number(answer.headers.get("Config-Version"));
    const etag = answer.headers.get("ETag");
    if (!Number.isSafeInteger(version) || version < 1 || !etag) {
      throw new CliError("the origin's answer lacks Config-Version or ETag", { code: "bad_response" });
    }
    return { version, etag, bytes: answer.bytes };
  }

  async versions(key: string, page: { limit?: number; cursor?: string } = {}): Promise<VersionPage> {
    const query = new URLSearchParams();
    if (page.limit !== undefined) query.set("limit", String(page.limit));
    if (page.cursor) query.set("cursor", page.cursor);
    const suffix = query.size > 0 ? `?${query}` : "";
    const history = documentOf(HistoryPage, await this.call("GET", `/v1/configs/${key}/-/versions${suffix}`));
    return {
      versions: history.versions,
      next: history.next !== null && history.next.length > 0 ? history.next : null,
    };
  }

  async version(key: string, version: number): Promise<VersionDocument> {
    return documentOf(VersionSchema, await this.call("GET", `/v1/configs/${key}/-/versions/${version}`));
  }

  async rollback(key: string, to: number, message?: string): Promise<PublishResult | Held> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (message) headers["Config-Message"] = headerText(message);
    const body = new TextEncoder().encode(JSON.stringify({ to }));
    return parseWrite(await this.call("POST", `/v1/configs/${key}/-/rollback`, { body, headers }));
  }

  async remove(
    key: string,
    message?: string,
  ): Promise<{ key: string; version: number | null; deletedAt: string | null } | Held> {
    const headers: Record<string, string> = {};
    if (message) headers["Config-Message"] = headerText(message);
    const answer = await this.call("DELETE", `/v1/configs/${key}`, { headers });
    const held = heldOf(answer);
    if (held) return held;
    const doc = documentOf(DeleteResult, answer);
    return { key: doc.key, version: doc.version, deletedAt: doc.deletedAt };
  }

  /** POST …/-/versions/{n}/redact: the version's bytes leave the origin, KV and every edge cache. */
  async redact(key: string, version: number, message?: string): Promise<z.infer<typeof RedactResult>> {
    const headers: Record<string, string> = {};
    if (message) headers["Config-Message"] = headerText(message);
    return documentOf(
      RedactResult,
      await this.call("POST", `/v1/configs/${key}/-/versions/${version}/redact`, { headers }),
    );
  }

  /** PUT /v1/roots/{n}: stores the next signed trust root; the edge serves it. */
  async putRoot(document: unknown, version: number): Promise<z.infer<typeof RootStored>> {
    const body = new TextEncoder().encode(JSON.stringify(document));
    return documentOf(
      RootStored,
      await this.call("PUT", `/v1/roots/${version}`, {
        body,
        headers: { "Content-Type": "application/json" },
      }),
    );
  }

  async namespace(namespace: string): Promise<NamespaceDocument> {
    return documentOf(NamespaceSchema, await this.call("GET", `/v1/namespaces/${namespace}`));
  }

  async updateNamespace(namespace: string, patch: NamespacePatch): Promise<NamespaceDocument> {
    const body = new TextEncoder().encode(JSON.stringify(patch));
    const answer = await this.call("PUT", `/v1/namespaces/${namespace}`, {
      body,
      headers: { "Content-Type": "application/json" },
    });
    return documentOf(NamespaceSchema, answer);
  }

  async mintReadToken(
    scope: string,
    ttlSeconds: number,
  ): Promise<{ token: string; scope: string; expiresAt: string | null }> {
    const body = new TextEncoder().encode(JSON.stringify({ scope, ttl: ttlSeconds }));
    return documentOf(
      TokenDocument,
      await this.call("POST", "/v1/tokens", { body, headers: { "Content-Type": "application/json" } }),
    );
  }

  /** `POST /v1/changes`: several keys of one namespace, all or nothing (DESIGN §8). */
  async changes(changes: { key: string; content: unknown }[], message?: string) {
    const body = new TextEncoder().encode(JSON.stringify({ ...(message ? { message } : {}), changes }));
    const answer = await this.call("POST", "/v1/changes", {
      body,
      headers: { "Content-Type": "application/json" },
    });
    return heldOf(answer) ?? documentOf(ChangeSetResult, answer);
  }

  /** One request with the admin token; 2xx answers come back, anything else throws a CliError. */
  async call(
    method: string,
    path: string,
    init: { body?: Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    let res: Response;
    try {
      res = await this.fetcher(`${this.origin}${path}`, {
        method,
        headers: { Accept: "application/json", ...init.headers, Authorization: `Bearer ${this.token}` },
        ...(init.body ? { body: init.body } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } }).cause?.code;
      throw new CliError(`cannot reach the origin at ${this.origin}${cause ? ` (${String(cause)})` : ""}`, {
        code: "unreachable",
        hint: "start it with `npm run dev`, or point the CLI at one with --origin / FLEETCONF_ORIGIN",
      });
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, bytes };
    throw problemError(method, path, res, bytes);
  }
}

/** The preconditions, audit note and rollout of a config write (`PUT /v1/configs/{key}`, DESIGN §4). */
export interface WriteOptions {
  ifMatch?: string;
  /** Create only: `If-None-Match: *`. */
  create?: boolean;
  message?: string;
  /** A `Config-Rollout` value: the write starts a staged rollout (docs/rollouts.md). */
  rollout?: string;
}

export function writeHeaders(options: WriteOptions): Record<string, string> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (options.ifMatch) headers["If-Match"] = options.ifMatch;
  if (options.create) headers["If-None-Match"] = "*";
  if (options.message) headers["Config-Message"] = headerText(options.message);
  if (options.rollout) headers["Config-Rollout"] = options.rollout;
  return headers;
}

/** Header values travel as bytes; send the message's UTF-8 bytes one per character (the origin decodes UTF-8). */
export function headerText(text: string): string {
  return String.fromCharCode(...new TextEncoder().encode(text.replace(/[\r\n]+/g, " ")));
}

function problemError(method: string, path: string, res: Response, bytes: Uint8Array): CliError {
  let problem: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof parsed === "object" && parsed !== null) problem = parsed as Record<string, unknown>;
  } catch {
    // Not problem+json (a proxy's HTML page, say): the status line has to do.
  }
  const title = typeof problem.title === "string" ? problem.title : res.statusText || "request failed";
  const detail = typeof problem.detail === "string" ? problem.detail : undefined;
  const code = typeof problem.code === "string" ? problem.code : `http_${res.status}`;
  const hints: Record<number, string> = {
    401: "the token is missing, invalid or expired: mint one with `fleetconf token --scope admin`",
    403: "the token's scope does not cover this namespace",
    412: "someone published in between: fetch the current ETag (`fleetconf get`) and retry",
  };
  // The author approving their own change request is a 403 too, but no scope would help.
  const hint =
    code === "own_approval"
      ? "another admin must approve it: a token with a different subject (locally `fleetconf token --scope admin --sub NAME`)"
      : hints[res.status];
  // A schema violation (422) lists where the document broke the schema: keep them for the user.
  const errors = Array.isArray(problem.errors)
    ? problem.errors.flatMap((e: unknown) => {
        const { pointer, message } = (e ?? {}) as { pointer?: unknown; message?: unknown };
        return typeof pointer === "string" && typeof message === "string" ? [{ pointer, message }] : [];
      })
    : [];
  return new CliError(`${method} ${path}: ${res.status} ${title}${detail ? `: ${detail}` : ""}`, {
    code,
    status: res.status,
    ...(detail === undefined ? {} : { detail }),
    ...(hint === undefined ? {} : { hint }),
    ...(errors.length > 0 ? { errors } : {}),
  });
}

function badShape(member: string): CliError {
  return new CliError(`the origin's answer has no valid ${member}`, { code: "bad_response" });
}

export function jsonOf(answer: Answer): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(answer.bytes));
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw new CliError("the origin's answer is not a JSON object", { code: "bad_response" });
}

export function parseWrite(answer: Answer): PublishResult | Held {
  return heldOf(answer) ?? { ...documentOf(WriteResult, answer), created: answer.status === 201 };
}

/** A 202 (the namespace requires approval): the change request the origin made instead. */
export function heldOf(answer: Answer): Held | null {
  if (answer.status !== 202) return null;
  return { held: documentOf(ChangeRequestHeld, answer).changeRequest };
}

export function isHeld<T extends object>(result: T | Held): result is Held {
  return "held" in result;
}

/**
 * An answer parsed by the origin's own response schema (origin/contract.ts): the CLI takes its
 * types from the same definitions the routes declare, and a shape the schema refuses is a
 * `bad_response` naming the member, never a cast.
 */
export function documentOf<T extends z.ZodType>(schema: T, answer: Answer): z.output<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(answer.bytes));
  } catch {
    throw new CliError("the origin's answer is not JSON", { code: "bad_response" });
  }
  const result = schema.safeParse(parsed);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const member = issue && issue.path.length > 0 ? issue.path.join(".") : "document";
  throw badShape(member);
}
