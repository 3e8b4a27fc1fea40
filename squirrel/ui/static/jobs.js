import { api, can, el, fill, guarded, qs, time } from "./common.js";

const MARK = { completed: "✔", failed: "✖", cancelled: "⊘", running: "▶", pending: "…" };

function result(job) {
  if (job.type === "snapshot_create" && job.resultId) return el("a", { href: `/ui/snapshots/${job.resultId}` }, "snapshot");
  if (job.type === "snapshot_restore" && job.result?.backupSnapshotId) return el("a", { href: `/ui/snapshots/${job.result.backupSnapshotId}` }, "backup");
  return "";
}

async function cancel(job) {
  await api(`/v1/jobs/${job.id}`, { method: "DELETE" });
  await load();
}

async function load() {
  const query = new URLSearchParams({ limit: "100" });
  if (qs("#status").value) query.set("status", qs("#status").value);
  if (qs("#type").value) query.set("type", qs("#type").value);
  const jobs = await api(`/v1/jobs?${query}`);
  const mayCancel = (job) => ["pending", "running"].includes(job.status) && (job.type === "snapshot_restore" ? can.restore : can.write);
  fill(qs("#jobs tbody"), jobs.map((job) => el("tr", { id: job.id, class: job.status === "failed" ? "bad" : "" },
    el("th", { scope: "row" }, el("code", { title: job.id }, job.id.slice(0, 8))), el("td", {}, job.type),
    el("td", {}, `${MARK[job.status] || ""} ${job.status}`), el("td", { class: "num" }, `${job.progress} %`),
    el("td", {}, job.error || job.message || "", (job.warnings || []).length ? el("span", { class: "warning" }, ` ⚠ ${job.warnings.join("; ")}`) : ""),
    el("td", {}, time(job.createdAt)), el("td", {}, result(job)),
    el("td", {}, mayCancel(job) ? el("button", { type: "button", onclick: () => guarded(() => cancel(job)) }, "Cancel") : ""))),
  "No job.", 8);
  if (window.location.hash) document.getElementById(window.location.hash.slice(1))?.classList.add("target");
}

qs("#filter").addEventListener("submit", (e) => { e.preventDefault(); guarded(load); });
guarded(load);
window.setInterval(() => guarded(load), 5000);
