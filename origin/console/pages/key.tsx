/**
 * One key: its live version and content, its history (authors and messages), the diff of any two
 * versions (the API's RFC 6902 patch beside both documents), and rollback behind a confirmation.
 */
import type { FC } from "hono/jsx";
import type { RolloutStatusDocument as RolloutStatus } from "../../contract";
import type { CurrentContent, DiffResult, HistoryItem, PatchOperation, VersionDocument } from "../api";
import { CsrfField, keyHref, Layout, type PageContext, prettyJson, when } from "../layout";

const VersionSelect: FC<{
  name: string;
  label: string;
  versions: HistoryItem[];
  selected: number | undefined;
}> = ({ name, label, versions, selected }) => (
  <label>
    {label}
    <select name={name}>
      {versions.map((v) => (
        <option value={String(v.version)} selected={v.version === selected}>
          {`v${v.version} · ${when(v.publishedAt)}`}
        </option>
      ))}
    </select>
  </label>
);

export const KeyPage: FC<{
  page: PageContext;
  configKey: string;
  current: CurrentContent | null;
  history: HistoryItem[];
  next: string | null;
  rollout: RolloutStatus | null;
  notice: string | null;
}> = ({ page, configKey: key, current, history, next, rollout, notice }) => (
  <Layout page={page} title={key}>
    <p>
      <a href={`/console/namespaces/${key.split("/")[0] ?? ""}`}>← namespace {key.split("/")[0]}</a>
    </p>
    <h1 data-testid="key-name">{key}</h1>
    {notice && (
      <p class="notice" role="status">
        {notice}
      </p>
    )}
    <div class="actions">
      <a href={keyHref(key, "rollout")}>
        Rollout{rollout && rollout.state === "running" ? " (running)" : ""}
      </a>
      <a href={`/console/audit?key=${encodeURIComponent(key)}`}>Audit of this key</a>
    </div>
    <h2>
      Current version{" "}
      <span data-testid="current-version">{current ? `v${current.version}` : "none (deleted)"}</span>
    </h2>
    {current && <pre data-testid="current-content">{prettyJson(current.text)}</pre>}
    {history.length >= 2 && (
      <>
        <h2>Compare two versions</h2>
        <form class="filters" method="get" action={keyHref(key, "diff")}>
          <VersionSelect name="from" label="From" versions={history} selected={history[1]?.version} />
          <VersionSelect name="to" label="To" versions={history} selected={history[0]?.version} />
          <button type="submit">Show diff</button>
        </form>
      </>
    )}
    <h2>History</h2>
    <div class="table-wrap">
      <table data-testid="history">
        <thead>
          <tr>
            <th scope="col" class="num">
              Version
            </th>
            <th scope="col">Published</th>
            <th scope="col">Author</th>
            <th scope="col">Message</th>
            <th scope="col" class="num">
              Bytes
            </th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {history.map((v, i) => {
            const older = history[i + 1];
            return (
              <tr>
                <td class="num">
                  <a href={keyHref(key, `versions/${v.version}`)}>v{v.version}</a>
                </td>
                <td>{when(v.publishedAt)}</td>
                <td>{v.author}</td>
                <td>{v.message ?? ""}</td>
                <td class="num">{v.size}</td>
                <td>
                  {older && (
                    <a href={`${keyHref(key, "diff")}?from=${older.version}&to=${v.version}`}>
                      diff v{older.version}→v{v.version}
                    </a>
                  )}{" "}
                  {current && v.version !== current.version && (
                    <a href={`${keyHref(key, "rollback")}?to=${v.version}`}>roll back to v{v.version}</a>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
    {next && <a href={`${keyHref(key)}?cursor=${encodeURIComponent(next)}`}>Older versions</a>}
  </Layout>
);

export const VersionPage: FC<{ page: PageContext; doc: VersionDocument }> = ({ page, doc }) => (
  <Layout page={page} title={`${doc.key} v${doc.version}`}>
    <p>
      <a href={keyHref(doc.key)}>← {doc.key}</a>
    </p>
    <h1>
      {doc.key} v{doc.version} {doc.current && <span class="badge completed">current</span>}
    </h1>
    <p>
      Published {when(doc.publishedAt)} by {doc.author}
      {doc.message ? ` — ${doc.message}` : ""}
    </p>
    <p class="muted">
      Digest <code>{doc.digest}</code>
    </p>
    <pre>{JSON.stringify(doc.content, null, 2)}</pre>
  </Layout>
);

function opClass(op: PatchOperation): string {
  return `op-${op.op.replace(/[^a-z]/g, "")}`;
}

/** An RFC 6902 patch as a table, one operation a row (the Diff page, the change-request review). */
export const PatchTable: FC<{ patch: PatchOperation[]; testId?: string }> = ({ patch, testId = "patch" }) => (
  <div class="table-wrap">
    <table class="patch" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Op</th>
          <th scope="col">Path</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {patch.map((op) => (
          <tr class={opClass(op)}>
            <td>{op.op}</td>
            <td>
              <code>{op.path}</code>
              {op.from !== undefined && (
                <>
                  {" "}
                  from <code>{op.from}</code>
                </>
              )}
            </td>
            <td>
              <code>{op.value === undefined ? "" : JSON.stringify(op.value)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

export const DiffPage: FC<{
  page: PageContext;
  configKey: string;
  diff: DiffResult;
  from: VersionDocument;
  to: VersionDocument;
}> = ({ page, configKey: key, diff, from, to }) => {
  const changes = diff.patch.filter((op) => op.op !== "test");
  return (
    <Layout page={page} title={`${key} v${diff.from}→v${diff.to}`}>
      <p>
        <a href={keyHref(key)}>← {key}</a>
      </p>
      <h1>
        Diff v{diff.from} → v{diff.to}
      </h1>
      <p data-testid="diff-summary">
        {changes.length === 0
          ? "No change: the two versions are the same JSON value."
          : `${changes.length} change${changes.length === 1 ? "" : "s"}.`}
      </p>
      <h2>JSON Patch (RFC 6902)</h2>
      <PatchTable patch={diff.patch} />
      <h2>Side by side</h2>
      <div class="grid2">
        <section aria-label={`Version ${from.version}`}>
          <h3>
            v{from.version} · {from.author}
          </h3>
          <pre>{JSON.stringify(from.content, null, 2)}</pre>
        </section>
        <section aria-label={`Version ${to.version}`}>
          <h3>
            v{to.version} · {to.author}
          </h3>
          <pre>{JSON.stringify(to.content, null, 2)}</pre>
        </section>
      </div>
    </Layout>
  );
};

export const RollbackConfirmPage: FC<{
  page: PageContext;
  configKey: string;
  current: number;
  target: VersionDocument;
  diff: DiffResult;
}> = ({ page, configKey: key, current, target, diff }) => (
  <Layout page={page} title={`Roll back ${key}`}>
    <p>
      <a href={keyHref(key)}>← {key}</a>
    </p>
    <h1>
      Roll back {key} to v{target.version}?
    </h1>
    <p>
      This publishes v{target.version}'s content as a new version (after v{current}); every client gets it at
      its next poll. The change below turns the current v{current} into that content:
    </p>
    <pre>{JSON.stringify(diff.patch, null, 2)}</pre>
    <form class="stack" method="post" action={keyHref(key, "rollback")}>
      <CsrfField page={page} />
      <input type="hidden" name="to" value={String(target.version)} />
      <label for="message">
        Message for the audit log
        <input id="message" name="message" maxlength={500} placeholder="why" />
      </label>
      <div class="actions">
        <button type="submit" class="danger">
          Roll back to v{target.version}
        </button>
        <a href={keyHref(key)}>Cancel</a>
      </div>
    </form>
  </Layout>
);
