/**
 * The origin's admin API (DESIGN §4) as typed calls. Each answer is parsed once here into the
 * shape the commands use; any non-2xx becomes a `CliError` carrying the problem+json `code`,
 * `status` and `detail` (RFC 9457), and an unreachable origin says how to point the CLI at one.
 */
import { CliError } from "./errors";

export interface PublishResult {
  key: string;
  version: number;
  etag: string;
  digest: string;
  publishedAt: string;
  /** False when the bytes equalled the current version's (200, nothing new was made). */
  created: boolean;
  distribution?: string;
}

export interface VersionItem {
  version: number;
  etag: string;
  digest: string;
  publishedAt: string;
  author: string | null;
  message: string | null;
  size?: number;
}

export interface VersionPage {
  versions: VersionItem[];
  next: string | null;
}

export interface VersionDocument extends VersionItem {
  key: string;
  current?: boolean;
  content: unknown;
}

export interface CurrentConfig {
  version: number;
  etag: string;
  bytes: Uint8Array;
}

export interface NamespaceDocument {
  namespace: string;
  visibility: "public" | "private";
  maxAge: number;
  staleWhileRevalidate: number;
  staleIfError: number;
}

export interface NamespacePatch {
  visibility?: "public" | "private";
  maxAge?: number;
  staleWhileRevalidate?: number;
  staleIfError?: number;
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
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (options.ifMatch) headers["If-Match"] = options.ifMatch;
    if (options.create) headers["If-None-Match"] = "*";
    if (options.message) headers["Config-Message"] = headerText(options.message);
    const answer = await this.call("PUT", `/v1/configs/${key}`, { body, headers });
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
    const doc = jsonOf(await this.call("GET", `/v1/configs/${key}/-/versions${suffix}`));
    if (!Array.isArray(doc.versions)) throw badShape("versions");
    return {
      versions: doc.versions.map((item) => parseVersionItem(item)),
      next: typeof doc.next === "string" && doc.next.length > 0 ? doc.next : null,
    };
  }

  async version(key: string, version: number): Promise<VersionDocument> {
    const doc = jsonOf(await this.call("GET", `/v1/configs/${key}/-/versions/${version}`));
    if (!("content" in doc)) throw badShape("content");
    return {
      ...parseVersionItem(doc),
      key: typeof doc.key === "string" ? doc.key : key,
      ...(typeof doc.current === "boolean" ? { current: doc.current } : {}),
      content: doc.content,
    };
  }

  async rollback(key: string, to: number, message?: string): Promise<PublishResult> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (message) headers["Config-Message"] = headerText(message);
    const body = new TextEncoder().encode(JSON.stringify({ to }));
    return parseWrite(await this.call("POST", `/v1/configs/${key}/-/rollback`, { body, headers }));
  }

  async remove(
    key: string,
    message?: string,
  ): Promise<{ key: string; version: number | null; deletedAt: string | null }> {
    const headers: Record<string, string> = {};
    if (message) headers["Config-Message"] = headerText(message);
    const doc = jsonOf(await this.call("DELETE", `/v1/configs/${key}`, { headers }));
    return {
      key,
      version: typeof doc.version === "number" ? doc.version : null,
      deletedAt: typeof doc.deletedAt === "string" ? doc.deletedAt : null,
    };
  }

  async namespace(namespace: string): Promise<NamespaceDocument> {
    return parseNamespaceDocument(jsonOf(await this.call("GET", `/v1/namespaces/${namespace}`)), namespace);
  }

  async updateNamespace(namespace: string, patch: NamespacePatch): Promise<NamespaceDocument> {
    const body = new TextEncoder().encode(JSON.stringify(patch));
    const answer = await this.call("PUT", `/v1/namespaces/${namespace}`, {
      body,
      headers: { "Content-Type": "application/json" },
    });
    return parseNamespaceDocument(jsonOf(answer), namespace);
  }

  async mintReadToken(
    scope: string,
    ttlSeconds: number,
  ): Promise<{ token: string; scope: string; expiresAt: string | null }> {
    const body = new TextEncoder().encode(JSON.stringify({ scope, ttl: ttlSeconds }));
    const doc = jsonOf(
      await this.call("POST", "/v1/tokens", { body, headers: { "Content-Type": "application/json" } }),
    );
    if (typeof doc.token !== "string") throw badShape("token");
    return {
      token: doc.token,
      scope: typeof doc.scope === "string" ? doc.scope : scope,
      expiresAt: typeof doc.expiresAt === "string" ? doc.expiresAt : null,
    };
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
  const hint = hints[res.status];
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

function parseVersionItem(raw: unknown): VersionItem {
  if (typeof raw !== "object" || raw === null) throw badShape("version entry");
  const r = raw as Record<string, unknown>;
  if (typeof r.version !== "number" || typeof r.etag !== "string") throw badShape("version entry");
  return {
    version: r.version,
    etag: r.etag,
    digest: typeof r.digest === "string" ? r.digest : "",
    publishedAt:
      typeof r.publishedAt === "string" || typeof r.publishedAt === "number" ? String(r.publishedAt) : "",
    author: typeof r.author === "string" ? r.author : null,
    message: typeof r.message === "string" ? r.message : null,
    ...(typeof r.size === "number" ? { size: r.size } : {}),
  };
}

export function parseWrite(answer: Answer): PublishResult {
  const doc = jsonOf(answer);
  if (typeof doc.version !== "number" || typeof doc.etag !== "string") throw badShape("version");
  return {
    key: typeof doc.key === "string" ? doc.key : "",
    version: doc.version,
    etag: doc.etag,
    digest: typeof doc.digest === "string" ? doc.digest : "",
    publishedAt: typeof doc.publishedAt === "string" ? doc.publishedAt : String(doc.publishedAt ?? ""),
    created: answer.status === 201,
    ...(typeof doc.distribution === "string" ? { distribution: doc.distribution } : {}),
  };
}

function parseNamespaceDocument(doc: Record<string, unknown>, namespace: string): NamespaceDocument {
  const visibility = doc.visibility;
  if (visibility !== "public" && visibility !== "private") throw badShape("visibility");
  const num = (name: string) => {
    const value = doc[name];
    if (typeof value !== "number") throw badShape(name);
    return value;
  };
  return {
    namespace: typeof doc.namespace === "string" ? doc.namespace : namespace,
    visibility,
    maxAge: num("maxAge"),
    staleWhileRevalidate: num("staleWhileRevalidate"),
    staleIfError: num("staleIfError"),
  };
}
