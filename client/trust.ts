/**
 * What the SDK trusts, and how that may change (DESIGN §8 "Trust root"). Trust comes from outside
 * the delivery path, in one of three pinned forms:
 * - a **root document** (core/trust-root.ts): its snapshot keys verify; newer roots fetched from
 *   the edge are accepted only along TUF's chain (N+1 signed by a threshold of N's root keys and of
 *   its own), so keys rotate without re-pinning every host, and revoked kids stop verifying;
 * - a **JWKS**: exactly those keys, for good (rotating means re-pinning);
 * - **key thumbprints** (RFC 7638): the JWKS is fetched from the edge, but only keys whose
 *   thumbprint is pinned are ever used.
 * Against a loopback edge (development) with none of these, the first root or JWKS the edge
 * serves is trusted (trust on first use), with a warning. In no mode does a document fetched
 * from the edge replace what is trusted: it can only extend it through a verified chain or a pin.
 */
import { fromBase64Url } from "../core/encoding";
import { type FreshnessCheck, verifyFreshness } from "../core/freshness";
import { type Jwks, type PublicJwk, type SignatureCheck, verifySnapshot } from "../core/jws";
import {
  isRootExpired,
  MAX_ROOT_BYTES,
  MAX_ROOT_CHAIN_STEPS,
  parseRootDocument,
  type RootDocument,
  snapshotKeysOf,
  verifyPinnedRoot,
  verifyRootSuccessor,
} from "../core/trust-root";
import { ConfigClientError } from "./errors";
import { fetchSmallJson, jwkThumbprint, MAX_JWKS_BYTES, parseJwks } from "./jwks";

export const DEFAULT_ROOT_REFRESH_MS = 60 * 60 * 1000;
export const DEFAULT_TRUST_REFETCH_MIN_MS = 60_000;

export type TrustAnchor =
  | { kind: "root"; root: RootDocument; rootUrl: string }
  | { kind: "jwks"; jwks: Jwks }
  | { kind: "thumbprints"; thumbprints: string[]; jwksUrl: string }
  | { kind: "tofu"; rootUrl: string; jwksUrl: string };

export interface TrustOptions {
  fetch: typeof fetch;
  timeoutMs: number;
  now: () => number;
  /** Least time between two look-ups triggered by unknown kids. */
  refetchMinMs: number;
  /** How often a root-pinned client looks for a newer root even without an unknown kid. */
  rootRefreshMs: number;
  /** Reports a refused root or an unreachable key document (not fatal: old trust stays). */
  report: (error: ConfigClientError) => void;
  warn: (message: string) => void;
}

/** True for an edge on this machine: 127.0.0.0/8, ::1 or localhost (development only). */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

export class TrustStore {
  /** Roots accepted after the pinned one, oldest first (persisted in the cache file). */
  private readonly accepted: RootDocument[] = [];
  private revoked = new Set<string>();
  private keys: Jwks = { keys: [] };
  private readonly keyCache = new Map<string, CryptoKey>();
  private lastLookup = Number.NEGATIVE_INFINITY;
  private lastRootCheck: number;
  private inFlight: Promise<void> | null = null;
  private initialised = false;
  /** For TOFU: the root or JWKS first seen, then pinned like any other. */
  private tofuRoot: RootDocument | null = null;

  constructor(
    private readonly anchor: TrustAnchor,
    private readonly options: TrustOptions,
  ) {
    this.lastRootCheck = options.now();
    if (anchor.kind === "root") this.applyRoot(anchor.root);
    if (anchor.kind === "jwks") this.keys = snapshotOnly(anchor.jwks);
  }

  /** Checks a pinned root's own signatures; call once before use. */
  async init(): Promise<void> {
    if (this.initialised) return;
    if (this.anchor.kind === "root") {
      const own = await verifyPinnedRoot(this.anchor.root);
      if (!own.ok) throw new TypeError(`fleetconf: the pinned trust root is not valid: ${own.reason}`);
    }
    this.initialised = true;
  }

  /** The newest trusted root (pinned or accepted), if this client trusts by root. */
  newestRoot(): RootDocument | null {
    return this.accepted.at(-1) ?? (this.anchor.kind === "root" ? this.anchor.root : this.tofuRoot);
  }

  /** The roots accepted beyond the pinned one, for the cache file. */
  chain(): RootDocument[] {
    return [...this.accepted];
  }

  /** Trusted snapshot keys now (tests and diagnostics). */
  trustedKids(): string[] {
    return this.keys.keys.map((k) => k.kid);
  }

  /**
   * Re-applies a chain read from the cache file, verifying every step from the pinned root: a
   * cache file can only hold what the pinned root already vouches for, never vouch for itself.
   */
  async adoptChain(raw: unknown): Promise<string | null> {
    if (this.anchor.kind !== "root" || raw === undefined) return null;
    if (!Array.isArray(raw) || raw.length > 1024) return "the cached root chain is not a list";
    for (const item of raw) {
      const parsed = parseRootDocument(item);
      if (!parsed.ok) return `a cached root is malformed: ${parsed.reason}`;
      const current = this.newestRoot() as RootDocument;
      if (parsed.value.signed.version <= current.signed.version) continue;
      const step = await verifyRootSuccessor(current.signed, parsed.value, this.revoked);
      if (!step.ok) return `a cached root does not chain to the pinned root: ${step.reason}`;
      this.accepted.push(step.value);
      this.applyRoot(step.value);
    }
    return null;
  }

  /** Verifies a snapshot signature with trusted keys; an unknown kid may trigger one look-up. */
  async verifySnapshot(signature: string, body: Uint8Array): Promise<SignatureCheck | RefusedByRoot> {
    await this.ensureKeys();
    await this.maybePeriodicRootCheck();
    const expired = this.rootExpired();
    if (expired) return expired;
    const first = await this.checkSnapshot(signature, body);
    if (first.ok || first.code !== "unknown_kid") return first;
    if (await this.lookUp()) return this.checkSnapshot(signature, body);
    return first;
  }

  async verifyFreshness(jws: string): Promise<FreshnessCheck | RefusedByRoot> {
    await this.ensureKeys();
    const expired = this.rootExpired();
    if (expired) return expired;
    const kid = kidOfCompact(jws);
    if (kid && this.revoked.has(kid)) return revokedCheck(kid);
    const first = await verifyFreshness(jws, this.keys, this.keyCache);
    if (first.ok || first.code !== "unknown_kid") return first;
    if (await this.lookUp()) return verifyFreshness(jws, this.keys, this.keyCache);
    return first;
  }

  private async checkSnapshot(signature: string, body: Uint8Array): Promise<SignatureCheck | RefusedByRoot> {
    const kid = kidOfDetached(signature);
    if (kid && this.revoked.has(kid)) return revokedCheck(kid);
    return verifySnapshot(signature, body, this.keys, this.keyCache);
  }

  private rootExpired(): RefusedByRoot | null {
    const root = this.newestRoot();
    if (root && isRootExpired(root.signed, this.options.now())) {
      return {
        ok: false,
        code: "root_expired",
        reason: `the newest trusted root (v${root.signed.version}) expired at ${root.signed.expires}`,
      };
    }
    return null;
  }

  private applyRoot(root: RootDocument): void {
    for (const kid of root.signed.revoked) this.revoked.add(kid);
    this.keys = snapshotKeysOf(root.signed, this.revoked);
    this.keyCache.clear();
  }

  /**
   * The first fetch of the modes that start with no keys (TOFU, thumbprints). Only the very first
   * is forced; after a failed one they wait `refetchMinMs` like any other look-up, so an edge
   * that never serves a usable key set cannot turn every poll into a download.
   */
  private async ensureKeys(): Promise<void> {
    const empty =
      (this.anchor.kind === "tofu" && this.keys.keys.length === 0 && !this.tofuRoot) ||
      (this.anchor.kind === "thumbprints" && this.keys.keys.length === 0);
    if (empty) await this.lookUp(this.lastLookup === Number.NEGATIVE_INFINITY);
  }

  /** Looks for a newer root when `rootRefreshMs` has passed (called before every poll). */
  async refreshIfDue(): Promise<void> {
    await this.maybePeriodicRootCheck();
  }

  private async maybePeriodicRootCheck(): Promise<void> {
    if (!this.newestRoot()) return;
    if (this.options.now() - this.lastRootCheck < this.options.rootRefreshMs) return;
    await this.lookUp(true);
  }

  /** One rate-limited, single-flight look-up; true when the trusted keys changed. */
  private async lookUp(force = false): Promise<boolean> {
    if (!force && this.options.now() - this.lastLookup < this.options.refetchMinMs) return false;
    const before = this.keys.keys.map((k) => k.kid).join(",");
    this.inFlight ??= this.doLookUp().finally(() => {
      this.lastLookup = this.options.now();
      this.inFlight = null;
    });
    await this.inFlight;
    return this.keys.keys.map((k) => k.kid).join(",") !== before;
  }

  private async doLookUp(): Promise<void> {
    try {
      const anchor = this.anchor;
      if (anchor.kind === "root") {
        this.lastRootCheck = this.options.now();
        await this.followRoots(anchor.rootUrl);
      } else if (anchor.kind === "thumbprints") {
        await this.addPinnedThumbprints(anchor);
      } else if (anchor.kind === "tofu") {
        if (this.tofuRoot) {
          this.lastRootCheck = this.options.now();
          await this.followRoots(anchor.rootUrl);
        } else if (this.keys.keys.length === 0) {
          await this.firstUse(anchor);
        }
      }
    } catch (error) {
      this.options.report(
        error instanceof ConfigClientError
          ? error
          : new ConfigClientError("root_unavailable", String(error), { cause: error }),
      );
    }
  }

  /** TUF §5.3: fetch version N+1 until the edge has none, each accepted only along the chain. */
  private async followRoots(rootUrl: string): Promise<void> {
    for (let step = 0; step < MAX_ROOT_CHAIN_STEPS; step++) {
      const current = this.newestRoot() as RootDocument;
      const next = current.signed.version + 1;
      const raw = await fetchSmallJson(this.options.fetch, withVersion(rootUrl, next), {
        timeoutMs: this.options.timeoutMs,
        limit: MAX_ROOT_BYTES,
        code: "root_unavailable",
      });
      if (raw === null) return;
      const parsed = parseRootDocument(raw);
      if (!parsed.ok)
        throw new ConfigClientError("root_refused", `root v${next} is malformed: ${parsed.reason}`);
      const checked = await verifyRootSuccessor(current.signed, parsed.value, this.revoked);
      if (!checked.ok)
        throw new ConfigClientError("root_refused", `root v${next} refused: ${checked.reason}`);
      this.accepted.push(checked.value);
      this.applyRoot(checked.value);
      this.options.warn(
        `accepted trust root v${next} (snapshot keys ${this.keys.keys.map((k) => k.kid).join(", ") || "none"})`,
      );
    }
  }

  private async addPinnedThumbprints(anchor: { thumbprints: string[]; jwksUrl: string }): Promise<void> {
    const jwks = await this.fetchJwks(anchor.jwksUrl);
    const known = new Set(this.keys.keys.map((k) => k.kid));
    const added: PublicJwk[] = [];
    for (const key of snapshotOnly(jwks).keys) {
      if (known.has(key.kid)) continue;
      if (anchor.thumbprints.includes(await jwkThumbprint(key))) added.push(key);
    }
    if (added.length > 0) this.keys = { keys: [...this.keys.keys, ...added] };
  }

  private async firstUse(anchor: { rootUrl: string; jwksUrl: string }): Promise<void> {
    const rawRoot = await fetchSmallJson(this.options.fetch, anchor.rootUrl, {
      timeoutMs: this.options.timeoutMs,
      limit: MAX_ROOT_BYTES,
      code: "root_unavailable",
    }).catch(() => null);
    if (rawRoot !== null) {
      const parsed = parseRootDocument(rawRoot);
      if (parsed.ok && (await verifyPinnedRoot(parsed.value)).ok) {
        this.tofuRoot = parsed.value;
        this.applyRoot(parsed.value);
        this.options.warn(
          `trusting the edge's root v${parsed.value.signed.version} on first use (loopback development only); pin it with trustRoot`,
        );
        return;
      }
    }
    const jwks = await this.fetchJwks(anchor.jwksUrl);
    this.keys = snapshotOnly(jwks);
    this.options.warn(
      `trusting the edge's JWKS on first use (loopback development only): ${this.keys.keys.map((k) => k.kid).join(", ")}; pin keys with trustRoot, jwks or keyThumbprints`,
    );
  }

  /** The edge's JWKS (thumbprint pins and first use); unreachable or not a JWKS: jwks_unavailable. */
  private async fetchJwks(url: string): Promise<Jwks> {
    const raw = await fetchSmallJson(this.options.fetch, url, {
      timeoutMs: this.options.timeoutMs,
      limit: MAX_JWKS_BYTES,
      code: "jwks_unavailable",
    });
    const jwks = raw === null ? null : parseJwks(raw);
    if (!jwks) throw new ConfigClientError("jwks_unavailable", `${url} is not a JWKS`);
    return jwks;
  }
}

export type RefusedByRoot = { ok: false; code: "revoked_key" | "root_expired"; reason: string };

function revokedCheck(kid: string): RefusedByRoot {
  return { ok: false, code: "revoked_key", reason: `key ${kid} is revoked by the trust root` };
}

function snapshotOnly(jwks: Jwks): Jwks {
  return { keys: jwks.keys.filter((k) => (k.purpose ?? "snapshot") === "snapshot") };
}

function withVersion(url: string, version: number): string {
  const u = new URL(url);
  u.searchParams.set("version", String(version));
  return u.toString();
}

function kidOf(headerB64: string | undefined): string | null {
  if (!headerB64 || headerB64.length > 4096) return null;
  try {
    const json: unknown = JSON.parse(new TextDecoder().decode(fromBase64Url(headerB64)));
    const kid = (json as { kid?: unknown }).kid;
    return typeof kid === "string" ? kid : null;
  } catch {
    return null;
  }
}

function kidOfDetached(jws: string): string | null {
  return kidOf(jws.split(".")[0]);
}

function kidOfCompact(jws: string): string | null {
  return kidOf(jws.split(".")[0]);
}
