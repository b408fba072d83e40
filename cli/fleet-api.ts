/**
 * The operability calls of the admin API (`GET /v1/configs/{key}/fleet`, `GET /v1/status`), parsed
 * once here into the shapes the `fleet`, `status` and `publish --wait` commands use.
 */
import { type AdminApi, jsonOf } from "./admin-api";
import { CliError } from "./errors";

export interface FleetDocument {
  key: string;
  window: number;
  clients: number;
  versions: { version: number; clients: number }[];
  current: number;
  /** 0–1: the share of clients holding the version meant for them. */
  converged: number;
  rollout: { candidate: number; stable: number; share: number } | null;
  locations: { colo: string; clients: number; converged: number }[];
}

export async function readFleet(api: AdminApi, key: string, windowSeconds?: number): Promise<FleetDocument> {
  const query = windowSeconds === undefined ? "" : `?window=${windowSeconds}`;
  return parseFleet(jsonOf(await api.call("GET", `/v1/configs/${key}/-/fleet${query}`)));
}

export async function readStatus(api: AdminApi, namespace?: string): Promise<Record<string, unknown>> {
  const query = namespace === undefined ? "" : `?namespace=${encodeURIComponent(namespace)}`;
  return jsonOf(await api.call("GET", `/v1/status${query}`));
}

function bad(member: string): CliError {
  return new CliError(`the origin's fleet answer has no valid ${member}`, { code: "bad_response" });
}

function num(value: unknown, name: string): number {
  if (typeof value !== "number") throw bad(name);
  return value;
}

function records(value: unknown, name: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw bad(name);
  return value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null);
}

export function parseFleet(doc: Record<string, unknown>): FleetDocument {
  const rollout = doc.rollout;
  const r = typeof rollout === "object" && rollout !== null ? (rollout as Record<string, unknown>) : null;
  return {
    key: typeof doc.key === "string" ? doc.key : "",
    window: num(doc.window, "window"),
    clients: num(doc.clients, "clients"),
    versions: records(doc.versions, "versions").map((v) => ({
      version: num(v.version, "version"),
      clients: num(v.clients, "clients"),
    })),
    current: num(doc.current, "current"),
    converged: num(doc.converged, "converged"),
    rollout: r
      ? {
          candidate: num(r.candidate, "candidate"),
          stable: num(r.stable, "stable"),
          share: num(r.share, "share"),
        }
      : null,
    locations: records(doc.locations ?? [], "locations").map((l) => ({
      colo: typeof l.colo === "string" ? l.colo : "unknown",
      clients: num(l.clients, "clients"),
      converged: num(l.converged, "converged"),
    })),
  };
}
