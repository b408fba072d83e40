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
  parseNamespace,
  problemErrorHandler,
  problemResponse,
  verifyAdminToken,
} from "../../core";
import { type ApiProblem, ApiRefusal, type Dispatch, must, type StatusNamespace } from "./api";
import { assetName, CONSOLE_CSS, LIVE_JS } from "./assets";
import { changeRequestConsoleRoutes } from "./change-routes";
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
import { keyRoutes } from "./key-routes";
import { AuditPage, StatusPage } from "./pages/ops";
import { ErrorPage, type NamespaceCard, NamespacePage, NamespacesPage, SignInPage } from "./pages/overview";
import { CSRF_REFUSAL_TITLE, endSession, startSession } from "./session";

/** Where a request may be sent after sign-in: a console path only (no open redirect). */
function safeNext(raw: string | undefined): string {
  return raw && /^\/console(\/[A-Za-z0-9._~/%?=&-]*)?$/.test(raw) && !raw.startsWith("/console//")
    ? raw
    : "/console";
}

interface Visible {
  namespaces: StatusNamespace[];
  problems: ApiProblem[];
  note: string | null;
}

/**
 * The namespaces this token may see: all of them for an admin (`GET /v1/status`); otherwise the API
 * refuses that with 403 and the ones its scopes name are asked for one by one, each checked by
 * the API (`?namespace=` needs read access).
 */
async function visibleNamespaces(c: ConsoleContext): Promise<Visible> {
  const api = c.get("api");
  const all = await api.status();
  if (all.ok) {
    const note = all.value.truncated ? "Only the first namespaces are listed; open one by name." : null;
    return { namespaces: all.value.namespaces, problems: [], note };
  }
  if (all.problem.status !== 403) throw new ApiRefusal(all.problem);
  const named = new Set<string>();
  for (const scope of c.get("caller").scopes) {
    const namespace = scope.split(":")[1];
    if (namespace && namespace !== "*") named.add(namespace);
  }
  const visible: Visible = {
    namespaces: [],
    problems: [],
    note: "This token is not an admin token: showing the namespaces its scopes name.",
  };
  for (const namespace of named) {
    const one = await api.status(namespace);
    if (one.ok) visible.namespaces.push(...one.value.namespaces);
    else visible.problems.push(one.problem);
  }
  return visible;
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
    const { namespaces, problems, note } = await visibleNamespaces(c);
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
    const { namespaces, problems, note } = await visibleNamespaces(c);
    return c.html(
      <StatusPage
        page={await pageContext(c, "status")}
        namespaces={namespaces}
        problems={problems}
        note={note}
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
      page.ok ? 200 : (page.problem.status as 400),
    );
  });

  routes.route("/keys", keyRoutes());
  routes.route("/namespaces", changeRequestConsoleRoutes());

  routes.notFound(() => {
    throw new FleetconfError("not_found", "No such console page.");
  });

  routes.onError(async (error, c) => {
    const problem: ApiProblem | null =
      error instanceof ApiRefusal
        ? error.problem
        : isFleetconfError(error)
          ? {
              status: error.status,
              title: error.extensions.reason === "csrf" ? CSRF_REFUSAL_TITLE : error.toProblem().title,
              detail: error.message,
              code: error.code,
            }
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
