import { api, count, csvLine, downloadText, el, fill, fmt, guarded, qs } from "./common.js";

let result = null;
let byDelta = false;
const params = new URLSearchParams(window.location.search);

const WHY = { setpoint: "setpoint differs", readback: "readback differs", missing: "only on one side", disconnected: "✖ not connected" };

// Older servers leave side, address and delta out: derive them from what every server sends.
function normal(d) {
  const numbers = typeof d.value1 === "number" && typeof d.value2 === "number";
  const side = d.side || (["setpoint", "readback"].includes(d.reason) ? d.reason : "");
  return { ...d, side, delta: d.delta ?? (numbers ? d.value2 - d.value1 : null) };
}

function rows() {
  let diffs = result.differences.map(normal);
  const side = qs("#side").value;
  if (side) diffs = diffs.filter((d) => d.side === side || d.reason === "missing" || d.reason === "disconnected");
  if (qs("#hide-equal").checked) diffs = diffs.filter((d) => fmt(d.value1, 6) !== fmt(d.value2, 6) || d.reason === "disconnected");
  if (byDelta) diffs.sort((x, y) => Math.abs(y.delta ?? -1) - Math.abs(x.delta ?? -1));
  return diffs;
}

function render() {
  if (!result) return;
  const shown = rows();
  fill(qs("#diffs tbody"), shown.map((d) => el("tr", { "data-pv": d.pvName },
    el("th", { scope: "row" }, d.pvName), el("td", {}, d.side || ""), el("td", {}, d.address || ""),
    el("td", { class: "num" }, fmt(d.value1)), el("td", { class: "num" }, fmt(d.value2)),
    el("td", { class: "num" }, d.delta === null || d.delta === undefined ? "—" : fmt(d.delta)),
    el("td", {}, `≠ ${WHY[d.reason] || d.reason || "differs"}`))), "No differences: everything matches.", 7);
  qs("#summary").textContent = `${count(result.differenceCount)} differences, ${count(result.matchCount)} matches; ${count(shown.length)} shown.`;
}

async function compare() {
  const a = qs("#a").value;
  const b = qs("#b").value;
  const query = new URLSearchParams();
  if (qs("#abs").value !== "") query.set("absTolerance", qs("#abs").value);
  if (qs("#rel").value !== "") query.set("relTolerance", qs("#rel").value);
  const path = b === "live" ? `/v1/snapshots/${a}/compare/live` : `/v1/snapshots/${a}/compare/${b}`;
  result = await api(`${path}?${query}`);
  history.replaceState(null, "", `?a=${a}&b=${b}`);
  render();
}

async function init() {
  const snapshots = await api("/v1/snapshots?limit=200");
  const option = (s) => el("option", { value: s.id }, `${s.title} — ${new Date(s.createdDate).toLocaleString()}`);
  qs("#a").replaceChildren(...snapshots.map(option));
  qs("#b").append(...snapshots.map(option));
  if (params.get("a")) qs("#a").value = params.get("a");
  if (params.get("b")) qs("#b").value = params.get("b");
  if (params.get("a")) await compare();
}

qs("#pick").addEventListener("submit", (e) => { e.preventDefault(); guarded(compare); });
qs("#hide-equal").addEventListener("change", render);
qs("#side").addEventListener("change", render);
qs("#sort-delta").addEventListener("click", (e) => {
  byDelta = !byDelta;
  e.target.setAttribute("aria-pressed", String(byDelta));
  render();
});
qs("#download").addEventListener("click", () => {
  if (!result) return;
  const lines = [csvLine(["pvName", "side", "address", "value1", "value2", "delta", "reason"])];
  for (const d of rows()) lines.push(csvLine([d.pvName, d.side, d.address, JSON.stringify(d.value1), JSON.stringify(d.value2), d.delta, d.reason]));
  downloadText("compare.csv", `${lines.join("\n")}\n`);
});
guarded(init);
