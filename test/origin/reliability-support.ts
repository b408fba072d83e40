/// <reference types="@cloudflare/vitest-pool-workers/types" />
/**
 * Observing the origin's whole state for the reliability, bad-input and token-attack suites: the
 * NamespaceStore's SQLite tables and every KV record of a namespace, so a test can assert that a
 * refused request changed nothing, that KV never holds a head whose snapshot is missing, and that
 * KV has caught up with SQLite once distribution succeeds. Faults are injected only through the
 * store's `distributionOverride` seam, wrapping the real KV binding.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { decodeSnapshot, type HeadRecord, kvKeys, sha256, toBase64 } from "../../core";
import type { DistributionDeps, KvWriter } from "../../origin/distribution/drain";
import type { Purger } from "../../origin/distribution/purger";
import { originEnv, storeOf } from "./support/origin";

export interface KvRecord {
  name: string;
  /** SHA-256 of the value, base64: compares values without holding megabytes. */
  hash: string;
}

/**
 * Every KV record belonging to `namespace` (its heads, snapshots and settings), sorted by name.
 * With `light`, snapshot values are not read: they are immutable, so their names say enough.
 */
export async function kvRecords(namespace: string, light = false): Promise<KvRecord[]> {
  const names: string[] = [];
  for (const prefix of [`head/${namespace}/`, `snap/${namespace}/`, kvKeys.namespace(namespace)]) {
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<unknown, string> = await originEnv.CONFIGS.list({
        prefix,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const entry of page.keys) if (!names.includes(entry.name)) names.push(entry.name);
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
  }
  names.sort();
  const out: KvRecord[] = [];
  for (const name of names) {
    if (light && name.startsWith("snap/")) {
      out.push({ name, hash: "immutable" });
      continue;
    }
    const value = await originEnv.CONFIGS.get(name, "arrayBuffer");
    out.push({ name, hash: value === null ? "absent" : toBase64(await sha256(new Uint8Array(value))) });
  }
  return out;
}

/**
 * Every row of every table in the namespace's Durable Object (whatever tables later features add),
 * blobs as SHA-256 hashes, or as their length when `light`.
 */
export function storeRows(namespace: string, light = false): Promise<Record<string, unknown[]>> {
  return runInDurableObject(storeOf(namespace), async (_, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
      )
      .toArray()
      .map((row) => row.name);
    const out: Record<string, unknown[]> = {};
    for (const table of tables) {
      const rows: unknown[] = [];
      for (const row of sql.exec(`SELECT * FROM "${table}"`).toArray()) {
        const plain: Record<string, unknown> = {};
        for (const [column, value] of Object.entries(row)) {
          plain[column] =
            value instanceof ArrayBuffer
              ? light
                ? `${value.byteLength} bytes`
                : toBase64(await sha256(new Uint8Array(value)))
              : value;
        }
        rows.push(plain);
      }
      // A stable order whatever the table's keys: by the rows' own content.
      out[table] = rows.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    }
    return out;
  });
}

export interface OriginState {
  kv: KvRecord[];
  store: Record<string, unknown[]>;
}

/**
 * The namespace's whole state: compare two of these with toEqual to prove nothing changed. `light`
 * skips hashing immutable bodies (a version row or snapshot name cannot change without its
 * metadata changing too), for suites that compare state hundreds of times.
 */
export async function stateOf(namespace: string, light = false): Promise<OriginState> {
  return { kv: await kvRecords(namespace, light), store: await storeRows(namespace, light) };
}

/**
 * The invariant readers rely on: every head in KV names a snapshot that KV holds, for that key and
 * version, with the head's ETag. Returns how many heads were checked; throws naming the first
 * head that breaks it.
 */
export async function assertHeadsResolve(namespace: string): Promise<number> {
  let checked = 0;
  for (const { name } of await kvRecords(namespace)) {
    if (!name.startsWith("head/")) continue;
    const head = (await originEnv.CONFIGS.get(name, "json")) as HeadRecord;
    const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(head.key, head.version), "arrayBuffer");
    if (raw === null) throw new Error(`${name} points at v${head.version}, whose snapshot is not in KV`);
    const snapshot = decodeSnapshot(raw);
    if (snapshot.meta.key !== head.key || snapshot.meta.version !== head.version) {
      throw new Error(`${name} resolves to a snapshot of ${snapshot.meta.key} v${snapshot.meta.version}`);
    }
    if (snapshot.meta.etag !== head.etag) throw new Error(`${name} and its snapshot disagree on the ETag`);
    checked++;
  }
  return checked;
}

interface KeyRow {
  key: string;
  current_version: number | null;
  deleted: number;
}
interface VersionRow {
  key: string;
  version: number;
  etag: string;
  signature: string;
  body: string;
}

/**
 * KV has caught up with SQLite: the outbox is empty, every key's head is its current version (and
 * deleted flag), and every version ever committed has its exact bytes in KV. Returns the number of
 * snapshots compared.
 */
export async function assertConverged(namespace: string): Promise<number> {
  const rows = await storeRows(namespace);
  if (rows.outbox?.length) throw new Error(`outbox not empty: ${JSON.stringify(rows.outbox)}`);
  for (const row of (rows.keys ?? []) as KeyRow[]) {
    const head = (await originEnv.CONFIGS.get(kvKeys.head(row.key), "json")) as HeadRecord | null;
    if (head === null || head.version !== row.current_version || head.deleted !== (row.deleted === 1)) {
      throw new Error(`head of ${row.key} is ${JSON.stringify(head)}, SQLite says ${JSON.stringify(row)}`);
    }
  }
  let compared = 0;
  for (const version of (rows.versions ?? []) as VersionRow[]) {
    const raw = await originEnv.CONFIGS.get(kvKeys.snapshot(version.key, version.version), "arrayBuffer");
    if (raw === null) throw new Error(`snapshot ${version.key} v${version.version} missing from KV`);
    const snapshot = decodeSnapshot(raw);
    const hash = toBase64(await sha256(snapshot.body));
    if (hash !== version.body || snapshot.meta.etag !== version.etag) {
      throw new Error(`snapshot ${version.key} v${version.version} in KV differs from SQLite`);
    }
    if (snapshot.meta.signature !== version.signature) throw new Error("signature differs from SQLite");
    compared++;
  }
  return compared;
}

/** How a scripted KV put fails: before writing anything, or after the value landed (ambiguous). */
export type PutFault = "ok" | "fail-before" | "fail-after";

/** The real KV binding; `plan` decides each put's fate. Counts what it injected. */
export class ScriptedKv implements KvWriter {
  readonly puts: { name: string; fault: PutFault }[] = [];
  constructor(private readonly plan: (name: string, attempt: number) => PutFault) {}

  get faults(): number {
    return this.puts.filter((p) => p.fault !== "ok").length;
  }

  async put(name: string, value: string | ArrayBuffer | ArrayBufferView): Promise<void> {
    const fault = this.plan(name, this.puts.length);
    this.puts.push({ name, fault });
    if (fault === "fail-before") throw new Error(`injected: KV put of ${name} failed`);
    await originEnv.CONFIGS.put(name, value);
    if (fault === "fail-after") throw new Error(`injected: KV put of ${name} timed out after landing`);
  }
}

/** A purger that fails every call (and counts them). */
export class FailingPurger implements Purger {
  calls = 0;
  async purge(): Promise<void> {
    this.calls++;
    throw new Error("injected: edge purge failed");
  }
}

/** Installs (or, with null, removes) injected distribution dependencies in the namespace's object. */
export function injectDistribution(namespace: string, deps: Partial<DistributionDeps> | null): Promise<void> {
  return runInDurableObject(storeOf(namespace), (instance) => {
    instance.distributionOverride = deps;
  });
}

export function outboxLength(namespace: string): Promise<number> {
  return runInDurableObject(storeOf(namespace), (_, state) =>
    Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n),
  );
}

export function alarmSet(namespace: string): Promise<boolean> {
  return runInDurableObject(
    storeOf(namespace),
    async (_, state) => (await state.storage.getAlarm()) !== null,
  );
}

/** Runs the object's alarm until its outbox is empty (at most `limit` times); returns the runs. */
export async function drainByAlarm(namespace: string, limit = 10): Promise<number> {
  let runs = 0;
  while ((await outboxLength(namespace)) > 0) {
    if (runs >= limit) throw new Error(`outbox still not empty after ${limit} alarms`);
    await runDurableObjectAlarm(storeOf(namespace));
    runs++;
  }
  return runs;
}

/** A GET through the real edge worker bound to the origin (EDGE service binding). */
export function edgeGet(path: string, headers: Record<string, string> = {}): Promise<Response> {
  if (!originEnv.EDGE) throw new Error("the origin test project needs the EDGE binding");
  return originEnv.EDGE.fetch(`https://edge.test${path}`, { headers });
}
