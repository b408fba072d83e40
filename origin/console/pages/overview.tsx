/**
 * Sign-in, the namespaces overview, one namespace's keys, status (pending distribution, recent
 * errors) and the audit log with filters. Each page reads through the admin API (console/api.ts);
 * a refusal by the API is shown as the API's own problem with its status.
 */
import type { FC } from "hono/jsx";
import type { AuditEntry } from "../../../core/admin-documents";
import type { ApiProblem, AuditFilter, NamespaceSettingsDocument, StatusNamespace } from "../api";
import { keyHref, Layout, type PageContext, ProblemBox, when } from "../layout";

export const SignInPage: FC<{ page: PageContext; next: string; problem?: ApiProblem | undefined }> = ({
  page,
  next,
  problem,
}) => (
  <Layout page={page} title="Sign in">
    <h1>Sign in</h1>
    {problem && <ProblemBox problem={problem} />}
    <form class="stack" method="post" action="/console/sign-in">
      <label for="token">
        Admin token
        <input id="token" name="token" type="password" autocomplete="off" required spellcheck={false} />
      </label>
      <input type="hidden" name="next" value={next} />
      <p class="muted">
        The console acts with exactly this token's rights. It is kept in an HttpOnly cookie for this console
        only, never in the page or the address bar. Mint one with <code>fleetconf token --scope admin</code>.
      </p>
      <div>
        <button type="submit">Sign in</button>
      </div>
    </form>
  </Layout>
);

export interface NamespaceCard {
  status: StatusNamespace;
  settings: NamespaceSettingsDocument | null;
}

export const NamespacesPage: FC<{
  page: PageContext;
  cards: NamespaceCard[];
  problems: ApiProblem[];
  note: string | null;
}> = ({ page, cards, problems, note }) => (
  <Layout page={page} title="Namespaces">
    <h1>Namespaces</h1>
    {note && <p class="muted">{note}</p>}
    {problems.map((p) => (
      <ProblemBox problem={p} />
    ))}
    {cards.length === 0 && problems.length === 0 && <p>No namespace has been written yet.</p>}
    <div class="cards">
      {cards.map(({ status, settings }) => {
        const live = status.keys.filter((k) => !k.deleted);
        return (
          <section class="card" aria-labelledby={`ns-${status.namespace}`}>
            <h2 id={`ns-${status.namespace}`}>
              <a href={`/console/namespaces/${status.namespace}`}>{status.namespace}</a>{" "}
              <span class={`badge ${status.visibility}`}>{status.visibility}</span>
            </h2>
            <dl>
              <dt>Keys</dt>
              <dd data-testid="key-count">{live.length}</dd>
              <dt>Cache-Control</dt>
              <dd>
                {settings ? (
                  <code>{`max-age=${settings.maxAge}, stale-while-revalidate=${settings.staleWhileRevalidate}, stale-if-error=${settings.staleIfError}`}</code>
                ) : (
                  <span class="muted">not readable with this token</span>
                )}
              </dd>
              <dt>Last change</dt>
              <dd>
                {status.lastPublish ? (
                  <>
                    {when(status.lastPublish.at)} · {status.lastPublish.action}{" "}
                    {status.lastPublish.key && (
                      <a href={keyHref(status.lastPublish.key)}>{status.lastPublish.key}</a>
                    )}{" "}
                    {status.lastPublish.version !== null && `v${status.lastPublish.version}`} by{" "}
                    {status.lastPublish.actor}
                  </>
                ) : (
                  "—"
                )}
              </dd>
              <dt>Rollouts running · pending distribution</dt>
              <dd>
                {status.rollouts.length} · {status.pending.length}
              </dd>
            </dl>
          </section>
        );
      })}
    </div>
  </Layout>
);

export const NamespacePage: FC<{ page: PageContext; status: StatusNamespace }> = ({ page, status }) => {
  const rolling = new Map(status.rollouts.map((r) => [r.key, r]));
  return (
    <Layout page={page} title={status.namespace}>
      <h1>
        Namespace {status.namespace} <span class={`badge ${status.visibility}`}>{status.visibility}</span>
      </h1>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col" class="num">
                Version
              </th>
              <th scope="col">Updated</th>
              <th scope="col" class="num">
                Clients (5 min)
              </th>
              <th scope="col">Rollout</th>
            </tr>
          </thead>
          <tbody>
            {status.keys.map((k) => {
              const r = rolling.get(k.key);
              return (
                <tr>
                  <td>
                    <a href={keyHref(k.key)}>{k.key}</a>
                    {k.deleted && <span class="badge"> deleted</span>}
                  </td>
                  <td class="num">{k.version ?? "—"}</td>
                  <td>{when(k.updatedAt)}</td>
                  <td class="num">{k.clients}</td>
                  <td>
                    {r ? (
                      <a href={keyHref(k.key, "rollout")}>
                        <span class="badge running">running</span> v{r.stableVersion} → v{r.candidateVersion}
                      </a>
                    ) : (
                      "—"
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Layout>
  );
};

export const StatusPage: FC<{
  page: PageContext;
  namespaces: StatusNamespace[];
  problem: ApiProblem | null;
}> = ({ page, namespaces, problem }) => {
  const pending = namespaces.flatMap((ns) => ns.pending.map((p) => ({ ns: ns.namespace, ...p })));
  const errors = namespaces.flatMap((ns) => ns.recentErrors.map((e) => ({ ns: ns.namespace, ...e })));
  const rollouts = namespaces.flatMap((ns) => ns.rollouts);
  return (
    <Layout page={page} title="Status">
      <h1>Status</h1>
      {problem && <ProblemBox problem={problem} />}
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

export const ErrorPage: FC<{ page: PageContext; problem: ApiProblem }> = ({ page, problem }) => (
  <Layout page={page} title={problem.title}>
    <h1>{problem.title}</h1>
    <ProblemBox problem={problem} />
    <p>
      <a href="/console">Back to the namespaces</a>
    </p>
  </Layout>
);
