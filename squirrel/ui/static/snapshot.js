import { age, api, can, count, el, fill, fmt, guarded, qs, stream, time } from "./common.js";
import { liveDifference, toleranceText } from "./tolerance.js";

const id = document.body.dataset.snapshotId;
const PAGE = 100;
let offset = 0;
let matched = 0;
let source = null;
let summary = null;
const cells = new Map(); // address -> {live cell, saved side, age cell, tolerance: {abs, rel, readback}}

function savedCell(side) {
  if (!side) return el("td", { class: "muted" }, "—");
  if (!side.connected && (side.value === null || side.value === undefined)) return el("td", { class: "missing" }, "✖ not saved");
  return el("td", { class: "num", title: side.units || "" }, fmt(side.value, side.precision), side.units ? ` ${side.units}` : "");
}

function paintLive(address, entry) {
  const slot = cells.get(address);
  if (!slot) return;
  const { cell, saved, ageCell, tolerance } = slot;
  // The server's rule with the row's tolerances: marked here exactly when `differentFromLive` selects it.
  const difference = liveDifference(saved, entry, tolerance);
  cell.dataset.difference = difference || "";
  if (difference === "disconnected" || !entry.connected) {
    cell.replaceChildren("✖ disconnected");
    cell.className = "bad";
    return;
  }
  const precision = saved?.precision ?? entry.precision;
  const differs = difference === "outside";
  const unsaved = saved?.value === null || saved?.value === undefined;
  const why = unsaved ? "no value was saved" : `outside tolerance ${toleranceText(saved, tolerance.abs, tolerance.rel)} of the saved value`;
  cell.className = differs ? "num differs" : "num";
  cell.replaceChildren(fmt(entry.value, precision), entry.units ? ` ${entry.units}` : "",
    differs ? el("span", { class: "flag", title: why }, " ≠ differs") : "");
  cell.dataset.value = String(entry.value);
  if (ageCell && entry.timestamp) ageCell.textContent = age(Date.now() / 1000 - entry.timestamp);
}

function row(v) {
  const liveSp = el("td", { class: "num muted", "data-address": v.setpointName || "" }, "…");
  const liveRb = el("td", { class: "num muted", "data-address": v.readbackName || "" }, v.readbackName ? "…" : "—");
  const ageCell = el("td", { class: "num" }, "—");
  const abs = v.absTolerance ?? 0;
  const rel = v.relTolerance ?? 0;
  if (v.setpointName) cells.set(v.setpointName, { cell: liveSp, saved: v.setpointValue, ageCell, tolerance: { abs, rel } });
  if (v.readbackName) {
    cells.set(v.readbackName, { cell: liveRb, saved: v.readbackValue, ageCell: v.setpointName ? null : ageCell,
      tolerance: { abs, rel, readback: true } });
  }
  const alarm = v.severity > 0 ? `⚠ ${v.status} (severity ${v.severity})` : v.status;
  return el("tr", { "data-pv": v.pvName },
    el("th", { scope: "row" }, v.pvName, (v.tags || []).length ? el("span", { class: "muted" }, ` ${v.tags.map((t) => t.name).join(", ")}`) : ""),
    savedCell(v.setpointValue), liveSp, savedCell(v.readbackValue), liveRb, el("td", {}, alarm), ageCell);
}

function filterParams() {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  const q = qs("#f-q").value.trim();
  if (q) params.set("q", q);
  for (const o of qs("#f-devices").selectedOptions) params.append("devices", o.value);
  for (const o of qs("#f-tags").selectedOptions) params.append("tags", o.value);
  if (qs("#f-missing").checked) params.set("onlyMissing", "true");
  if (qs("#f-live").checked) params.set("differentFromLive", "true");
  return params;
}

function header(s) {
  summary = s;
  qs("#title").textContent = s.title;
  document.title = `${s.title} · Squirrel`;
  const golden = (s.labels || []).includes("golden");
  const missing = s.missingCount === undefined || s.missingCount === null ? "—" : count(s.missingCount);
  qs("#meta").replaceChildren(golden ? el("strong", { class: "golden" }, "★ golden · ") : "", "Taken ", time(s.createdDate),
    ` by ${s.createdBy} from ${s.source} · ${count(s.pvCount)} PVs · missing ${missing}`,
    (s.labels || []).length ? ` · labels: ${s.labels.join(", ")}` : "");
  const labels = qs("#labels");
  if (labels && document.activeElement !== labels) labels.value = (s.labels || []).join(", ");
  const button = qs("#golden");
  if (button) button.textContent = golden ? "Remove golden" : "Mark golden";
}

async function load() {
  const body = await api(`/v1/snapshots/${id}?${filterParams()}`);
  header(body);
  matched = body.matchedCount ?? body.pvCount;
  cells.clear();
  fill(qs("#values tbody"), body.pvValues.map(row), "No PV matches these filters.", 7);
  qs("#matched").textContent = `${count(matched)} of ${count(body.pvCount)} PVs match.`;
  qs("#page-info").textContent = matched ? `${offset + 1}–${offset + body.pvValues.length} of ${count(matched)}` : "";
  qs("#prev").disabled = offset === 0;
  qs("#next").disabled = offset + PAGE >= matched;
  source?.close();
  if (cells.size) {
    source = stream(`/v1/live/events?pvs=${encodeURIComponent([...cells.keys()].join(","))}`, {
      initial: (msg) => Object.entries(msg.data).forEach(([a, e]) => paintLive(a, e)),
      diff: (msg) => Object.entries(msg.data).forEach(([a, e]) => paintLive(a, e)),
    });
  }
}

async function options() {
  const devices = await api("/v1/pvs/devices");
  qs("#f-devices").replaceChildren(...devices.map((d) => el("option", { value: d }, d)));
  const groups = await api("/v1/tags");
  for (const group of groups) {
    const [detail] = await api(`/v1/tags/${group.id}`);
    qs("#f-tags").append(el("optgroup", { label: group.name }, (detail.tags || []).map((t) => el("option", { value: t.id }, t.name))));
  }
}

async function saveLabels(labels) {
  const updated = await api(`/v1/snapshots/${id}`, { method: "PUT", body: { labels } });
  header({ ...summary, ...updated });
}

qs("#filters").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; guarded(load); });
qs("#prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); guarded(load); });
qs("#next").addEventListener("click", () => { offset += PAGE; guarded(load); });
qs("#labels-form")?.addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(() => saveLabels(qs("#labels").value.split(",").map((l) => l.trim()).filter(Boolean)));
});
qs("#golden")?.addEventListener("click", () => guarded(() => {
  const current = summary.labels || [];
  return saveLabels(current.includes("golden") ? current.filter((l) => l !== "golden") : [...current, "golden"]);
}));
if (!can.write) qs("#labels-form")?.remove();
guarded(load);
guarded(options);
