/**
 * The parameters every `/v1/configs/{key}…` route shares, declared once: the key (2–4 segments,
 * spanning slashes; http/declared-routes.ts KEY) and the write headers `If-Match` and
 * `Config-Message`, each parsed by the reader that knows its rules.
 */
import { z } from "@hono/zod-openapi";
import { requireKey } from "../../core";
import { optionalParsedBy, parsedBy } from "./declared-routes";
import { parseConfigMessage, parseEntityTags } from "./headers";

export const CONFIGS = "/v1/configs";

/** The `{key}` path parameter, parsed by core requireKey (400 invalid_key). */
export const KeyParams = z.object({
  key: parsedBy(requireKey).openapi({
    param: { name: "key", in: "path" },
    description: "A config key: 2–4 segments of `[a-z0-9][a-z0-9._-]{0,63}` joined by `/`, sent unencoded.",
    example: "payments/prod/flags",
  }),
});

export const ifMatch = optionalParsedBy((raw) => parseEntityTags("If-Match", raw)).openapi({
  description: "Write only over this version (RFC 9110 §13.1.1), else 412.",
});
const configMessage = optionalParsedBy(parseConfigMessage).openapi({
  description: "A note for the audit log, at most 1000 characters of UTF-8 text.",
});

/** Header names are lower case: Hono's header validator sees them so (RFC 9110 §5.1). */
export const WriteHeaders = z.object({ "if-match": ifMatch, "config-message": configMessage });
