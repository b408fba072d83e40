/**
 * A key's rollout: state, share over time, cohorts, clients per version and per location from the
 * fleet view, the convergence chart, and abort/complete. The live part (`#live`) is a fragment
 * the page re-fetches every 2 s when scripts run (assets/live.js); without scripts the page is
 * complete as served and a reload shows the latest.
 */
import type { FC } from "hono/jsx";
import { describeRing } from "../../../core/rings";
import type { RolloutStatusDocument as RolloutStatus } from "../../contract";
import type { ApiProblem, FleetDocument } from "../api";
import { RolloutChart, type TrailPoint, VersionBars } from "../chart";
import { CsrfField, keyHref, Layout, type PageContext, ProblemBox, when } from "../layout";

export const FLEET_WINDOW_SECONDS = 60;

export const RolloutLive: FC<{
  rollout: RolloutStatus;
  fleet: FleetDocument | null;
  fleetProblem: ApiProblem | null;
  nowMs: number;
  trail: TrailPoint[];
}> = ({ rollout, fleet, fleetProblem, nowMs, trail }) => {
  const candidate = rollout.candidate?.version ?? null;
  return (
    <div data-testid="rollout-live" data-state={rollout.state}>
      <p>
        State{" "}
        <span class={`badge ${rollout.state}`} data-testid="rollout-state">
          {rollout.state}
        </span>
        {rollout.state !== "none" && (
          <>
            {" "}
            · v{rollout.stable?.version} (stable) → v{candidate} (candidate)
            {rollout.state === "running" && (
              <>
                {" "}
                · share now <strong data-testid="rollout-share">{rollout.share ?? 0}%</strong>
                {rollout.fullAt && <> · everyone by {when(rollout.fullAt)}</>}
              </>
            )}
            {rollout.resultVersion !== null && rollout.resultVersion !== undefined && (
              <> · ended as v{rollout.resultVersion}</>
            )}
          </>
        )}
      </p>
      {rollout.state !== "none" && (
        <RolloutChart rollout={rollout} fleet={fleet} nowMs={nowMs} trail={trail} />
      )}
      <h2>Clients per version (last {FLEET_WINDOW_SECONDS} s)</h2>
      {fleetProblem && <ProblemBox problem={fleetProblem} />}
      {fleet && (
        <>
          <p>
            <span data-testid="fleet-clients">{fleet.clients}</span> clients seen ·{" "}
            <span data-testid="fleet-converged">{Math.round(fleet.converged * 1000) / 10}%</span> hold the
            version meant for them
          </p>
          <VersionBars fleet={fleet} candidate={candidate} />
          <div class="table-wrap">
            <table data-testid="fleet-versions">
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col" class="num">
                    Clients
                  </th>
                  <th scope="col" class="num">
                    Applied
                  </th>
                  <th scope="col" class="num">
                    Rejected
                  </th>
                </tr>
              </thead>
              <tbody>
                {fleet.versions.map((v) => (
                  <tr>
                    <td>
                      v{v.version}
                      {v.version === candidate
                        ? " (candidate)"
                        : v.version === rollout.stable?.version
                          ? " (stable)"
                          : ""}
                    </td>
                    <td class="num">{v.clients}</td>
                    <td class="num">{v.applied ?? "—"}</td>
                    <td class="num">{v.rejected ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {fleet.locations.length > 0 && (
            <>
              <h2>Locations</h2>
              <ul>
                {fleet.locations.map((l) => (
                  <li>
                    {l.colo}: {l.clients} clients, {Math.round(l.converged * 1000) / 10}% converged
                    {l.inRing === undefined ? "" : l.inRing ? " · in the ring" : " · outside the ring"}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </div>
  );
};

export const RolloutPage: FC<{
  page: PageContext;
  configKey: string;
  rollout: RolloutStatus;
  fleet: FleetDocument | null;
  fleetProblem: ApiProblem | null;
  nowMs: number;
  liveScript: string;
  notice: string | null;
}> = ({ page, configKey: key, rollout, fleet, fleetProblem, nowMs, liveScript, notice }) => (
  <Layout page={page} title={`Rollout of ${key}`}>
    <p>
      <a href={keyHref(key)}>← {key}</a>
    </p>
    <h1>Rollout of {key}</h1>
    {notice && (
      <p class="notice" role="status">
        {notice}
      </p>
    )}
    {rollout.state === "none" ? (
      <p>
        No rollout for this key yet. Start one by publishing with a <code>Config-Rollout</code> header
        (docs/rollouts.md).
      </p>
    ) : (
      <section aria-labelledby="cohorts">
        <h2 id="cohorts">Cohorts</h2>
        <p>
          {rollout.mode === "linear"
            ? `Linear: ${rollout.start}% at the start, +${rollout.step}% every ${rollout.everySeconds} s, up to 100%.`
            : `Fixed at ${rollout.percent}% of clients.`}{" "}
          Clients are placed by the hash of the key and their <code>Config-Client-Id</code>; a client in the
          cohort at p% stays in it at every higher share. Started {when(rollout.startedAt)} by{" "}
          {rollout.startedBy}
          {rollout.message ? ` — ${rollout.message}` : ""}.
          {rollout.endedAt && ` Ended ${when(rollout.endedAt)} by ${rollout.endedBy ?? "?"}.`}
        </p>
        <p data-testid="rollout-ring">
          {rollout.ring ? (
            <>
              Ring: <strong>{describeRing(rollout.ring)}</strong> — the share applies only to requests
              reaching the edge there; everywhere else every client keeps v{rollout.stable?.version}.
            </>
          ) : (
            "Ring: everywhere (the share applies in every location)."
          )}
        </p>
      </section>
    )}
    <div id="live" data-src={`${keyHref(key, "rollout")}/live`} aria-live="polite">
      <RolloutLive rollout={rollout} fleet={fleet} fleetProblem={fleetProblem} nowMs={nowMs} trail={[]} />
    </div>
    {rollout.state === "running" && (
      <div class="actions">
        <form class="inline" method="post" action={keyHref(key, "rollout/abort")}>
          <CsrfField page={page} />
          <input type="hidden" name="message" value="aborted from the console" />
          <button type="submit" class="danger" data-testid="abort">
            Abort: back to v{rollout.stable?.version}
          </button>
        </form>
        <form class="inline" method="post" action={keyHref(key, "rollout/complete")}>
          <CsrfField page={page} />
          <input type="hidden" name="message" value="completed from the console" />
          <button type="submit" class="secondary" data-testid="complete">
            Complete: v{rollout.candidate?.version} for everyone
          </button>
        </form>
      </div>
    )}
    <script nonce={page.nonce} src={`/console/assets/${liveScript}`} defer />
  </Layout>
);
