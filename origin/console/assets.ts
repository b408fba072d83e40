/**
 * The console's stylesheet and its one script, served from `/console/assets/<name>-<hash>.<ext>`
 * so the CSP can say `style-src 'self'` (no inline style) and browsers can keep them for a year:
 * the hash in the name changes whenever the bytes do.
 */
import { sha256, toBase64Url, utf8Bytes } from "../../core";

export const CONSOLE_CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --bg:#fff; --panel:#f6f8fa; --line:#d0d7de; --accent:#0b5cad;
  --ok:#1a7f37; --bad:#b42318; --warn:#9a6700; --focus:#ffbf47; color-scheme: light; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline:3px solid var(--focus); outline-offset:2px; }
header.top { display:flex; flex-wrap:wrap; gap:.5rem 1.5rem; align-items:center; padding:.6rem 1rem;
  background:#0d1117; color:#f0f6fc; }
header.top a { color:#f0f6fc; text-decoration:none; font-weight:600; }
header.top a:hover, header.top a[aria-current="page"] { text-decoration:underline; }
header.top nav ul { display:flex; flex-wrap:wrap; gap:1rem; list-style:none; margin:0; padding:0; }
header.top .who { margin-left:auto; display:flex; gap:.75rem; align-items:center; font-size:.9rem; }
header.top .who button { background:transparent; color:#f0f6fc; border:1px solid #8b949e; }
main { max-width:1240px; margin:0 auto; padding:1rem; }
h1 { font-size:1.5rem; margin:.5rem 0 1rem; overflow-wrap:anywhere; }
figure { margin:0 0 1rem; }
h2 { font-size:1.15rem; margin:1.5rem 0 .5rem; }
.skip { position:absolute; left:-999px; } .skip:focus { left:1rem; top:.5rem; background:#fff; padding:.25rem .5rem; z-index:2; }
.table-wrap { overflow-x:auto; }
table { border-collapse:collapse; width:100%; font-size:.92rem; }
th, td { text-align:left; padding:.35rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--panel); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:.88rem; }
pre { background:var(--panel); border:1px solid var(--line); padding:.75rem; overflow:auto; max-height:32rem;
  white-space:pre-wrap; word-break:break-word; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:1rem; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(16rem,1fr)); gap:1rem; }
.card { border:1px solid var(--line); border-radius:6px; padding:.75rem 1rem; background:var(--panel); }
.card h2 { margin-top:0; }
.badge { display:inline-block; padding:0 .45rem; border-radius:999px; font-size:.8rem; border:1px solid var(--line); background:#fff; }
.badge.public { border-color:var(--ok); color:var(--ok); } .badge.private { border-color:var(--muted); color:var(--muted); }
.badge.running { border-color:var(--warn); color:var(--warn); } .badge.aborted { border-color:var(--bad); color:var(--bad); }
.badge.completed { border-color:var(--ok); color:var(--ok); }
.muted { color:var(--muted); }
.error { border:1px solid var(--bad); background:#fff5f5; padding:.75rem 1rem; border-radius:6px; }
.notice { border:1px solid var(--ok); background:#f0fff4; padding:.75rem 1rem; border-radius:6px; }
form.inline { display:inline; }
form.stack { display:grid; gap:.5rem; max-width:36rem; }
form.filters { display:flex; flex-wrap:wrap; gap:.75rem; align-items:end; margin-bottom:1rem; }
form.filters label, form.stack label { display:grid; gap:.2rem; font-weight:600; font-size:.9rem; }
input, select, textarea { font:inherit; padding:.35rem .5rem; border:1px solid var(--line); border-radius:4px; min-width:0; }
button { font:inherit; padding:.35rem .9rem; border-radius:4px; border:1px solid var(--accent); background:var(--accent);
  color:#fff; cursor:pointer; }
button.danger { background:var(--bad); border-color:var(--bad); }
button.secondary { background:#fff; color:var(--accent); }
.actions { display:flex; flex-wrap:wrap; gap:.75rem; margin:1rem 0; }
.patch .op-add { color:var(--ok); } .patch .op-remove { color:var(--bad); } .patch .op-replace { color:var(--warn); }
.patch .op-test { color:var(--muted); }
svg.chart { width:100%; height:auto; max-width:900px; border:1px solid var(--line); background:#fff; }
svg.chart text { font:12px system-ui,sans-serif; fill:var(--muted); }
svg.chart .target { fill:none; stroke:var(--accent); stroke-width:2.5; }
svg.chart .projection { fill:none; stroke:var(--accent); stroke-width:1.5; stroke-dasharray:5 4; }
svg.chart .now { stroke:var(--muted); stroke-dasharray:2 3; }
svg.chart .fleet { fill:var(--ok); stroke:#fff; stroke-width:1.5; }
svg.chart .fleet-line { fill:none; stroke:var(--ok); stroke-width:2; }
svg.chart .grid { stroke:var(--line); }
svg.bars .bar { fill:var(--accent); } svg.bars .bar.candidate { fill:var(--ok); } svg.bars .bar.rejected { fill:var(--bad); }
svg.bars { width:100%; height:auto; max-width:900px; }
svg.bars text { font:12px system-ui,sans-serif; fill:var(--fg); }
.legend { display:flex; flex-wrap:wrap; gap:1rem; font-size:.85rem; color:var(--muted); }
@media (max-width: 720px) {
  body { font-size:16px; }
  .grid2 { grid-template-columns:1fr; }
  header.top .who { margin-left:0; }
  main { padding:.75rem; }
  th, td { padding:.3rem .4rem; }
}
`;

/** Fleet samples the live script keeps and sends back so the server can draw their trail. */
export const MAX_TRAIL = 120;

/**
 * Progressive enhancement for the rollout page: re-fetch the `#live` fragment every 2 s and swap
 * it in. The fragment is server-rendered (escaped) HTML from this origin; when the session has
 * ended the fetch is redirected to sign-in and the page reloads instead. The page keeps the
 * fleet share it has seen (`epochSeconds:percent`) and sends it back as `?trail=`, so the
 * server-drawn chart shows convergence over time without the origin storing anything.
 */
export const LIVE_JS = `(function () {
  var box = document.getElementById("live");
  if (!box || !box.dataset.src) return;
  var src = box.dataset.src;
  var trail = [];
  function sample() {
    var chart = box.querySelector("[data-fleet-share]");
    var share = chart ? chart.getAttribute("data-fleet-share") : "";
    if (share) {
      trail.push(Math.floor(Date.now() / 1000) + ":" + share);
      if (trail.length > ${MAX_TRAIL}) trail.shift();
    }
  }
  function tick() {
    var url = src + (trail.length ? "?trail=" + trail.join(",") : "");
    fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (res.redirected || res.status === 401) { window.location.reload(); return null; }
        return res.ok ? res.text() : null;
      })
      .then(function (html) { if (html !== null) { box.innerHTML = html; sample(); } })
      .catch(function () {})
      .finally(function () { window.setTimeout(tick, 2000); });
  }
  sample();
  window.setTimeout(tick, 2000);
})();
`;

const names = new Map<string, Promise<string>>();

/** `<base>-<first 12 base64url chars of SHA-256>.<ext>`, computed once per isolate. */
export function stylesheetName(): Promise<string> {
  return assetName("console");
}

export function assetName(base: "console" | "live"): Promise<string> {
  const body = base === "console" ? CONSOLE_CSS : LIVE_JS;
  const ext = base === "console" ? "css" : "js";
  let name = names.get(base);
  if (!name) {
    name = sha256(utf8Bytes(body)).then((d) => `${base}-${toBase64Url(d).slice(0, 12)}.${ext}`);
    names.set(base, name);
  }
  return name;
}
