// The dashboard's one page: plain HTML and a little script that polls /dashboard/api/fleet every 2 s
// and renders it (rates are averaged over the last 10 s, totals since the controller started). No framework or build step: it is one table and two buttons.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>capim-edge fleet</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  #summary { color: #555; margin-bottom: 1rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; box-shadow: 0 1px 2px #0001; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e6e8ec; vertical-align: top; }
  th { background: #eef0f4; font-weight: 600; }
  .machine { display: inline-block; margin: 0 .3rem .2rem 0; padding: .05rem .4rem; border-radius: .3rem; font-size: 12px; background: #fff4d6; }
  .machine.ready { background: #dff3e4; }
  .phase-Provisioned { color: #1c7c3a; font-weight: 600; }
  .faults { font-family: ui-monospace, monospace; font-size: 12px; color: #a33; }
  .errors { color: #a33; }
  button { font: inherit; padding: .2rem .6rem; cursor: pointer; }
</style>
</head>
<body>
<h1>capim-edge fleet</h1>
<div id="summary">loading…</div>
<table>
  <thead><tr><th>Cluster</th><th>Phase</th><th>Endpoint</th><th>Machines (bootstrap step)</th><th>Requests/s (total)</th><th>Errors/s (total)</th><th>Faults</th><th></th></tr></thead>
  <tbody id="clusters"></tbody>
</table>
<script>
const INJECT = { errors: [{ rate: 0.5, code: 503 }] };
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
async function setFaults(ns, name, faults) {
  const res = await fetch("/dashboard/api/clusters/" + encodeURIComponent(ns) + "/" + encodeURIComponent(name) + "/faults", {
    method: faults ? "PUT" : "DELETE",
    headers: { "content-type": "application/json", "x-capim-dashboard": "1" },
    body: faults ? JSON.stringify(faults) : undefined,
  });
  if (!res.ok) alert("faults: " + res.status + " " + (await res.text()));
  await refresh();
}
async function refresh() {
  const fleet = await (await fetch("/dashboard/api/fleet")).json();
  const machines = fleet.clusters.flatMap((c) => c.machines);
  document.getElementById("summary").textContent =
    fleet.clusters.length + " clusters, " + machines.filter((m) => m.ready).length + "/" + machines.length + " machines ready, " +
    fleet.clusters.filter((c) => Object.keys(c.faults).length).length + " with faults — " + new Date(fleet.at).toLocaleTimeString();
  document.getElementById("clusters").innerHTML = fleet.clusters.map((c) => {
    const faulted = Object.keys(c.faults).length > 0;
    return '<tr data-cluster="' + esc(c.namespace + "/" + c.name) + '">' +
      "<td>" + esc(c.namespace + "/" + c.name) + "</td>" +
      '<td class="phase-' + esc(c.phase) + '">' + esc(c.phase) + "</td>" +
      "<td>" + esc(c.endpoint ?? "") + "</td>" +
      "<td>" + c.machines.map((m) => '<span class="machine' + (m.ready ? " ready" : "") + '" title="' + esc(m.role) + '">' + esc(m.name) + ": " + esc(m.step) + "</span>").join("") + "</td>" +
      "<td>" + c.requests.perSecond.toFixed(1) + " (" + c.requests.total + ")</td>" +
      '<td class="errors" data-rate="' + c.requests.errorsPerSecond + '">' + c.requests.errorsPerSecond.toFixed(1) + " (" + c.requests.errors + ")</td>" +
      '<td class="faults">' + (faulted ? esc(JSON.stringify(c.faults)) : "") + "</td>" +
      '<td><button class="fault-toggle" data-ns="' + esc(c.namespace) + '" data-name="' + esc(c.name) + '" data-faulted="' + faulted + '">' +
      (faulted ? "Clear faults" : "Inject 503s (50%)") + "</button></td></tr>";
  }).join("");
}
document.getElementById("clusters").addEventListener("click", (e) => {
  const b = e.target.closest("button.fault-toggle");
  if (b) setFaults(b.dataset.ns, b.dataset.name, b.dataset.faulted === "true" ? undefined : INJECT);
});
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
