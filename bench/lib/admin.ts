/** The origin's admin API as the bench drives it (DESIGN §4): publish and namespace settings. */
import { mintAdminToken } from "../../core/tokens";
import { assertLoopback } from "./load";

export interface PublishResult {
  status: number;
  version: number | null;
  etag: string | null;
  /** When the 201/200 arrived (performance.now() ms) and how long the request took. */
  ackedAt: number;
  latencyMs: number;
}

export class OriginAdmin {
  private constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  static async create(url: string, adminSecret: string): Promise<OriginAdmin> {
    assertLoopback(url);
    return new OriginAdmin(
      url,
      await mintAdminToken(adminSecret, { scope: "admin", ttlSeconds: 3600, sub: "bench" }),
    );
  }

  /** GET an admin route's JSON (e.g. a fleet view). */
  async getJson<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      headers: { Authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  async setNamespace(namespace: string, settings: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${this.url}/v1/namespaces/${namespace}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(settings),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`PUT /v1/namespaces/${namespace} answered ${res.status}: ${text.slice(0, 300)}`);
  }

  async publish(key: string, body: string): Promise<PublishResult> {
    const started = performance.now();
    const res = await fetch(`${this.url}/v1/configs/${key}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const ackedAt = performance.now();
    let version: number | null = null;
    if (res.ok) {
      const parsed = JSON.parse(text) as { version?: unknown };
      version = typeof parsed.version === "number" ? parsed.version : null;
    }
    return {
      status: res.status,
      version,
      etag: res.headers.get("ETag"),
      ackedAt,
      latencyMs: ackedAt - started,
    };
  }

  /** Publishes and throws unless the origin acknowledged it (200 or 201 with a version). */
  async mustPublish(key: string, body: string): Promise<PublishResult & { version: number }> {
    const result = await this.publish(key, body);
    if ((result.status !== 201 && result.status !== 200) || result.version === null) {
      throw new Error(`PUT /v1/configs/${key} answered ${result.status}`);
    }
    return { ...result, version: result.version };
  }
}
