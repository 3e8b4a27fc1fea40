import { api, el, fill, guarded, qs, time } from "./common.js";

const PAGE = 100;
let offset = 0;

async function load() {
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (qs("#actor").value.trim()) query.set("actor", qs("#actor").value.trim());
  if (qs("#action").value.trim()) query.set("action", qs("#action").value.trim());
  const page = await api(`/v1/audit?${query}`);
  const rows = Array.isArray(page) ? page : page.results || page.entries || [];
  fill(qs("#audit tbody"), rows.map((e) => el("tr", {}, el("td", {}, time(e.createdAt || e.at || e.timestamp)), el("td", {}, e.actor),
    el("td", {}, e.action), el("td", {}, [e.resourceType, e.resourceId].filter(Boolean).join(" ")), el("td", {}, e.summary || ""))),
  "Nothing recorded.", 5);
  qs("#prev").disabled = offset === 0;
  qs("#next").disabled = rows.length < PAGE;
}

qs("#filter").addEventListener("submit", (e) => { e.preventDefault(); offset = 0; guarded(load); });
qs("#prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); guarded(load); });
qs("#next").addEventListener("click", () => { offset += PAGE; guarded(load); });
guarded(load);
