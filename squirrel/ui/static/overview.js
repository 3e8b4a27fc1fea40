import { api, count, el, fill, followJob, guarded, progressBar, qs, time } from "./common.js";

function term(dl, label, value, note) {
  dl.append(el("div", {}, el("dt", {}, label), el("dd", {}, value, note ? el("span", { class: "muted" }, ` ${note}`) : null)));
}

function jobRow(job) {
  const bar = progressBar(`progress of job ${job.id}`);
  bar.value = job.progress;
  const message = el("td", {}, job.message || "");
  const row = el("tr", {}, el("td", {}, el("a", { href: `/ui/jobs#${job.id}` }, job.id.slice(0, 8))), el("td", {}, job.type),
    el("td", {}, bar, ` ${job.progress} %`), message);
  followJob(job.id, (update) => {
    bar.value = update.progress;
    bar.nextSibling.textContent = ` ${update.progress} % ${update.status}`;
    message.textContent = update.message || update.error || "";
  });
  return row;
}

async function load() {
  const [summary, ready, circuits, jobs, snapshots] = await Promise.all([
    api("/v1/health/summary"), fetch("/readyz").then((r) => r.json()), api("/v1/health/circuits"),
    api("/v1/jobs?status=running&limit=20"), api("/v1/snapshots?limit=5"),
  ]);
  const counts = qs("#counts");
  counts.replaceChildren();
  term(counts, "Connected", count(summary.connected), `of ${count(summary.total_pvs)}`);
  term(counts, "Disconnected", count(summary.disconnected));
  term(counts, "Stale", count(summary.stale));
  term(counts, "Updates", `${summary.updates_per_s} /s`);
  const services = qs("#services");
  services.replaceChildren();
  term(services, "Monitor", summary.monitor_alive ? "✔ running" : "✖ not running");
  for (const [name, state] of Object.entries(ready.checks)) term(services, name, state === "ok" ? "✔ ok" : `✖ ${state}`);
  const open = circuits.circuits.slice().sort((a, b) => (a.state === "open" ? 0 : 1) - (b.state === "open" ? 0 : 1) || a.name.localeCompare(b.name));
  fill(qs("#circuits tbody"), open.map((c) => el("tr", { class: c.state === "open" ? "bad" : "" },
    el("td", {}, c.name), el("td", {}, c.state === "open" ? "✖ open" : `✔ ${c.state}`), el("td", {}, count(c.failures ?? c.consecutive_failures)))),
  "No IOC circuits yet.", 3);
  fill(qs("#jobs tbody"), jobs.map(jobRow), "No job is running.", 4);
  fill(qs("#snapshots tbody"), snapshots.map((s) => el("tr", {},
    el("td", {}, el("a", { href: `/ui/snapshots/${s.id}` }, s.title), (s.labels || []).includes("golden") ? el("span", { class: "golden" }, " ★ golden") : null),
    el("td", {}, time(s.createdDate)), el("td", {}, s.createdBy), el("td", { class: "num" }, count(s.pvCount)),
    el("td", { class: "num" }, s.missingCount === undefined ? "—" : count(s.missingCount)))), "No snapshot yet.", 5);
}

guarded(load);
