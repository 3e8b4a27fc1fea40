import { api, el, fill, guarded, qs, time } from "./common.js";

async function load() {
  const keys = await api("/v1/api-keys");
  fill(qs("#keys tbody"), keys.map((k) => el("tr", { class: k.isActive ? "" : "muted" },
    el("th", { scope: "row" }, k.appName), el("td", {}, (k.scopes || []).join(", ")), el("td", {}, k.isActive ? "✔ active" : "✖ revoked"),
    el("td", {}, time(k.createdAt)), el("td", {}, time(k.lastUsedAt)),
    el("td", {}, k.isActive ? el("button", { type: "button", onclick: () => guarded(() => revoke(k)) }, "Revoke") : ""))),
  "No key.", 6);
}

async function revoke(key) {
  if (!window.confirm(`Revoke the key “${key.appName}”? Every session and stream using it ends.`)) return;
  await api(`/v1/api-keys/${key.id}`, { method: "DELETE" });
  await load();
}

async function create(event) {
  event.preventDefault();
  const scopes = [...document.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
  const made = await api("/v1/api-keys", { method: "POST", body: { appName: qs("#app").value.trim(), scopes } });
  qs("#token").replaceChildren("New key (shown once, copy it now): ", el("code", { id: "new-token" }, made.token));
  await load();
}

qs("#create").addEventListener("submit", (e) => guarded(() => create(e)));
guarded(load);
