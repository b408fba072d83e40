/**
 * `/console/keys/{key}…`: a key's page, one version, a diff, rollback (confirmation page, then
 * POST), and its rollout (page, live fragment, abort, complete). The key is everything before
 * `/-/`, as in the API (DESIGN §4); it is parsed with core's parseKey before any call.
 */
import { Hono } from "hono";
import { FleetconfError, parseKey, parseVersion } from "../../core";
import { ApiRefusal, must } from "./api";
import { assetName } from "./assets";
import { parseTrail } from "./chart";
import { type ConsoleApp, type ConsoleContext, pageContext } from "./context";
import { DiffPage, KeyPage, RollbackConfirmPage, VersionPage } from "./pages/key";
import { FLEET_WINDOW_SECONDS, RolloutLive, RolloutPage } from "./pages/rollout";

/** `[a-z0-9._/-]` only: anything else cannot be a key, and the handler still parses it (core parseKey). */
const KEY = ":key{[a-z0-9][a-z0-9._/-]*?}";

function keyParam(c: ConsoleContext): string {
  const parsed = parseKey(c.req.param("key") ?? "");
  if (!parsed.ok) throw new FleetconfError("invalid_key", `Invalid key: ${parsed.reason}.`);
  return parsed.value.key;
}

async function rolloutData(c: ConsoleContext, key: string) {
  const api = c.get("api");
  const [rollout, fleet] = await Promise.all([api.rollout(key), api.fleet(key, FLEET_WINDOW_SECONDS)]);
  return {
    rollout: must(rollout),
    fleet: fleet.ok ? fleet.value : null,
    fleetProblem: fleet.ok ? null : fleet.problem,
    nowMs: Date.now(),
  };
}

export function keyRoutes(): Hono<ConsoleApp> {
  const keys = new Hono<ConsoleApp>();
  keys.get(`/${KEY}/-/diff`, async (c) => {
    const key = keyParam(c);
    const api = c.get("api");
    const diff = must(await api.diff(key, c.req.query("from") ?? "", c.req.query("to") ?? ""));
    const [from, to] = await Promise.all([api.version(key, diff.from), api.version(key, diff.to)]);
    return c.html(
      <DiffPage
        page={await pageContext(c, "other")}
        configKey={key}
        diff={diff}
        from={must(from)}
        to={must(to)}
      />,
    );
  });

  keys.get(`/${KEY}/-/versions/:n`, async (c) => {
    const key = keyParam(c);
    const doc = must(await c.get("api").version(key, parseVersion(c.req.param("n"))));
    return c.html(<VersionPage page={await pageContext(c, "other")} doc={doc} />);
  });

  keys.get(`/${KEY}/-/rollback`, async (c) => {
    const key = keyParam(c);
    const to = parseVersion(c.req.query("to"));
    const api = c.get("api");
    const current = must(await api.current(key));
    const [target, diff] = await Promise.all([api.version(key, to), api.diff(key, "current", String(to))]);
    return c.html(
      <RollbackConfirmPage
        page={await pageContext(c, "other")}
        configKey={key}
        current={current.version}
        target={must(target)}
        diff={must(diff)}
      />,
    );
  });

  keys.post(`/${KEY}/-/rollback`, async (c) => {
    const key = keyParam(c);
    const form = c.get("form");
    const to = parseVersion(form.to);
    const done = must(await c.get("api").rollback(key, to, form.message?.trim() || null));
    const request = done.changeRequest;
    const note = request
      ? `change request ${request.namespace}/${request.id} created: it needs approval by another admin`
      : `rolled back to v${to} as v${done.version}`;
    return c.redirect(`/console/keys/${key}?done=${encodeURIComponent(note)}`, 303);
  });

  keys.get(`/${KEY}/-/rollout/live`, async (c) => {
    const key = keyParam(c);
    const trail = parseTrail(c.req.query("trail"));
    return c.html(<RolloutLive {...(await rolloutData(c, key))} trail={trail} />);
  });

  keys.get(`/${KEY}/-/rollout`, async (c) => {
    const key = keyParam(c);
    const data = await rolloutData(c, key);
    return c.html(
      <RolloutPage
        page={await pageContext(c, "other")}
        configKey={key}
        {...data}
        liveScript={await assetName("live")}
        notice={c.req.query("done") ?? null}
      />,
    );
  });

  for (const how of ["abort", "complete"] as const) {
    keys.post(`/${KEY}/-/rollout/${how}`, async (c) => {
      const key = keyParam(c);
      const message = c.get("form").message?.trim() || null;
      const result = must(await c.get("api").finishRollout(key, how, message));
      const outcome =
        how === "abort" ? `aborted: v${result.resultVersion ?? "?"} serves the stable content` : "completed";
      return c.redirect(
        `/console/keys/${key}/-/rollout?done=${encodeURIComponent(`Rollout ${outcome}.`)}`,
        303,
      );
    });
  }

  keys.get(`/${KEY}`, async (c) => {
    const key = keyParam(c);
    const api = c.get("api");
    const [current, history, rollout] = await Promise.all([
      api.current(key),
      api.versions(key, c.req.query("cursor")),
      api.rollout(key),
    ]);
    // A deleted key still has a history; only a refusal other than 404 stops the page.
    if (!current.ok && current.problem.status !== 404) throw new ApiRefusal(current.problem);
    const page = must(history);
    return c.html(
      <KeyPage
        page={await pageContext(c, "other")}
        configKey={key}
        current={current.ok ? current.value : null}
        history={page.versions}
        next={page.next}
        rollout={rollout.ok ? rollout.value : null}
        notice={c.req.query("done") ?? null}
      />,
    );
  });

  return keys;
}
