/**
 * A shared secret's strength, estimated from what it is made of. PURGE_SECRET authenticates the
 * origin to the edge (purges, heads, fleet sightings), so a guessable one lets anyone empty every
 * edge cache. Required: at least 256 bits (32 bytes) of entropy, estimated as length × log2 of
 * the smallest usual alphabet containing it (hex 16, base64/base64url 64, printable ASCII 95),
 * and at least 16 distinct characters, so `aaaa…` or a repeated word fails whatever its length.
 * `openssl rand -base64 32` and `scripts/lib/secrets.ts` (32 random bytes, base64url) pass.
 */

export const MIN_SECRET_ENTROPY_BITS = 256;
const MIN_DISTINCT_CHARS = 16;

export type SecretStrength = { ok: true; bits: number } | { ok: false; bits: number; reason: string };

export function secretStrength(secret: string): SecretStrength {
  const alphabet = /^[0-9a-fA-F]*$/.test(secret) ? 16 : /^[A-Za-z0-9+/_=-]*$/.test(secret) ? 64 : 95;
  const bits = Math.floor(secret.length * Math.log2(alphabet));
  if (bits < MIN_SECRET_ENTROPY_BITS) {
    return {
      ok: false,
      bits,
      reason: `about ${bits} bits of entropy, at least ${MIN_SECRET_ENTROPY_BITS} needed (e.g. openssl rand -base64 32)`,
    };
  }
  // A hex secret has only 16 symbols: 64 random hex digits miss at least one of them about a quarter
  // of the time, so hex needs 10 distinct (missed by random hex with negligible probability).
  const minDistinct = alphabet === 16 ? 10 : MIN_DISTINCT_CHARS;
  if (new Set(secret).size < minDistinct) {
    return { ok: false, bits, reason: `fewer than ${minDistinct} distinct characters: not random` };
  }
  return { ok: true, bits };
}
