/**
 * Sign-in, the namespaces overview, one namespace's keys, and the error page. Each page reads
 * through the admin API (console/api.ts); a refusal by the API is shown as the API's own problem
 * with its status.
 */
import type { FC } from "hono/jsx";
import type { ApiProblem, NamespaceSettingsDocument, StatusNamespace } from "../api";
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
      <p>
        <a href={`/console/namespaces/${status.namespace}/changes`}>Change requests</a>
      </p>
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

export const ErrorPage: FC<{ page: PageContext; problem: ApiProblem }> = ({ page, problem }) => (
  <Layout page={page} title={problem.title}>
    <h1>{problem.title}</h1>
    <ProblemBox problem={problem} />
    <p>
      <a href="/console">Back to the namespaces</a>
    </p>
  </Layout>
);
