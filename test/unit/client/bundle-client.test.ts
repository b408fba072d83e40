/**
 * createBundleClient against a local edge double (real node:http server, real Ed25519 signatures
 * from core's buildSnapshot): the whole set is handed over at once and only when every member
 * verified against the signed manifest; a bad member keeps the previous set.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type BundleSnapshot, type ConfigClientError, createBundleClient } from "../../../client";
import { encodeBundleManifest } from "../../../core/bundles";
import type { Snapshot } from "../../../core/snapshot";
import {
  flipByte,
  newSigner,
  type Signer,
  startTestServer,
  type TestServer,
  waitFor,
} from "./support/snapshot-server";

const NS = "shop";
const KEYS = [`${NS}/app/a`, `${NS}/app/b`, `${NS}/app/c`];

interface Edge {
  server: TestServer;
  /** The manifest served now, and every member version by `key@version`. */
  manifest: Snapshot;
  members: Map<string, Snapshot>;
  /** Member responses to tamper with, by `key@version`. */
  tampered: Set<string>;
}

async function publishSet(
  signer: Signer,
  edge: Edge,
  bundleVersion: number,
  memberVersion: number,
  bundleKey = `bundle:${NS}/web`,
) {
  const members: Record<string, { version: number; digest: string }> = {};
  for (const key of KEYS) {
    const snapshot = await signer.sign(key, memberVersion, { key, v: memberVersion });
    edge.members.set(`${key}@${memberVersion}`, snapshot);
    members[key] = { version: memberVersion, digest: snapshot.meta.digest };
  }
  const body = encodeBundleManifest({ bundle: `${NS}/web`, version: bundleVersion, members });
  edge.manifest = await signer.sign(bundleKey, bundleVersion, new TextEncoder().encode(body));
}

function headersOf(snapshot: Snapshot): Record<string, string> {
  return {
    "Content-Type": "application/json",
    ETag: snapshot.meta.etag,
    "Config-Version": String(snapshot.meta.version),
    "Content-Digest": snapshot.meta.digest,
    "Config-Signature": snapshot.meta.signature,
    "Cache-Control": "private, max-age=0",
  };
}

async function startEdge(signer: Signer): Promise<Edge> {
  const edge: Edge = {
    server: await startTestServer(),
    manifest: undefined as unknown as Snapshot,
    members: new Map(),
    tampered: new Set(),
  };
  await publishSet(signer, edge, 1, 1);
  edge.server.handle((req, res) => {
    const url = new URL(req.url ?? "/", "http://edge");
    if (url.pathname === `/v1/bundles/${NS}/web`) {
      if (req.headers["if-none-match"] === edge.manifest.meta.etag) {
        res.writeHead(304, { ETag: edge.manifest.meta.etag }).end();
        return;
      }
      res.writeHead(200, headersOf(edge.manifest)).end(edge.manifest.body);
      return;
    }
    const key = url.pathname.replace("/v1/configs/", "");
    const id = `${key}@${url.searchParams.get("version")}`;
    const member = edge.members.get(id);
    if (!member) {
      res.writeHead(404, { "Content-Type": "application/problem+json" }).end('{"detail":"no such version"}');
      return;
    }
    res.writeHead(200, headersOf(member)).end(edge.tampered.has(id) ? flipByte(member.body, 3) : member.body);
  });
  return edge;
}

const open: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

describe("createBundleClient", () => {
  it("hands over every member at the manifest's versions, verified, in one snapshot", async () => {
    const signer = await newSigner();
    const edge = await startEdge(signer);
    open.push(edge.server);
    const client = createBundleClient({
      edge: edge.server.url,
      bundle: `${NS}/web`,
      jwks: signer.jwks,
      longPoll: false,
      intervalMs: 20,
    });
    open.push(client);
    const set = await client.ready();
    expect(set).toMatchObject({ bundle: `${NS}/web`, version: 1, etag: edge.manifest.meta.etag });
    expect(Object.keys(set.members)).toEqual(KEYS);
    for (const key of KEYS) expect(set.members[key]?.value).toEqual({ key, v: 1 });
    expect(edge.server.requests.filter((r) => r.url.includes("?version=1"))).toHaveLength(3);
  });

  it("adopts the next set only as a whole: a member that fails to verify keeps the previous set", async () => {
    const signer = await newSigner();
    const edge = await startEdge(signer);
    open.push(edge.server);
    const client = createBundleClient({
      edge: edge.server.url,
      bundle: `${NS}/web`,
      jwks: signer.jwks,
      longPoll: false,
      intervalMs: 20,
      maxBackoffMs: 40,
    });
    open.push(client);
    const seen: BundleSnapshot[] = [];
    const errors: ConfigClientError[] = [];
    client.onChange((set) => seen.push(set));
    client.onError((error) => errors.push(error));
    await client.ready();
    await publishSet(signer, edge, 2, 2);
    edge.tampered.add(`${KEYS[1]}@2`);
    await waitFor(() => errors.length >= 2, 5000, "the bad member to be refused twice");
    expect(errors[0]?.code).toBe("digest_mismatch");
    expect(client.current()?.version).toBe(1);
    expect(Object.values(client.current()?.members ?? {}).map((m) => m.version)).toEqual([1, 1, 1]);
    edge.tampered.clear();
    await waitFor(() => client.current()?.version === 2, 5000, "set 2");
    expect(Object.values(client.current()?.members ?? {}).map((m) => m.version)).toEqual([2, 2, 2]);
    // Every set ever handed over was whole: one version for all members.
    for (const set of seen) expect(new Set(Object.values(set.members).map((m) => m.version)).size).toBe(1);
  });

  it("refuses a manifest signed for another bundle and a member version the edge no longer has", async () => {
    const signer = await newSigner();
    const edge = await startEdge(signer);
    open.push(edge.server);
    await publishSet(signer, edge, 1, 1, `bundle:${NS}/other`);
    const client = createBundleClient({
      edge: edge.server.url,
      bundle: `${NS}/web`,
      jwks: signer.jwks,
      longPoll: false,
      intervalMs: 20,
    });
    open.push(client);
    await expect(client.ready()).rejects.toMatchObject({ code: "key_mismatch" });
    await publishSet(signer, edge, 1, 1);
    edge.members.clear();
    const again = createBundleClient({
      edge: edge.server.url,
      bundle: `${NS}/web`,
      jwks: signer.jwks,
      longPoll: false,
      intervalMs: 20,
    });
    open.push(again);
    await expect(again.ready()).rejects.toMatchObject({ code: "not_found" });
  });

  it("throws at creation for a bundle that is not namespace/name", () => {
    const signer = { jwks: { keys: [] } };
    expect(() =>
      createBundleClient({ edge: "http://127.0.0.1:1", bundle: "shop", jwks: signer.jwks }),
    ).toThrow(TypeError);
    expect(() =>
      createBundleClient({ edge: "http://127.0.0.1:1", bundle: "shop/Web", jwks: signer.jwks }),
    ).toThrow(TypeError);
  });
});
