/**
 * Which trust anchor a client starts from (client/trust.ts): exactly one pin — a root document,
 * a JWKS or key thumbprints — or, against a loopback edge only, trust on first use. Shared by the
 * config client and the bundle client; a wrong combination is a TypeError at construction.
 */
import { parseRootDocument, parseRootText } from "../core/trust-root";
import { parseThumbprint } from "./jwks";
import { isLoopbackUrl, type TrustAnchor } from "./trust";
import type { ConfigClientOptions } from "./types";

/** The options that say what to trust. */
export type TrustAnchorOptions = Pick<
  ConfigClientOptions<unknown>,
  "edge" | "rootUrl" | "jwksUrl" | "trustRoot" | "jwks" | "keyThumbprints"
>;

/** Picks the trust anchor from the options (exactly one pin, or loopback trust on first use). */
export function trustAnchorOf(options: TrustAnchorOptions): TrustAnchor {
  const edge = options.edge.replace(/\/+$/, "");
  const rootUrl = options.rootUrl ?? `${edge}/.well-known/fleetconf-root.json`;
  const jwksUrl = options.jwksUrl ?? `${edge}/.well-known/jwks.json`;
  const pins = [options.trustRoot, options.jwks, options.keyThumbprints].filter((p) => p !== undefined);
  if (pins.length > 1) throw new TypeError("fleetconf: pass only one of trustRoot, jwks or keyThumbprints");
  if (options.jwksUrl !== undefined && (options.trustRoot !== undefined || options.jwks !== undefined)) {
    throw new TypeError(
      "fleetconf: jwksUrl goes with keyThumbprints (or loopback development), not a pinned jwks or root",
    );
  }
  if (options.trustRoot !== undefined) {
    const parsed =
      typeof options.trustRoot === "string"
        ? parseRootText(options.trustRoot)
        : parseRootDocument(options.trustRoot);
    if (!parsed.ok) throw new TypeError(`fleetconf: trustRoot is not a root document: ${parsed.reason}`);
    return { kind: "root", root: parsed.value, rootUrl };
  }
  if (options.jwks !== undefined) {
    if (!Array.isArray(options.jwks.keys) || options.jwks.keys.length === 0) {
      throw new TypeError("fleetconf: the pinned jwks has no keys");
    }
    return { kind: "jwks", jwks: options.jwks };
  }
  if (options.keyThumbprints !== undefined) {
    const thumbprints = options.keyThumbprints.map(parseThumbprint);
    if (thumbprints.length === 0 || thumbprints.some((t) => t === null)) {
      throw new TypeError("fleetconf: keyThumbprints must be RFC 7638 SHA-256 thumbprints (base64url)");
    }
    return { kind: "thumbprints", thumbprints: thumbprints as string[], jwksUrl };
  }
  if (!isLoopbackUrl(options.edge) || (options.jwksUrl !== undefined && !isLoopbackUrl(options.jwksUrl))) {
    throw new TypeError(
      "fleetconf: pin what to trust (trustRoot, jwks or keyThumbprints); trust on first use is allowed only against a loopback edge",
    );
  }
  return { kind: "tofu", rootUrl, jwksUrl };
}
