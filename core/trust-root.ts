/**
 * The trust root (DESIGN §8): a signed key-set document, modelled on TUF's root metadata
 * (The Update Framework spec §4.3 "root.json", §5.3 "Update the root role"). Clients pin one root
 * outside the delivery path and accept a newer one only along the chain: version N+1 must be
 * signed by a threshold of version N's root keys AND a threshold of its own (TUF §5.3.4–5.3.5), so
 * whoever carries the bytes (a proxy, a compromised edge) cannot introduce keys of their own.
 *
 * Wire shape (JSON, served at `/.well-known/fleetconf-root.json[?version=N]`):
 *
 *   {"signed": {"type": "fleetconf-root", "version": 2, "expires": "2027-12-01T00:00:00Z",
 *               "threshold": 1, "keys": [JWK…], "revoked": ["s-old"]},
 *    "signatures": [{"kid": "r-…", "sig": "<base64url Ed25519 over canonical JSON of signed>"}]}
 *
 * - `keys`: Ed25519 public JWKs (RFC 8037), each with a `kid` and a `purpose`: `root` keys sign root
 *   documents (they are the ones `threshold` counts), `snapshot` keys sign snapshots and
 *   `Config-Freshness` proofs. A key without `purpose` is a snapshot key (as in core/jws.ts).
 * - `revoked`: kids that must never verify anything again (a compromised key); none of them may
 *   appear in `keys`, and a client keeps every kid it has seen revoked along the chain.
 * - `expires`: RFC 3339 UTC time; a client whose newest root is expired refuses new snapshots
 *   (TUF §5.3.10: the freeze-attack check on the root itself).
 * - Signing input: the canonical JSON of `signed`, RFC 8785 (JCS): object members sorted by their
 *   UTF-16 code units, no whitespace, ECMAScript number and string serialisation. Signatures by
 *   unknown kids, duplicates and non-root keys are ignored, never counted twice (TUF §5.3.4).
 *
 * Pure: no I/O. Verification uses WebCrypto Ed25519 only.
 */
import { fromBase64Url, toBase64Url, utf8Bytes } from "./encoding";
import { importSigningKey, importVerifyKey, type Jwks, type PrivateJwk, type PublicJwk } from "./jws";

export const ROOT_TYPE = "fleetconf-root";
/** A root document is a few keys; anything near this is an attack (TUF "endless data"). */
export const MAX_ROOT_BYTES = 64 * 1024;
export const MAX_ROOT_KEYS = 32;
export const MAX_ROOT_SIGNATURES = 32;
/** Root versions one refresh may walk (TUF §5.3.3 bounds the walk too, "max root rotations"). */
export const MAX_ROOT_CHAIN_STEPS = 32;

export interface RootSigned {
  type: typeof ROOT_TYPE;
  version: number;
  /** RFC 3339, UTC. */
  expires: string;
  threshold: number;
  keys: PublicJwk[];
  revoked: string[];
}

export interface RootSignature {
  kid: string;
  sig: string;
}

export interface RootDocument {
  signed: RootSigned;
  signatures: RootSignature[];
}

export type RootResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const ED25519 = { name: "Ed25519" } as const;
const KID = /^[A-Za-z0-9._:-]{1,128}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** RFC 8785 canonical JSON of a JSON value (integers, strings, booleans, null, arrays, objects). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonical JSON has no NaN or Infinity");
    // RFC 8785 §3.2.2.3: ECMAScript's Number serialisation, which JSON.stringify uses.
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    // RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names; JS sort compares
    // strings exactly that way. Members whose value is undefined do not exist in JSON.
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** The bytes every root signature covers. */
export function rootSigningInput(signed: RootSigned): Uint8Array {
  return utf8Bytes(canonicalJson(signed));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses (but does not verify) a root document: shape, limits and internal consistency. */
export function parseRootDocument(raw: unknown): RootResult<RootDocument> {
  if (!isObject(raw)) return { ok: false, reason: "a root document is a JSON object" };
  const signed = raw.signed;
  const signatures = raw.signatures;
  if (!isObject(signed)) return { ok: false, reason: "signed must be an object" };
  if (signed.type !== ROOT_TYPE) return { ok: false, reason: `signed.type must be "${ROOT_TYPE}"` };
  const version = signed.version;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1)
    return { ok: false, reason: "signed.version must be a positive integer" };
  if (
    typeof signed.expires !== "string" ||
    !RFC3339_UTC.test(signed.expires) ||
    Number.isNaN(Date.parse(signed.expires))
  )
    return { ok: false, reason: "signed.expires must be an RFC 3339 UTC time (…Z)" };
  const threshold = signed.threshold;
  if (typeof threshold !== "number" || !Number.isSafeInteger(threshold) || threshold < 1)
    return { ok: false, reason: "signed.threshold must be a positive integer" };
  if (!Array.isArray(signed.keys) || signed.keys.length === 0 || signed.keys.length > MAX_ROOT_KEYS)
    return { ok: false, reason: `signed.keys must list 1 to ${MAX_ROOT_KEYS} keys` };
  const revokedRaw = signed.revoked ?? [];
  if (
    !Array.isArray(revokedRaw) ||
    revokedRaw.length > 1024 ||
    !revokedRaw.every((k) => typeof k === "string" && KID.test(k))
  )
    return { ok: false, reason: "signed.revoked must be a list of kids" };
  const revoked = revokedRaw as string[];
  const keys: PublicJwk[] = [];
  const kids = new Set<string>();
  for (const candidate of signed.keys) {
    if (!isObject(candidate)) return { ok: false, reason: "every key is a JWK object" };
    const { kty, crv, x, kid, purpose } = candidate;
    if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(x))
      return { ok: false, reason: "every key is an Ed25519 public JWK (RFC 8037)" };
    if (typeof kid !== "string" || !KID.test(kid)) return { ok: false, reason: "every key needs a kid" };
    if (purpose !== undefined && purpose !== "root" && purpose !== "snapshot")
      return { ok: false, reason: `key ${kid}: purpose must be "root" or "snapshot"` };
    if (kids.has(kid)) return { ok: false, reason: `kid ${kid} is listed twice` };
    if (revoked.includes(kid)) return { ok: false, reason: `kid ${kid} is both listed and revoked` };
    kids.add(kid);
    keys.push(candidate as PublicJwk);
  }
  const rootKeys = keys.filter((k) => k.purpose === "root").length;
  if (rootKeys < threshold)
    return { ok: false, reason: `threshold ${threshold} is more than the ${rootKeys} root keys listed` };
  if (!Array.isArray(signatures) || signatures.length > MAX_ROOT_SIGNATURES)
    return { ok: false, reason: `signatures must be a list of at most ${MAX_ROOT_SIGNATURES}` };
  const sigs: RootSignature[] = [];
  for (const s of signatures) {
    if (!isObject(s) || typeof s.kid !== "string" || typeof s.sig !== "string" || s.sig.length > 200)
      return { ok: false, reason: "every signature is {kid, sig}" };
    sigs.push({ kid: s.kid, sig: s.sig });
  }
  return {
    ok: true,
    value: {
      signed: { type: ROOT_TYPE, version, expires: signed.expires, threshold, keys, revoked },
      signatures: sigs,
    },
  };
}

/** Parses root JSON text, refusing anything above MAX_ROOT_BYTES before parsing it. */
export function parseRootText(text: string): RootResult<RootDocument> {
  if (utf8Bytes(text).length > MAX_ROOT_BYTES)
    return { ok: false, reason: `larger than ${MAX_ROOT_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  return parseRootDocument(raw);
}

export function rootKeysOf(signed: RootSigned): PublicJwk[] {
  return signed.keys.filter((k) => k.purpose === "root");
}

/** The keys that may verify snapshots and freshness proofs under this root. */
export function snapshotKeysOf(signed: RootSigned, revoked: Iterable<string> = []): Jwks {
  const gone = new Set([...signed.revoked, ...revoked]);
  return {
    keys: signed.keys
      .filter((k) => (k.purpose ?? "snapshot") === "snapshot" && !gone.has(k.kid))
      .map((k) => ({ ...k, purpose: "snapshot" as const })),
  };
}

export function isRootExpired(signed: RootSigned, nowMs: number): boolean {
  return Date.parse(signed.expires) <= nowMs;
}

/** The distinct root kids among `trustedRootKeys` whose signature over `doc.signed` verifies. */
export async function validRootSignatures(
  doc: RootDocument,
  trustedRootKeys: PublicJwk[],
): Promise<Set<string>> {
  const input = rootSigningInput(doc.signed);
  const valid = new Set<string>();
  for (const { kid, sig } of doc.signatures) {
    if (valid.has(kid)) continue;
    const jwk = trustedRootKeys.find((k) => k.kid === kid && k.purpose === "root");
    if (!jwk) continue;
    let bytes: Uint8Array;
    try {
      bytes = fromBase64Url(sig);
    } catch {
      continue;
    }
    if (bytes.length !== 64) continue;
    const key = await importVerifyKey(jwk);
    if (await crypto.subtle.verify(ED25519, key, bytes, input)) valid.add(kid);
  }
  return valid;
}

/**
 * Checks a root that is pinned as given (the operator's file): it must still carry a threshold of
 * its own signatures, which catches a truncated or hand-edited file early.
 */
export async function verifyPinnedRoot(doc: RootDocument): Promise<RootResult<RootDocument>> {
  const own = await validRootSignatures(doc, rootKeysOf(doc.signed));
  if (own.size < doc.signed.threshold) {
    return {
      ok: false,
      reason: `root v${doc.signed.version} has ${own.size} of its own ${doc.signed.threshold} signatures`,
    };
  }
  return { ok: true, value: doc };
}

/**
 * TUF §5.3.4–5.3.5 for one step: `next` is accepted after `trusted` only when it is exactly the
 * next version and carries a threshold of signatures by `trusted`'s root keys AND by its own.
 * `revoked` is every kid revoked so far along the chain: a revoked kid cannot come back.
 */
export async function verifyRootSuccessor(
  trusted: RootSigned,
  next: RootDocument,
  revoked: ReadonlySet<string> = new Set(),
): Promise<RootResult<RootDocument>> {
  if (next.signed.version !== trusted.version + 1) {
    return { ok: false, reason: `expected root version ${trusted.version + 1}, got ${next.signed.version}` };
  }
  const gone = new Set([...revoked, ...trusted.revoked]);
  const back = next.signed.keys.find((k) => gone.has(k.kid));
  if (back) return { ok: false, reason: `root v${next.signed.version} lists revoked kid ${back.kid}` };
  // The old root's keys count even if `next` revokes one of them (TUF §5.3.4): that is how a
  // threshold of surviving holders replaces a compromised root key.
  const byOld = await validRootSignatures(next, rootKeysOf(trusted));
  if (byOld.size < trusted.threshold) {
    return {
      ok: false,
      reason: `root v${next.signed.version} has ${byOld.size} of the ${trusted.threshold} signatures needed from v${trusted.version}'s root keys`,
    };
  }
  const byOwn = await validRootSignatures(next, rootKeysOf(next.signed));
  if (byOwn.size < next.signed.threshold) {
    return {
      ok: false,
      reason: `root v${next.signed.version} has ${byOwn.size} of its own ${next.signed.threshold} signatures`,
    };
  }
  return { ok: true, value: next };
}

/** Signs `signed` with each private root key (for `fleetconf keys rotate` and tests). */
export async function signRoot(signed: RootSigned, rootKeys: PrivateJwk[]): Promise<RootDocument> {
  const input = rootSigningInput(signed);
  const signatures: RootSignature[] = [];
  for (const jwk of rootKeys) {
    const key = await importSigningKey(jwk);
    const sig = new Uint8Array(await crypto.subtle.sign(ED25519, key, input));
    signatures.push({ kid: jwk.kid, sig: toBase64Url(sig) });
  }
  return { signed, signatures };
}
