/** `fleetconf watch KEY`: print every new verified version as the edge serves it. */
import { createConfigClient } from "../../client";
import { flag } from "../args";
import { EDGE_CLIENT_HELP, EDGE_CLIENT_OPTIONS, edgeClientOptions } from "../client-options";
import { type Command, type CommandContext, keyArg, positional } from "../command";
import { CliError } from "../errors";
import { formatBytes, formatTime } from "../output";

const NAME = "watch";

export const watchCommand: Command = {
  name: NAME,
  summary: "Print each new verified version of a key as the edge serves it",
  usage: "watch KEY [--once] [--wait SECONDS | --no-long-poll] [--interval SECONDS] [--jwks FILE|URL]",
  help: `Uses the SDK exactly as a service would: conditional long-polls, digest and signature checks,
no going back in versions. Prints a line per version and its content; refused answers are
reported on stderr and the last good version stays. Ctrl-C stops it.

With --json: one JSON line per version {"key", "version", "etag", "publishedAt", "stale", "value"}.

Options:
  --once              print the first verified version and exit (1 if none arrives)
${EDGE_CLIENT_HELP.split("\n")
  .filter((line) => !line.includes("--client-id"))
  .join("\n")}`,
  options: { ...EDGE_CLIENT_OPTIONS, once: { type: "boolean" } },
  positionals: { min: 1, max: 1 },
  async run(ctx: CommandContext) {
    const key = keyArg(positional(ctx, 0), NAME);
    const setup = await edgeClientOptions(key, ctx.values, ctx.io, NAME, ctx.fetch);
    if (setup.warning) ctx.out.note(ctx.out.paintErr.dim(setup.warning));
    const client = createConfigClient(setup.options);
    const p = ctx.out.paint;
    client.onChange((s) => {
      if (ctx.out.json) {
        ctx.out.jsonLine({
          key,
          version: s.version,
          etag: s.etag,
          publishedAt: new Date(s.publishedAt).toISOString(),
          stale: s.stale,
          value: s.value,
        });
        return;
      }
      const meta = p.dim(`${formatTime(s.publishedAt)}  ${s.etag}  ${formatBytes(s.bytes.length)}`);
      ctx.out.result(null, `${p.cyan(`v${s.version}`)}  ${meta}\n${JSON.stringify(s.value, null, 2)}`);
    });
    client.onError((error) => {
      if (ctx.out.json)
        ctx.io.stderr.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      else ctx.out.warn(`${error.code}: ${error.message}`);
    });
    if (flag(ctx.values, "once")) {
      try {
        await client.ready();
      } catch (error) {
        throw new CliError(`no verified version of ${key}: ${(error as Error).message}`, {
          code: "unavailable",
        });
      } finally {
        await client.close();
      }
      return 0;
    }
    const stop = ctx.stopSignal();
    await new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      else stop.addEventListener("abort", () => resolve(), { once: true });
    });
    await client.close();
    return 0;
  },
};
