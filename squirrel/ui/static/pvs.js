import { api, can, count, el, fill, guarded, qs } from "./common.js";

const PAGE = 100;
let offset = 0;
let checkedFile = null;

function editForm(pv) {
  qs("#edit-panel").open = true;
  qs("#edit-summary").textContent = pv ? `Edit ${pv.setpointAddress || pv.readbackAddress}` : "Add a PV";
  qs("#e-id").value = pv?.id || "";
  qs("#e-sp").value = pv?.setpointAddress || "";
  qs("#e-rb").value = pv?.readbackAddress || "";
  qs("#e-dev").value = pv?.device || "";
  qs("#e-desc").value = pv?.description || "";
  qs("#e-abs").value = pv?.absTolerance ?? 0;
  qs("#e-rel").value = pv?.relTolerance ?? 0;
  qs("#e-ro").checked = Boolean(pv?.readOnly);
  qs("#e-sp").focus();
}

function row(pv) {
  const actions = can.write ? el("td", {},
    el("button", { type: "button", onclick: () => editForm(pv) }, "Edit"), " ",
    el("button", { type: "button", onclick: () => guarded(() => remove(pv)) }, "Delete")) : null;
  return el("tr", {}, el("th", { scope: "row" }, pv.setpointAddress || "—"), el("td", {}, pv.readbackAddress || "—"),
    el("td", {}, pv.device || ""), el("td", {}, pv.description || ""), el("td", { class: "num" }, `±${pv.absTolerance} / ${pv.relTolerance * 100} %`),
    el("td", {}, (pv.tags || []).map((t) => `${t.groupName}=${t.name}`).join(", ")), actions);
}

async function load() {
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (qs("#q").value.trim()) query.set("q", qs("#q").value.trim());
  for (const o of qs("#tags").selectedOptions) query.append("tags", o.value);
  const page = await api(`/v1/pvs/search?${query}`);
  fill(qs("#pvs tbody"), page.results.map(row), "No PV matches.", can.write ? 7 : 6);
  qs("#total").textContent = `${count(page.totalCount)} PVs match.`;
  qs("#page-info").textContent = page.totalCount ? `${offset + 1}–${offset + page.results.length}` : "";
  qs("#prev").disabled = offset === 0;
  qs("#next").disabled = offset + PAGE >= page.totalCount;
}

async function remove(pv) {
  if (!window.confirm(`Remove ${pv.setpointAddress || pv.readbackAddress} from the registry? Snapshots keep its values.`)) return;
  await api(`/v1/pvs/${pv.id}`, { method: "DELETE" });
  await load();
}

async function save(event) {
  event.preventDefault();
  const body = {
    setpointAddress: qs("#e-sp").value.trim() || null, readbackAddress: qs("#e-rb").value.trim() || null,
    device: qs("#e-dev").value.trim() || null, description: qs("#e-desc").value || null,
    absTolerance: Number(qs("#e-abs").value || 0), relTolerance: Number(qs("#e-rel").value || 0), readOnly: qs("#e-ro").checked,
  };
  const pvId = qs("#e-id").value;
  await api(pvId ? `/v1/pvs/${pvId}` : "/v1/pvs", { method: pvId ? "PUT" : "POST", body });
  editForm(null);
  await load();
}

async function check(event) {
  event.preventDefault();
  const file = qs("#csv").files[0];
  const text = await file.text();
  const result = await api("/v1/pvs/import?validateOnly=true", { method: "POST", body: text, headers: { "Content-Type": "text/csv" } });
  const table = qs("#import-errors");
  table.hidden = result.valid;
  fill(table.querySelector("tbody"), result.errors.map((e) => el("tr", {}, el("td", { class: "num" }, String(e.line)), el("td", {}, e.detail))), "", 2);
  qs("#import-result").textContent = result.valid
    ? `✔ ${count(result.rowCount)} rows are fine: nothing written yet. Press Import to write them.`
    : `✖ ${count(result.errorCount)} problems in ${count(result.rowCount)} rows: nothing was written.`;
  checkedFile = result.valid ? text : null;
  qs("#do-import").disabled = !result.valid;
}

async function doImport() {
  if (!checkedFile) return;
  const result = await api("/v1/pvs/import", { method: "POST", body: checkedFile, headers: { "Content-Type": "text/csv" } });
  qs("#import-result").textContent = `✔ Imported ${count(result.createdCount)} PVs (${result.groupsCreated} tag groups, ${result.tagsCreated} tags created).`;
  checkedFile = null;
  qs("#do-import").disabled = true;
  await load();
  await tags();
}

async function tags() {
  const chosen = new Set([...qs("#tags").selectedOptions].map((o) => o.value));
  qs("#tags").replaceChildren();
  for (const group of await api("/v1/tags")) {
    const [detail] = await api(`/v1/tags/${group.id}`);
    qs("#tags").append(el("optgroup", { label: group.name }, (detail.tags || []).map((t) => el("option", { value: t.id, selected: chosen.has(t.id) }, t.name))));
  }
}

qs("#search").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; guarded(load); });
qs("#prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); guarded(load); });
qs("#next").addEventListener("click", () => { offset += PAGE; guarded(load); });
qs("#edit")?.addEventListener("submit", (e) => guarded(() => save(e)));
qs("#e-new")?.addEventListener("click", () => editForm(null));
qs("#import")?.addEventListener("submit", (e) => guarded(() => check(e)));
qs("#csv")?.addEventListener("change", () => { checkedFile = null; qs("#do-import").disabled = true; });
qs("#do-import")?.addEventListener("click", () => guarded(doImport));
guarded(load);
guarded(tags);
