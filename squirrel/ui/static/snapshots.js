import { api, count, el, fill, followJob, guarded, progressBar, qs, showError, time } from "./common.js";

const PAGE = 50;
let offset = 0;

function labels(s) {
  return (s.labels || []).map((l) => el("span", { class: l === "golden" ? "label golden" : "label" }, l === "golden" ? "★ golden" : l));
}

async function load() {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  const title = qs("#s-title").value.trim();
  const label = qs("#s-label").value.trim();
  if (title) params.set("title", title);
  if (label) params.set("labels", label);
  const rows = await api(`/v1/snapshots?${params}`);
  fill(qs("#list tbody"), rows.map((s) => el("tr", {},
    el("td", {}, el("a", { href: `/ui/snapshots/${s.id}` }, s.title)), el("td", {}, labels(s)),
    el("td", {}, time(s.createdDate)), el("td", {}, s.createdBy), el("td", {}, s.source || ""),
    el("td", { class: "num" }, count(s.pvCount)),
    el("td", { class: "num" }, s.missingCount === undefined || s.missingCount === null ? "—" : count(s.missingCount)))),
  "No snapshot matches.", 7);
  qs("#page-info").textContent = rows.length ? `${offset + 1}–${offset + rows.length}` : "";
  qs("#prev").disabled = offset === 0;
  qs("#next").disabled = rows.length < PAGE;
}

async function loadTags() {
  const select = qs("#t-tags");
  if (!select) return;
  const groups = await api("/v1/tags");
  for (const group of groups) {
    const [detail] = await api(`/v1/tags/${group.id}`);
    const optgroup = el("optgroup", { label: group.name });
    for (const tag of detail.tags || []) optgroup.append(el("option", { value: tag.id }, tag.name));
    select.append(optgroup);
  }
}

async function take(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const tags = [...qs("#t-tags").selectedOptions].map((o) => o.value);
  const body = { title: data.get("title"), description: data.get("description") || null };
  if (tags.length) body.tags = tags;
  const cache = data.get("source") === "cache";
  const queued = await api(`/v1/snapshots?async=true&use_cache=${cache}`, { method: "POST", body });
  const bar = progressBar("snapshot progress");
  const status = el("span", {}, " queued");
  qs("#take-progress").replaceChildren(el("p", {}, bar, status));
  const job = await followJob(queued.jobId, (j) => {
    bar.value = j.progress;
    status.textContent = ` ${j.progress} % — ${j.message || j.status}`;
  });
  if (job.status === "completed" && job.resultId) {
    const warn = (job.warnings || []).length ? ` (${job.warnings.join("; ")})` : "";
    qs("#take-progress").append(el("p", {}, "Done: ", el("a", { href: `/ui/snapshots/${job.resultId}`, id: "take-result" }, `open “${body.title}”`), warn));
    offset = 0;
    await load();
  } else {
    showError(new Error(`The snapshot did not finish: ${job.error || job.status}`));
  }
}

qs("#search").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; guarded(load); });
qs("#prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); guarded(load); });
qs("#next").addEventListener("click", () => { offset += PAGE; guarded(load); });
qs("#take-form")?.addEventListener("submit", (e) => guarded(() => take(e)));
guarded(load);
guarded(loadTags);
