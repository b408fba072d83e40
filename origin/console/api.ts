/**
 * The console's only way to read or change anything: the origin's own admin API, called in-process.
 * Each call builds a Request with `Authorization: Bearer <the signed-in token>` and dispatches it
 * to the origin's app (its middleware, routes and Durable Objects), so every permission check,
 * validation and audit entry is the API's own and the console has exactly the token's rights.
 * Sub-resources use the `/-/` paths of DESIGN §4, which no key can shadow.
 */
import type {
  AuditEntryDocument as AuditEntry,
  ChangeRequestDocument,
  ChangeRequestPageDocument,
  RolloutStatusDocument as RolloutStatus,
} from "../contract";

/** Hands one Request to the origin's app (app.fetch with this request's env and context). */
export type Dispatch = (request: Request) => Promise<Response>;

export interface ApiProblem {
  status: number;
  title: string;
  detail: string;
  code: string;
}

export type ApiResult<T> = { ok: true; value: T; headers: Headers } | { ok: false; problem: ApiProblem };

export interface HistoryItem {
  version: number;
  etag: string;
  digest: string;
  publishedAt: string;
  author: string;
  message: string | null;
  size: number;
}

export interface HistoryPage {
  versions: HistoryItem[];
  next: string | null;
}

export interface VersionDocument extends HistoryItem {
  key: string;
  current: boolean;
  content: unknown;
}

/** One RFC 6902 operation as the diff route writes it (core/json-patch.ts). */
export interface PatchOperation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** `GET /v1/change-requests/{ns}/{id}` (docs/api.md, "Change requests"). */
export interface ChangeRequestReview {
  changeRequest: ChangeRequestDocument;
  diff: PatchOperation[] | null;
  members: { key: string; delete: boolean; diff: PatchOperation[] | null }[] | null;
}

export interface DiffResult {
  from: number;
  to: number;
  patch: PatchOperation[];
}

export interface FleetDocument {
  key: string;
  window: number;
  clients: number;
  versions: { version: number; clients: number; applied?: number; rejected?: number }[];
  current: number;
  converged: number;
  rollout: { candidate: number; stable: number; share: number } | null;
  /** `inRing` only during a rollout with a ring (docs/rollouts.md, "Rings"). */
  locations: { colo: string; clients: number; converged: number; inRing?: boolean }[];
  at: string;
}

export interface NamespaceSettingsDocument {
  namespace: string;
  visibility: "public" | "private";
  maxAge: number;
  staleWhileRevalidate: number;
  staleIfError: number;
}

export interface StatusKey {
  key: string;
  version: number | null;
  deleted: boolean;
  updatedAt: string;
  clients: number;
}

/** One namespace of `GET /v1/status` (origin/routes/status.ts, origin/store/status.ts). */
export interface StatusNamespace {
  namespace: string;
  visibility: "public" | "private";
  keys: StatusKey[];
  rollouts: {
    key: string;
    stableVersion: number;
    candidateVersion: number;
    mode: string;
    percent: number;
    startedAt: string;
  }[];
  pending: { kind: string; target: string; enqueuedAt: string; attempts: number; lastError: string | null }[];
  lastPublish: {
    key: string | null;
    version: number | null;
    at: string;
    actor: string;
    action: string;
  } | null;
  drainFailures: number;
  recentErrors: { target: string; error: string; attempts: number }[];
}

export interface StatusDocument {
  at: string;
  namespaces: StatusNamespace[];
  truncated: boolean;
}

export interface AuditPage {
  namespace: string | null;
  entries: AuditEntry[];
  next: string | null;
}

export interface AuditFilter {
  namespace?: string;
  key?: string;
  since?: string;
  cursor?: string;
  limit?: number;
}

/** The live version's exact bytes and its version number. */
export interface CurrentContent {
  version: number;
  etag: string;
  text: string;
}

const enc = encodeURIComponent;

export class ConsoleApi {
  constructor(
    private readonly dispatch: Dispatch,
    private readonly base: string,
    private readonly token: string,
  ) {}

  status(namespace?: string): Promise<ApiResult<StatusDocument>> {
    return this.json(
      "GET",
      namespace === undefined ? "/v1/status" : `/v1/status?namespace=${enc(namespace)}`,
    );
  }

  namespaceSettings(namespace: string): Promise<ApiResult<NamespaceSettingsDocument>> {
    return this.json("GET", `/v1/namespaces/${enc(namespace)}`);
  }

  async current(key: string): Promise<ApiResult<CurrentContent>> {
    const res = await this.send("GET", `/v1/configs/${key}`);
    if (!res.ok) return { ok: false, problem: await problemOf(res) };
    return {
      ok: true,
      headers: res.headers,
      value: {
        version: Number(res.headers.get("Config-Version")),
        etag: res.headers.get("ETag") ?? "",
        text: await res.text(),
      },
    };
  }

  versions(key: string, cursor?: string, limit = 50): Promise<ApiResult<HistoryPage>> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== undefined) query.set("cursor", cursor);
    return this.json("GET", `/v1/configs/${key}/-/versions?${query}`);
  }

  version(key: string, version: number): Promise<ApiResult<VersionDocument>> {
    return this.json("GET", `/v1/configs/${key}/-/versions/${version}`);
  }

  async diff(key: string, from: string, to: string): Promise<ApiResult<DiffResult>> {
    const query = new URLSearchParams({ from, to });
    const res = await this.send("GET", `/v1/configs/${key}/-/diff?${query}`);
    if (!res.ok) return { ok: false, problem: await problemOf(res) };
    return {
      ok: true,
      headers: res.headers,
      value: {
        from: Number(res.headers.get("Config-Diff-From")),
        to: Number(res.headers.get("Config-Diff-To")),
        patch: (await res.json()) as PatchOperation[],
      },
    };
  }

  rollout(key: string): Promise<ApiResult<RolloutStatus>> {
    return this.json("GET", `/v1/configs/${key}/-/rollout`);
  }

  fleet(key: string, windowSeconds: number): Promise<ApiResult<FleetDocument>> {
    return this.json("GET", `/v1/configs/${key}/-/fleet?window=${windowSeconds}`);
  }

  audit(filter: AuditFilter): Promise<ApiResult<AuditPage>> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filter)) {
      if (value !== undefined && value !== "") query.set(name, String(value));
    }
    const suffix = query.size > 0 ? `?${query}` : "";
    return this.json("GET", `/v1/audit${suffix}`);
  }

  /** A new version, or (202, the namespace requires approval) the change request made instead. */
  rollback(
    key: string,
    to: number,
    message: string | null,
  ): Promise<ApiResult<{ version?: number; changeRequest?: { namespace: string; id: number } }>> {
    return this.json("POST", `/v1/configs/${key}/-/rollback`, { to }, message);
  }

  /** One change request with what approving it would change (diff, or a change set's members). */
  changeRequest(namespace: string, id: number): Promise<ApiResult<ChangeRequestReview>> {
    return this.json("GET", `/v1/change-requests/${enc(namespace)}/${id}`);
  }

  /** Pending change requests of a namespace (four-eyes). */
  changeRequests(namespace: string): Promise<ApiResult<ChangeRequestPageDocument>> {
    return this.json("GET", `/v1/change-requests/${enc(namespace)}`);
  }

  decideChange(
    namespace: string,
    id: number,
    decision: { approve: true } | { approve: false; reason: string },
  ): Promise<ApiResult<{ changeRequest: ChangeRequestDocument }>> {
    const path = `/v1/change-requests/${enc(namespace)}/${id}`;
    return decision.approve
      ? this.json("POST", `${path}/approve`)
      : this.json("POST", `${path}/reject`, { reason: decision.reason });
  }

  finishRollout(
    key: string,
    how: "abort" | "complete",
    message: string | null,
  ): Promise<ApiResult<RolloutStatus>> {
    return this.json("POST", `/v1/configs/${key}/-/rollout/${how}`, undefined, message);
  }

  private send(method: string, path: string, body?: unknown, message?: string | null): Promise<Response> {
    const headers = new Headers({ Authorization: `Bearer ${this.token}`, Accept: "application/json" });
    if (body !== undefined) headers.set("Content-Type", "application/json");
    if (message) headers.set("Config-Message", message);
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    return this.dispatch(new Request(new URL(path, this.base), init));
  }

  private async json<T>(
    method: string,
    path: string,
    body?: unknown,
    message?: string | null,
  ): Promise<ApiResult<T>> {
    const res = await this.send(method, path, body, message);
    if (!res.ok) return { ok: false, problem: await problemOf(res) };
    return { ok: true, value: (await res.json()) as T, headers: res.headers };
  }
}

/** The API's problem+json (RFC 9457), or a stand-in when the body is not one. */
async function problemOf(res: Response): Promise<ApiProblem> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as Partial<ApiProblem>;
    return {
      status: res.status,
      title: typeof parsed.title === "string" ? parsed.title : res.statusText,
      detail: typeof parsed.detail === "string" ? parsed.detail : "",
      code: typeof parsed.code === "string" ? parsed.code : "unknown",
    };
  } catch {
    return {
      status: res.status,
      title: res.statusText || "Error",
      detail: text.slice(0, 500),
      code: "unknown",
    };
  }
}

/** An API refusal, carried to the console's error handler to be shown with the API's status. */
export class ApiRefusal extends Error {
  constructor(readonly problem: ApiProblem) {
    super(problem.detail);
  }
}

/** The value of a successful call; a refusal is thrown as ApiRefusal. */
export function must<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new ApiRefusal(result.problem);
  return result.value;
}
