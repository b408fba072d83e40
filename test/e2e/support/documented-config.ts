/**
 * The shared-cache configurations that docs/shared-caches.md recommends, read from the page itself
 * so the e2e tests run exactly what operators are told to run; only the paths, the listen address
 * and the edge's address are replaced, and a replacement whose text is missing fails loudly (the
 * page and the tests must not drift apart).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../../scripts/lib/wrangler";

export const SHARED_CACHES_DOC = join(REPO_ROOT, "docs", "shared-caches.md");

/** The first fenced block of `language` in docs/shared-caches.md, with each `[from, to]` replaced. */
export function documentedConfig(language: "nginx" | "vcl", replacements: [string, string][]): string {
  const page = readFileSync(SHARED_CACHES_DOC, "utf8");
  const block = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, "m").exec(page)?.[1];
  if (block === undefined) throw new Error(`${SHARED_CACHES_DOC} has no \`\`\`${language} block`);
  let text = block;
  for (const [from, to] of replacements) {
    if (!text.includes(from)) {
      throw new Error(
        `the ${language} block of ${SHARED_CACHES_DOC} no longer contains ${JSON.stringify(from)}`,
      );
    }
    text = text.split(from).join(to);
  }
  return text;
}

/** `http://host:port` → its host and port (the edge's URL from the stack). */
export function hostAndPort(url: string): { host: string; port: string } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port || (parsed.protocol === "https:" ? "443" : "80") };
}
