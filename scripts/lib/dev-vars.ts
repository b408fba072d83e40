/**
 * `.dev.vars`: the local secrets both workers read (wrangler loads `.dev.vars` from beside each
 * config, so the root file is copied to `origin/.dev.vars`). Written once with fresh keys and
 * never silently replaced: rotating keys is `fleetconf keys rotate`, resetting is deleting it.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSecrets, parseDotenv, parseJsonQuotedDotenv, renderDotenv, secretProblems } from "./secrets";

/**
 * Makes sure `.dev.vars` and its origin copy exist and work; returns the secrets. A file whose
 * JSON values were written JSON.stringify-style (`"{\"keys\":…}"`) is rewritten with the same
 * keys in single quotes, because wrangler's dotenv reader would keep the backslashes.
 */
export function ensureDevVars(
  root: string,
  log: (message: string) => void = () => {},
): Record<string, string> {
  const main = join(root, ".dev.vars");
  const copy = join(root, "origin", ".dev.vars");
  let text: string;
  if (existsSync(main)) {
    text = readFileSync(main, "utf8");
    const problems = secretProblems(parseDotenv(text));
    if (problems.length > 0) {
      const repaired = { ...parseDotenv(text), ...parseJsonQuotedDotenv(text) };
      if (secretProblems(repaired).length > 0) {
        throw new Error(
          `.dev.vars will not work as wrangler reads it: ${problems.join("; ")}.\n` +
            "      Move it aside (mv .dev.vars .dev.vars.old) and run again to generate fresh secrets.",
        );
      }
      copyFileSync(main, `${main}.bak`);
      text = renderDotenv(repaired);
      writeFileSync(main, text, { mode: 0o600 });
      log(
        'rewrote .dev.vars with the same secrets in single quotes: wrangler does not unescape \\" ' +
          "inside double quotes, so its JSON values did not parse (old file: .dev.vars.bak)",
      );
    }
  } else {
    text = renderDotenv(generateSecrets());
    writeFileSync(main, text, { mode: 0o600 });
    log("wrote .dev.vars with fresh secrets (git-ignored; never commit it)");
  }
  if (!existsSync(copy) || readFileSync(copy, "utf8") !== text) {
    writeFileSync(copy, text, { mode: 0o600 });
    log("copied .dev.vars to origin/.dev.vars (wrangler reads it beside origin/wrangler.toml)");
  }
  return parseDotenv(text);
}
