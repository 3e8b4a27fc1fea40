import { api, can, el, fill, guarded, qs, time } from "./common.js";

function shown(key, v) {
  if (v === true) return "✔ yes";
  if (v === false) return "✖ no";
  if (v === null || v === undefined) return "—";
  if (typeof v === "number" && (key === "timestamp" || key.endsWith("_at") || key === "last_change")) return time(v);
  if (typeof v === "number" && !Number.isInteger(v)) return String(Number(v.toPrecision(4)));
  return String(v);
}

function terms(dl, object) {
  dl.replaceChildren(...Object.entries(object).filter(([, v]) => typeof v !== "object" || v === null)
    .map(([k, v]) => el("div", {}, el("dt", {}, k.replaceAll("_", " ")), el("dd", {}, shown(k, v)))));
}

async function force(name, action) {
  await api(`/v1/health/circuits/${encodeURIComponent(name)}/${action}`, { method: "POST" });
  await load();
}

async function load() {
  const [summary, monitor, circuits, disconnected] = await Promise.all([
    api("/v1/health/summary"), api("/v1/health/monitor"), api("/v1/health/circuits"), api("/v1/health/disconnected"),
  ]);
  terms(qs("#summary"), summary);
  terms(qs("#monitor"), monitor);
  const list = circuits.circuits.slice().sort((a, b) => (a.state === "open" ? 0 : 1) - (b.state === "open" ? 0 : 1));
  fill(qs("#circuits tbody"), list.map((c) => el("tr", { class: c.state === "open" ? "bad" : "" },
    el("th", { scope: "row" }, c.name), el("td", {}, c.state === "open" ? "✖ open" : `✔ ${c.state}`),
    el("td", {}, Object.entries(c).filter(([k, v]) => !["name", "state", "last_change"].includes(k) && v !== null).map(([k, v]) => `${k.replaceAll("_", " ")}: ${v}`).join(", ")),
    can.admin ? el("td", {}, el("button", { type: "button", onclick: () => guarded(() => force(c.name, c.state === "open" ? "close" : "open")) },
      c.state === "open" ? "Close" : "Open")) : null)), "No IOC circuit yet.", can.admin ? 4 : 3);
  const names = disconnected.disconnected_pvs || [];
  qs("#disconnected").replaceChildren(...(names.length ? names.slice(0, 500).map((n) => el("li", {}, typeof n === "string" ? n : n.name || JSON.stringify(n)))
    : [el("li", { class: "muted" }, "None.")]));
}

guarded(load);
window.setInterval(() => guarded(load), 5000);
