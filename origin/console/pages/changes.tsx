/**
 * A namespace's pending change requests (four-eyes, docs/operations.md "Approvals (four-eyes)"),
 * with Approve and Reject forms. The API decides who may: approving one's own request is refused
 * there (403) and shown as any refusal is.
 */
import type { FC } from "hono/jsx";
import type { ChangeRequestDocument } from "../../contract";
import type { ChangeRequestReview } from "../api";
import { CsrfField, keyHref, Layout, type PageContext, when } from "../layout";
import { PatchTable } from "./key";

function changeOf(r: ChangeRequestDocument): string {
  if (r.kind === "changes") return `change set: ${r.keys.join(", ")}`;
  if (r.kind === "rollback") return `rollback to v${r.to}`;
  if (r.kind === "delete") return "delete";
  return r.rollout ? "rollout start" : "publish";
}

/** Approve, and Reject with a reason: posts to the console, which calls the API as the signed-in admin. */
const DecideForms: FC<{ page: PageContext; namespace: string; id: number }> = ({
  page,
  namespace,
  id: requestId,
}) => (
  <>
    <form
      class="inline"
      method="post"
      action={`/console/namespaces/${namespace}/changes/${requestId}/approve`}
    >
      <CsrfField page={page} />
      <button type="submit">Approve</button>
    </form>
    <form
      class="inline"
      method="post"
      action={`/console/namespaces/${namespace}/changes/${requestId}/reject`}
    >
      <CsrfField page={page} />
      <input name="reason" required maxlength={1000} aria-label="Reason" placeholder="reason" />
      <button type="submit">Reject</button>
    </form>
  </>
);

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
                <td>
                  <a href={`/console/namespaces/${namespace}/changes/${r.id}`}>{r.id} · review</a>
                </td>
                <td>{changeOf(r)}</td>
                <td>{r.key ? <a href={keyHref(r.key)}>{r.key}</a> : "—"}</td>
                <td>{r.author}</td>
                <td>{when(r.expiresAt)}</td>
                <td>{r.message ?? ""}</td>
                <td>
                  <DecideForms page={page} namespace={namespace} id={r.id} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    )}
  </Layout>
);

/**
 * One request for review: what it is, what it was made against, the rollout a start would start,
 * and the exact change — the patch from the key's live content (the whole document for a new key)
 * or each member of a change set — with the decision forms while it is pending.
 */
export const ChangeRequestPage: FC<{ page: PageContext; namespace: string; review: ChangeRequestReview }> = ({
  page,
  namespace,
  review,
}) => {
  const r = review.changeRequest;
  return (
    <Layout page={page} title={`Change request ${namespace}/${r.id}`}>
      <p>
        <a href={`/console/namespaces/${namespace}/changes`}>← change requests in {namespace}</a>
      </p>
      <h1>
        Change request {namespace}/{r.id}: {changeOf(r)}
      </h1>
      <dl data-testid="change-request-facts">
        <dt>State</dt>
        <dd>{r.state}</dd>
        <dt>Key</dt>
        <dd>{r.key ? <a href={keyHref(r.key)}>{r.key}</a> : r.keys.join(", ")}</dd>
        <dt>Author</dt>
        <dd>{r.author}</dd>
        <dt>Message</dt>
        <dd>{r.message ?? "—"}</dd>
        <dt>Made against</dt>
        <dd>
          {r.kind === "changes" ? "each key as it is at approval" : (r.baseEtag ?? "no version (a new key)")}
        </dd>
        <dt>Expires</dt>
        <dd>{when(r.expiresAt)}</dd>
        {r.rollout && (
          <>
            <dt>Rollout</dt>
            <dd>
              <code data-testid="change-request-rollout">
                {JSON.stringify(r.rollout, (_k, v) => (v === null ? undefined : v))}
              </code>
            </dd>
          </>
        )}
      </dl>
      {review.diff && (
        <>
          <h2>Change (RFC 6902, from the live content)</h2>
          <PatchTable patch={review.diff} testId="change-request-patch" />
        </>
      )}
      {review.members?.map((m) => (
        <>
          <h2>{m.key}</h2>
          {m.delete ? (
            <p>Deleted.</p>
          ) : (
            m.diff && <PatchTable patch={m.diff} testId={`member-patch-${m.key}`} />
          )}
        </>
      ))}
      {r.state === "pending" && <DecideForms page={page} namespace={namespace} id={r.id} />}
    </Layout>
  );
};
