/**
 * `/console`: the web console for the people on call (docs/console.md). Server-rendered with
 * hono/jsx; every read and change goes through the admin API in-process (console/api.ts), so the
 * console has exactly the rights of the signed-in token. Key pages use the API's `/-/` rule: the
 * key is everything before `/-/`, which no key can contain.
 */
import { Hono } from "hono";
import {
  FleetconfError,
  isFleetconfError,
  PROBLEM_CONTENT_TYPE,
  parseKey,
  parseNamespace,
  parseVersion,
  problemErrorHandler,
  problemResponse,
  verifyAdminToken,
} from "../../core";
import type { ApiProblem, ApiResult, Dispatch, StatusNamespace } from "./api";
import { assetName, CONSOLE_CSS, LIVE_JS } from "./assets";
import { parseTrail } from "./chart";
import {
  type ConsoleApp,
  type ConsoleContext,
  consoleSecurityHeaders,
  consoleSession,
  formProtection,
  pageContext,
  sameOriginOnly,
  wantsHtml,
} from "./context";
import { DiffPage, KeyPage, RollbackConfirmPage, VersionPage } from "./pages/key";
import {
  AuditPage,
  ErrorPage,
  type NamespaceCard,
  NamespacePage,
  NamespacesPage,
  SignInPage,
  StatusPage,
} from "./pages/overview";
import { FLEET_WINDOW_SECONDS, RolloutLive, RolloutPage } from "./pages/rollout";
import { endSession, startSession } from "./session";

/** `[a-z0-9._/-]` only: anything else cannot be a key, and the handler still parses it (core parseKey). */
const KEY = ":key{[a-z0-9][a-z0-9._/-]*?}";

/** Where a request may be sent after sign-in: a console path only (no open redirect). */
function safeNext(raw: string | undefined): string {
  return raw && /^\/console(\/[A-Za-z0-9._~/%?=&-]*)?$/.test(raw) && !raw.startsWith("/console//")
    ? raw
    : "/console";
}

function keyParam(c: ConsoleContext): string {
  const parsed = parseKey(c.req.param("key") ?? "");
  if (!parsed.ok) throw new FleetconfError("invalid_key", `Invalid key: ${parsed.reason}.`);
  return parsed.value.key;
}

/** An API refusal, rendered with the API's status (401 ends the session). */
class ApiRefusal extends Error {
  constructor(readonly problem: ApiProblem) {
    super(problem.detail);
  }
}

function must<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new ApiRefusal(result.problem);
  return result.value;
}

export function consoleRoutes(dispatchFor: (c: ConsoleContext) => Dispatch): Hono<ConsoleApp> {
  const routes = new Hono<ConsoleApp>();
  routes.use("*", consoleSecurityHeaders());
  // Before the session check, so a cross-site post is refused as such (403), signed in or not.
  routes.post("*", sameOriginOnly());

  routes.get("/assets/:name", async (c) => {
    const name = c.req.param("name");
    const css = await assetName("console");
    const js = await assetName("live");
    if (name !== css && name !== js) throw new FleetconfError("not_found", "No such console asset.");
    // The name carries the content's hash, so the bytes under it never change (RFC 8246).
    return c.body(name === css ? CONSOLE_CSS : LIVE_JS, 200, {
      "Content-Type": name === css ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=31536000, immutable",
    });
  });

  routes.get("/sign-in", async (c) =>
    c.html(<SignInPage page={await pageContext(c, "other")} next={safeNext(c.req.query("next"))} />),
  );
  routes.post("/sign-in", formProtection({ csrf: false }), async (c) => {
    const { token = "", next } = c.get("form");
    try {
      const caller = await verifyAdminToken(token.trim(), c.get("services").config.adminKeys);
      await startSession(c, token.trim(), caller.exp);
    } catch (error) {
      if (!isFleetconfError(error)) throw error;
      const problem = {
        status: error.status,
        title: "Sign-in failed",
        detail: error.message,
        code: error.code,
      };
      return c.html(
        <SignInPage page={await pageContext(c, "other")} next={safeNext(next)} problem={problem} />,
        401,
      );
    }
    return c.redirect(safeNext(next), 303);
  });

  routes.use("*", consoleSession(dispatchFor));
  routes.post("*", formProtection({ csrf: true }));

  routes.post("/sign-out", (c) => {
    endSession(c);
    return c.redirect("/console/sign-in", 303);
  });

  routes.get("/", async (c) => {
    const api = c.get("api");
    const problems: ApiProblem[] = [];
    let namespaces: StatusNamespace[];
    let note: string | null = null;
    const all = await api.status();
    if (all.ok) {
      namespaces = all.value.namespaces;
      if (all.value.truncated) note = "Only the first namespaces are listed; open one by name.";
    } else if (all.problem.status === 403) {
      // Not an admin: list the namespaces the token names, each checked by the API.
      const named = [
        ...new Set(
          c
            .get("caller")
            .scopes.map((s) => s.split(":")[1])
            .filter((n) => n && n !== "*"),
        ),
      ];
      note = "This token is not an admin token: showing the namespaces its scopes name.";
      namespaces = [];
      for (const ns of named) {
        const one = await api.status(ns);
        if (one.ok) namespaces.push(...one.value.namespaces);
        else problems.push(one.problem);
      }
    } else {
      throw new ApiRefusal(all.problem);
    }
    const cards: NamespaceCard[] = await Promise.all(
      namespaces.map(async (status) => {
        const settings = await api.namespaceSettings(status.namespace);
        return { status, settings: settings.ok ? settings.value : null };
      }),
    );
    return c.html(
      <NamespacesPage
        page={await pageContext(c, "namespaces")}
        cards={cards}
        problems={problems}
        note={note}
      />,
    );
  });

  routes.get("/namespaces/:namespace", async (c) => {
    const namespace = parseNamespace(c.req.param("namespace"));
    const doc = must(await c.get("api").status(namespace));
    const status = doc.namespaces[0];
    if (!status) throw new FleetconfError("not_found", `No namespace ${namespace}.`);
    return c.html(<NamespacePage page={await pageContext(c, "namespaces")} status={status} />);
  });

  routes.get("/status", async (c) => {
    const all = await c.get("api").status();
    return c.html(
      <StatusPage
        page={await pageContext(c, "status")}
        namespaces={all.ok ? all.value.namespaces : []}
        problem={all.ok ? null : all.problem}
      />,
    );
  });

  routes.get("/audit", async (c) => {
    const q = (name: string) => {
      const value = c.req.query(name)?.trim();
      return value ? value : undefined;
    };
    const filter = { namespace: q("namespace"), key: q("key"), since: q("since"), cursor: q("cursor") };
    const action = q("action");
    const actor = q("actor");
    const page = await c.get("api").audit(filter);
    const entries = page.ok
      ? page.value.entries.filter((e) => (!action || e.action === action) && (!actor || e.actor === actor))
      : [];
    return c.html(
      <AuditPage
        page={await pageContext(c, "audit")}
        filter={{ ...filter, action, actor }}
        entries={entries}
        next={page.ok ? page.value.next : null}
        problem={page.ok ? null : page.problem}
      />,
      page.ok ? 200 : page.problem.status === 400 ? 400 : 200,
    );
  });

  routes.get(`/keys/${KEY}/-/diff`, async (c) => {
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

  routes.get(`/keys/${KEY}/-/versions/:n`, async (c) => {
    const key = keyParam(c);
    const doc = must(await c.get("api").version(key, parseVersion(c.req.param("n"))));
    return c.html(<VersionPage page={await pageContext(c, "other")} doc={doc} />);
  });

  routes.get(`/keys/${KEY}/-/rollback`, async (c) => {
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

  routes.post(`/keys/${KEY}/-/rollback`, async (c) => {
    const key = keyParam(c);
    const form = c.get("form");
    const to = parseVersion(form.to);
    const done = must(await c.get("api").rollback(key, to, form.message?.trim() || null));
    return c.redirect(
      `/console/keys/${key}?done=${encodeURIComponent(`rolled back to v${to} as v${done.version}`)}`,
      303,
    );
  });

  const rolloutData = async (c: ConsoleContext, key: string) => {
    const api = c.get("api");
    const [rollout, fleet] = await Promise.all([api.rollout(key), api.fleet(key, FLEET_WINDOW_SECONDS)]);
    return {
      rollout: must(rollout),
      fleet: fleet.ok ? fleet.value : null,
      fleetProblem: fleet.ok ? null : fleet.problem,
      nowMs: Date.now(),
    };
  };

  routes.get(`/keys/${KEY}/-/rollout/live`, async (c) => {
    const key = keyParam(c);
    const trail = parseTrail(c.req.query("trail"));
    return c.html(<RolloutLive {...(await rolloutData(c, key))} trail={trail} />);
  });

  routes.get(`/keys/${KEY}/-/rollout`, async (c) => {
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
    routes.post(`/keys/${KEY}/-/rollout/${how}`, async (c) => {
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

  routes.get(`/keys/${KEY}`, async (c) => {
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

  routes.notFound(() => {
    throw new FleetconfError("not_found", "No such console page.");
  });

  routes.onError(async (error, c) => {
    const problem: ApiProblem | null =
      error instanceof ApiRefusal
        ? error.problem
        : isFleetconfError(error)
          ? { status: error.status, title: error.toProblem().title, detail: error.message, code: error.code }
          : null;
    if (problem === null) return problemErrorHandler("origin")(error, c);
    if (problem.status === 401) {
      endSession(c);
      if (c.req.method === "GET" && wantsHtml(c)) return c.redirect("/console/sign-in", 303);
    }
    if (!wantsHtml(c)) {
      if (isFleetconfError(error)) return problemResponse(error, c.get("requestId"));
      return new Response(JSON.stringify(problem), {
        status: problem.status,
        headers: { "Content-Type": PROBLEM_CONTENT_TYPE, "Cache-Control": "no-store" },
      });
    }
    return c.html(
      <ErrorPage page={await pageContext(c, "other")} problem={problem} />,
      problem.status as 400,
    );
  });

  return routes;
}
