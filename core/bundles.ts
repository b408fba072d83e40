/**
 * Bundles (DESIGN §8): a named set of keys of one namespace whose member versions are published
 * as one signed manifest, so a single conditional GET tells a client which versions form a
 * consistent set. A manifest travels exactly like a config — the same snapshot and head records
 * in KV, the same edge tiers, ETag, signature and long-poll — under the pseudo-key
 * `bundle:{namespace}/{name}`, which no config key can equal (a config key has no `:`).
 */
import { FleetconfError } from "./errors";
import { isValidSegment, parseKey } from "./keys";

export const BUNDLE_KEY_PREFIX = "bundle:";
/** How many keys one bundle may name: one manifest, fetched and verified as a whole. */
export const MAX_BUNDLE_KEYS = 100;

export interface BundleRef {
  namespace: string;
  name: string;
  /** `bundle:{namespace}/{name}`: the key its manifest is signed, stored and cached under. */
  key: string;
}

export interface BundleMember {
  version: number;
  digest: string;
}

/** The document the edge serves at `/v1/bundles/{namespace}/{name}`. */
export interface BundleManifest {
  bundle: string;
  version: number;
  members: Record<string, BundleMember>;
}

/** A bundle's name: one key segment, or invalid_key. */
export function parseBundleName(raw: string): string {
  if (!isValidSegment(raw)) {
    throw new FleetconfError("invalid_key", "A bundle name must match [a-z0-9][a-z0-9._-]{0,63}.");
  }
  return raw;
}

export function bundleRef(namespace: string, name: string): BundleRef {
  if (!isValidSegment(namespace)) {
    throw new FleetconfError("invalid_key", "A namespace must match [a-z0-9][a-z0-9._-]{0,63}.");
  }
  parseBundleName(name);
  return { namespace, name, key: `${BUNDLE_KEY_PREFIX}${namespace}/${name}` };
}

/** `ns/name` (as the CLI and agent take it) → a BundleRef, or invalid_key. */
export function parseBundlePath(raw: string): BundleRef {
  const parts = raw.split("/");
  if (parts.length !== 2) throw new FleetconfError("invalid_key", "A bundle is named namespace/name.");
  return bundleRef(parts[0] ?? "", parts[1] ?? "");
}

/** The BundleRef of a `bundle:{namespace}/{name}` pseudo-key, or null for anything else. */
export function parseBundleKey(key: string): BundleRef | null {
  if (!key.startsWith(BUNDLE_KEY_PREFIX)) return null;
  try {
    return parseBundlePath(key.slice(BUNDLE_KEY_PREFIX.length));
  } catch {
    return null;
  }
}

/** What KV, the purge and the edge caches may be told about: a config key or a bundle's pseudo-key. */
export function isDistributedKey(key: string): boolean {
  return parseKey(key).ok || parseBundleKey(key) !== null;
}

/**
 * The manifest's exact bytes: members in key order, so the same set always has the same digest
 * (a re-definition that changes nothing creates no version).
 */
export function encodeBundleManifest(manifest: BundleManifest): string {
  const members: Record<string, BundleMember> = {};
  for (const key of Object.keys(manifest.members).sort()) {
    const member = manifest.members[key];
    if (member) members[key] = { version: member.version, digest: member.digest };
  }
  return JSON.stringify({ bundle: manifest.bundle, version: manifest.version, members });
}

/** Whether two member maps name the same versions of the same keys. */
export function sameMembers(a: Record<string, BundleMember>, b: Record<string, BundleMember>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => {
    const other = b[key];
    const mine = a[key];
    return (
      other !== undefined &&
      mine !== undefined &&
      other.version === mine.version &&
      other.digest === mine.digest
    );
  });
}

/**
 * Checks a manifest document received by a client (after its signature and digest were checked):
 * the right bundle, a positive version, and each member a key of the bundle's namespace.
 */
export function parseBundleManifest(
  text: string,
  expected: Pick<BundleRef, "namespace" | "name">,
): BundleManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("bundle manifest is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("bundle manifest is not an object");
  const doc = value as Record<string, unknown>;
  if (doc.bundle !== `${expected.namespace}/${expected.name}`)
    throw new Error("bundle manifest names another bundle");
  if (typeof doc.version !== "number" || !Number.isSafeInteger(doc.version) || doc.version < 1)
    throw new Error("bundle manifest has no valid version");
  const members = doc.members;
  if (typeof members !== "object" || members === null || Array.isArray(members))
    throw new Error("bundle manifest has no members object");
  const out: Record<string, BundleMember> = {};
  for (const [key, member] of Object.entries(members as Record<string, unknown>)) {
    const parsed = parseKey(key);
    if (!parsed.ok || parsed.value.namespace !== expected.namespace)
      throw new Error(`bundle member ${key} is not a key of ${expected.namespace}`);
    const m = member as Record<string, unknown> | null;
    if (
      typeof m !== "object" ||
      m === null ||
      typeof m.version !== "number" ||
      !Number.isSafeInteger(m.version) ||
      m.version < 1 ||
      typeof m.digest !== "string"
    )
      throw new Error(`bundle member ${key} has no valid version and digest`);
    out[key] = { version: m.version, digest: m.digest };
  }
  return { bundle: doc.bundle, version: doc.version, members: out };
}
