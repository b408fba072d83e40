/**
 * `/console/namespaces/{ns}/changes`: the pending change requests of a namespace that requires
 * approval, and the Approve/Reject forms they post (CSRF-checked by the console's form
 * protection like every console POST). Decisions go through the admin API in-process with the
 * signed-in token, so its scope and subject rules apply unchanged.
 */
import { Hono } from "hono";
import { parseChangeRequestId, parseNamespace } from "../../core";
import { must } from "./api";
import { type ConsoleApp, pageContext } from "./context";
import { ChangeRequestPage, ChangeRequestsPage } from "./pages/changes";

export function changeRequestConsoleRoutes(): Hono<ConsoleApp> {
  const routes = new Hono<ConsoleApp>();
  const back = (namespace: string, note: string) =>
    `/console/namespaces/${namespace}/changes?done=${encodeURIComponent(note)}`;

  routes.get("/:namespace/changes", async (c) => {
    const namespace = parseNamespace(c.req.param("namespace"));
    const page = must(await c.get("api").changeRequests(namespace));
    return c.html(
      <ChangeRequestsPage
        page={await pageContext(c, "namespaces")}
        namespace={namespace}
        requests={page.changeRequests}
        notice={c.req.query("done") ?? null}
      />,
    );
  });

  routes.get("/:namespace/changes/:id", async (c) => {
    const namespace = parseNamespace(c.req.param("namespace"));
    const id = parseChangeRequestId(c.req.param("id"));
    const review = must(await c.get("api").changeRequest(namespace, id));
    return c.html(
      <ChangeRequestPage page={await pageContext(c, "namespaces")} namespace={namespace} review={review} />,
    );
  });

  routes.post("/:namespace/changes/:id/approve", async (c) => {
    const namespace = parseNamespace(c.req.param("namespace"));
    const id = parseChangeRequestId(c.req.param("id"));
    const done = must(await c.get("api").decideChange(namespace, id, { approve: true }));
    const version = done.changeRequest.resultVersion;
    return c.redirect(
      back(namespace, `Approved ${namespace}/${id}${version ? ` as v${version}` : ""}.`),
      303,
    );
  });

  routes.post("/:namespace/changes/:id/reject", async (c) => {
    const namespace = parseNamespace(c.req.param("namespace"));
    const id = parseChangeRequestId(c.req.param("id"));
    const reason = c.get("form").reason?.trim() || "rejected in the console";
    must(await c.get("api").decideChange(namespace, id, { approve: false, reason }));
    return c.redirect(back(namespace, `Rejected ${namespace}/${id}.`), 303);
  });

  return routes;
}
