/**
 * A namespace's pending change requests (four-eyes, docs/operations.md "Approvals (four-eyes)"),
 * with Approve and Reject forms. The API decides who may: approving one's own request is refused
 * there (403) and shown as any refusal is.
 */
import type { FC } from "hono/jsx";
import type { ChangeRequestDocument } from "../../contract";
import { CsrfField, keyHref, Layout, type PageContext, when } from "../layout";

function changeOf(r: ChangeRequestDocument): string {
  if (r.kind === "changes") return `change set: ${r.keys.join(", ")}`;
  if (r.kind === "rollback") return `rollback to v${r.to}`;
  if (r.kind === "delete") return "delete";
  return r.rollout ? "rollout start" : "publish";
}

export const ChangeRequestsPage: FC<{
  page: PageContext;
  namespace: string;
  requests: ChangeRequestDocument[];
  notice: string | null;
}> = ({ page, namespace, requests, notice }) => (
  <Layout page={page} title={`Change requests · ${namespace}`}>
    <p>
      <a href={`/console/namespaces/${namespace}`}>← namespace {namespace}</a>
    </p>
    <h1>Change requests in {namespace}</h1>
    {notice && (
      <p class="notice" role="status">
        {notice}
      </p>
    )}
    {requests.length === 0 ? (
      <p data-testid="no-change-requests">No pending change requests.</p>
    ) : (
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Change</th>
              <th scope="col">Key</th>
              <th scope="col">Author</th>
              <th scope="col">Expires</th>
              <th scope="col">Message</th>
              <th scope="col">Decide</th>
            </tr>
          </thead>
          <tbody>
            {requests.map((r) => (
              <tr data-testid={`change-request-${r.id}`}>
                <td>{r.id}</td>
                <td>{changeOf(r)}</td>
                <td>{r.key ? <a href={keyHref(r.key)}>{r.key}</a> : "—"}</td>
                <td>{r.author}</td>
                <td>{when(r.expiresAt)}</td>
                <td>{r.message ?? ""}</td>
                <td>
                  <form
                    class="inline"
                    method="post"
                    action={`/console/namespaces/${namespace}/changes/${r.id}/approve`}
                  >
                    <CsrfField page={page} />
                    <button type="submit">Approve</button>
                  </form>
                  <form
                    class="inline"
                    method="post"
                    action={`/console/namespaces/${namespace}/changes/${r.id}/reject`}
                  >
                    <CsrfField page={page} />
                    <input name="reason" required maxlength={1000} aria-label="Reason" placeholder="reason" />
                    <button type="submit">Reject</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
  </Layout>
);
