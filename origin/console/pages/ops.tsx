/**
 * Operations pages: status (running rollouts, pending distribution, recent errors, drain
 * failures) and the audit log with filters, both read through the admin API (console/api.ts).
 */
import type { FC } from "hono/jsx";
import type { AuditEntryDocument as AuditEntry } from "../../contract";
import type { ApiProblem, AuditFilter, StatusNamespace } from "../api";
import { keyHref, Layout, type PageContext, ProblemBox, when } from "../layout";

export const StatusPage: FC<{
  page: PageContext;
  namespaces: StatusNamespace[];
  problems: ApiProblem[];
  note: string | null;
}> = ({ page, namespaces, problems, note }) => {
  const pending = namespaces.flatMap((ns) => ns.pending.map((p) => ({ ns: ns.namespace, ...p })));
  const errors = namespaces.flatMap((ns) => ns.recentErrors.map((e) => ({ ns: ns.namespace, ...e })));
  const rollouts = namespaces.flatMap((ns) => ns.rollouts);
  return (
    <Layout page={page} title="Status">
      <h1>Status</h1>
      {note && <p class="muted">{note}</p>}
      {problems.map((p) => (
        <ProblemBox problem={p} />
      ))}
      <h2>Running rollouts ({rollouts.length})</h2>
      {rollouts.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul>
          {rollouts.map((r) => (
            <li>
              <a href={keyHref(r.key, "rollout")}>{r.key}</a>: v{r.stableVersion} → v{r.candidateVersion} (
              {r.mode}, {r.percent}%, since {when(r.startedAt)})
            </li>
          ))}
        </ul>
      )}
      <h2>Pending distribution ({pending.length})</h2>
      {pending.length === 0 ? (
        <p class="muted">Nothing waiting: every change has reached KV and the edge caches.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Namespace</th>
                <th scope="col">What</th>
                <th scope="col">Since</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {pending.map((p) => (
                <tr>
                  <td>{p.ns}</td>
                  <td>
                    {p.kind} <code>{p.target}</code>
                  </td>
                  <td>{when(p.enqueuedAt)}</td>
                  <td class="num">{p.attempts}</td>
                  <td>{p.lastError ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Recent errors ({errors.length})</h2>
      {errors.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <ul>
          {errors.map((e) => (
            <li>
              {e.ns}: <code>{e.target}</code> — {e.error} ({e.attempts} attempts)
            </li>
          ))}
        </ul>
      )}
      <h2>Drain failures</h2>
      <ul>
        {namespaces.map((ns) => (
          <li>
            {ns.namespace}: {ns.drainFailures} consecutive
          </li>
        ))}
      </ul>
    </Layout>
  );
};

const ACTIONS = [
  "publish",
  "rollback",
  "delete",
  "namespace",
  "token",
  "rollout_start",
  "rollout_update",
  "rollout_complete",
  "rollout_abort",
  "schema_set",
  "schema_delete",
];

export const AuditPage: FC<{
  page: PageContext;
  filter: AuditFilter & { action?: string; actor?: string };
  entries: AuditEntry[];
  next: string | null;
  problem: ApiProblem | null;
}> = ({ page, filter, entries, next, problem }) => {
  const nextQuery = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) {
    if (value !== undefined && value !== "" && name !== "cursor") nextQuery.set(name, String(value));
  }
  if (next) nextQuery.set("cursor", next);
  return (
    <Layout page={page} title="Audit">
      <h1>Audit log</h1>
      <form class="filters" method="get" action="/console/audit">
        <label>
          Namespace
          <input name="namespace" value={filter.namespace ?? ""} placeholder="payments" />
        </label>
        <label>
          Key
          <input name="key" value={filter.key ?? ""} placeholder="payments/prod/flags" />
        </label>
        <label>
          Since (RFC 3339)
          <input name="since" value={filter.since ?? ""} placeholder="2026-01-01T00:00:00Z" />
        </label>
        <label>
          Action
          <select name="action">
            <option value="">any</option>
            {ACTIONS.map((a) => (
              <option value={a} selected={filter.action === a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Actor
          <input name="actor" value={filter.actor ?? ""} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <p class="muted">
        Oldest first. Without a namespace or key this is the log of changes that belong to no one namespace
        (tokens), which needs the admin scope. Action and actor filter the page shown.
      </p>
      {problem && <ProblemBox problem={problem} />}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Key</th>
              <th scope="col">Versions</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr>
                <td>{when(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.key ? <a href={keyHref(e.key)}>{e.key}</a> : "—"}</td>
                <td>
                  {e.fromVersion ?? "—"} → {e.toVersion ?? "—"}
                </td>
                <td>{e.message ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {next && <a href={`/console/audit?${nextQuery}`}>Next page</a>}
    </Layout>
  );
};
