import { api, ApiError, count, el, fill, fmt, followJob, guarded, qs, showError } from "./common.js";

const id = document.body.dataset.snapshotId;
const FAILURES = new Set(["mismatch", "disconnected", "timeout", "failed", "out_of_limits"]);
let snapshot = null;
let pvIds = null; // null: every PV of the snapshot

function options() {
  return { skipEqual: qs("#skip-equal").checked, verify: qs("#verify").checked, backup: qs("#backup").checked, force: qs("#force").checked };
}

async function plan() {
  const body = { ...options() };
  if (pvIds) body.pvIds = pvIds;
  const result = await api(`/v1/snapshots/${id}/restore?dryRun=true`, { method: "POST", body });
  fill(qs("#plan-counts tbody"), Object.entries(result.counts).map(([action, n]) =>
    el("tr", { "data-action": action }, el("th", { scope: "row" }, action), el("td", { class: "num" }, count(n)))), "Nothing to restore.", 2);
  fill(qs("#plan-items tbody"), result.items.slice(0, 500).map((i) => el("tr", {},
    el("th", { scope: "row" }, i.pvName), el("td", {}, i.action), el("td", { class: "num" }, fmt(i.currentValue)),
    el("td", { class: "num" }, fmt(i.targetValue)))), "No PV.", 4);
}

async function select(event) {
  event.preventDefault();
  const query = new URLSearchParams();
  for (const o of qs("#sel-tags").selectedOptions) query.append("tags", o.value);
  for (const o of qs("#sel-devices").selectedOptions) query.append("devices", o.value);
  if ([...query.keys()].length === 0) {
    pvIds = null;
    qs("#selected").textContent = "Every PV of the snapshot.";
  } else {
    const body = await api(`/v1/snapshots/${id}?${query}`);
    pvIds = body.pvValues.map((v) => v.pvId);
    qs("#selected").textContent = `${count(pvIds.length)} PVs selected.`;
    if (!pvIds.length) {
      showError(new Error("No PV of this snapshot has these tags or devices: choose others."));
      return;
    }
  }
  await plan();
}

function showRunning(jobId) {
  qs("#running").replaceChildren(el("p", { class: "warning" }, "⚠ Another restore is running: ",
    el("a", { href: `/ui/jobs#${jobId}` }, `job ${jobId}`), ". Only one restore runs at a time."));
  follow(jobId);
}

function outcome(job) {
  const result = job.result || {};
  const items = (result.items || []).slice().sort((a, b) => (FAILURES.has(b.outcome) ? 1 : 0) - (FAILURES.has(a.outcome) ? 1 : 0));
  qs("#outcome").textContent = job.status === "completed"
    ? `✔ Restored: ${count(result.successCount)} of ${count(result.totalPVs)} PVs${result.changedCount === undefined ? "" : ` (${count(result.changedCount)} changed)`}.`
    : `✖ ${job.status}: ${job.error || job.message || ""}`;
  fill(qs("#outcome-items tbody"), items.map((i) => el("tr", { class: FAILURES.has(i.outcome) ? "bad" : "" },
    el("th", { scope: "row" }, i.pvName), el("td", {}, FAILURES.has(i.outcome) ? `✖ ${i.outcome}` : `✔ ${i.outcome}`), el("td", {}, i.error || ""))),
  "No item.", 3);
  if (result.backupSnapshotId) {
    qs("#undo-box").replaceChildren(el("a", { class: "button", id: "undo", href: `/ui/snapshots/${result.backupSnapshotId}/restore` },
      "Undo: restore the pre-restore backup"));
  }
}

function follow(jobId) {
  return followJob(jobId, (job) => {
    qs("#progress").value = job.progress;
    qs("#stage").textContent = `${job.progress} % — ${job.message || job.status}`;
  }).then(outcome);
}

async function start(event) {
  event.preventDefault();
  const body = { ...options() };
  if (pvIds) body.pvIds = pvIds;
  try {
    const queued = await api(`/v1/snapshots/${id}/restore`, { method: "POST", body });
    qs("#start").disabled = true;
    await follow(queued.jobId);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.body?.jobId) showRunning(err.body.jobId);
    else throw err;
  }
}

async function init() {
  snapshot = await api(`/v1/snapshots/${id}?limit=1`);
  qs("#snap-title").textContent = `“${snapshot.title}”`;
  const devices = await api("/v1/pvs/devices");
  qs("#sel-devices").replaceChildren(...devices.map((d) => el("option", { value: d }, d)));
  for (const group of await api("/v1/tags")) {
    const [detail] = await api(`/v1/tags/${group.id}`);
    qs("#sel-tags").append(el("optgroup", { label: group.name }, (detail.tags || []).map((t) => el("option", { value: t.id }, t.name))));
  }
  await plan();
}

qs("#select").addEventListener("submit", (e) => guarded(() => select(e)));
for (const box of ["#skip-equal", "#verify", "#backup", "#force"]) qs(box).addEventListener("change", () => guarded(plan));
qs("#force").addEventListener("change", () => { qs("#force-warning").hidden = !qs("#force").checked; });
qs("#confirm-title").addEventListener("input", () => { qs("#start").disabled = !snapshot || qs("#confirm-title").value !== snapshot.title; });
qs("#confirm").addEventListener("submit", (e) => guarded(() => start(e)));
guarded(init);
