/**
 * What `npm run deploy` checks before it lets wrangler talk to Cloudflare, all offline: both
 * configs name the same real KV namespace (not the local placeholder), and wrangler has
 * credentials (an API token in the environment or a `wrangler login` session on disk).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const LOCAL_KV_ID = "fleetconf-configs-local";

/** The `id` of the `CONFIGS` KV binding in a wrangler.toml, or undefined. */
export function configsKvId(tomlText: string): string | undefined {
  for (const block of tomlText.split(/^\s*\[\[kv_namespaces\]\]\s*$/m).slice(1)) {
    const body = block.split(/^\s*\[/m)[0] ?? "";
    if (!/^\s*binding\s*=\s*"CONFIGS"\s*$/m.test(body)) continue;
    return /^\s*id\s*=\s*"([^"]*)"\s*$/m.exec(body)?.[1];
  }
  return undefined;
}

/** Problems with the KV ids of the edge and origin configs; empty when deployable. */
export function kvIdProblems(configs: Record<string, string>): string[] {
  const problems: string[] = [];
  const ids = new Map<string, string | undefined>();
  for (const [file, text] of Object.entries(configs)) {
    const id = configsKvId(text);
    ids.set(file, id);
    if (id === undefined) problems.push(`${file} has no [[kv_namespaces]] binding "CONFIGS" with an id.`);
    else if (id === LOCAL_KV_ID) {
      problems.push(
        `${file}: the CONFIGS KV id is still the local placeholder "${LOCAL_KV_ID}". ` +
          "Create the namespace (npx wrangler kv namespace create CONFIGS) and put its id in both configs.",
      );
    }
  }
  const distinct = new Set([...ids.values()].filter((id) => id !== undefined));
  if (distinct.size > 1) {
    problems.push(
      `the edge and the origin must share one KV namespace, but the configs name ${[...distinct].join(" and ")}.`,
    );
  }
  return problems;
}

/** Where wrangler keeps its login: `~/.wrangler` if present, else `$XDG_CONFIG_HOME/.wrangler`. */
export function wranglerConfigDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const legacy = join(home, ".wrangler");
  try {
    if (statSync(legacy).isDirectory()) return legacy;
  } catch {
    // No legacy dir.
  }
  return join(env.XDG_CONFIG_HOME || join(home, ".config"), ".wrangler");
}

/** How wrangler would authenticate, or undefined when it could not (checked without network). */
export function credentialSource(env: NodeJS.ProcessEnv = process.env, home = homedir()): string | undefined {
  if (env.CLOUDFLARE_API_TOKEN) return "CLOUDFLARE_API_TOKEN";
  if (env.CLOUDFLARE_API_KEY && env.CLOUDFLARE_EMAIL) return "CLOUDFLARE_API_KEY + CLOUDFLARE_EMAIL";
  const authFile = join(wranglerConfigDir(env, home), "config", "default.toml");
  if (existsSync(authFile) && /^\s*oauth_token\s*=/m.test(readFileSync(authFile, "utf8"))) {
    return `wrangler login (${authFile})`;
  }
  return undefined;
}

/**
 * A wrangler.toml without its `[[services]]` bindings to `service`. The edge and the origin bind
 * each other, and Cloudflare refuses a binding to a Worker that does not exist yet (API error
 * 10143), so the very first deploy ships the edge once without its ORIGIN binding.
 */
export function withoutServiceBinding(tomlText: string, service: string): string {
  const parts = tomlText.split(/^(?=\s*\[)/m);
  return parts
    .filter((part) => {
      if (!/^\s*\[\[services\]\]/.test(part)) return true;
      return !new RegExp(
        `^\\s*service\\s*=\\s*"${service.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"\\s*$`,
        "m",
      ).test(part);
    })
    .join("");
}

/** The services a wrangler.toml binds to (`[[services]] service = "…"`). */
export function boundServices(tomlText: string): string[] {
  return [...tomlText.matchAll(/^\s*\[\[services\]\][^[]*?^\s*service\s*=\s*"([^"]+)"/gm)].flatMap((m) =>
    m[1] === undefined ? [] : [m[1]],
  );
}
