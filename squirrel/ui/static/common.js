// Shared by every console page: /v1 calls (CSRF header, envelope unwrapping, problem details),
// times in the browser's zone (UTC on hover), numbers at the PV's precision, small DOM helpers.

const envelope = document.body.dataset.envelope === "true";
export const can = {
  write: document.body.dataset.canWrite === "true",
  restore: document.body.dataset.canRestore === "true",
  admin: document.body.dataset.canAdmin === "true",
};

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

function csrfToken() {
  const item = document.cookie.split("; ").find((c) => c.startsWith("squirrel_csrf="));
  return item ? decodeURIComponent(item.slice("squirrel_csrf=".length)) : "";
}

function signedOut() {
  window.location.assign("/ui/signin");
}

// Calls /v1 as any client would; answers the payload, throws ApiError carrying the problem's detail.
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const h = { Accept: "application/json", ...headers };
  if (!["GET", "HEAD"].includes(method)) h["X-Squirrel-CSRF"] = csrfToken();
  let payload = body;
  if (body !== undefined && typeof body !== "string" && !(body instanceof FormData) && !(body instanceof Blob)) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers: h, body: payload, credentials: "same-origin" });
  const type = response.headers.get("content-type") || "";
  let data = type.includes("json") ? await response.json() : await response.text();
  let status = response.status;
  if (envelope && data && typeof data === "object" && "errorCode" in data && "payload" in data) {
    if (data.errorCode !== 0) {
      status = data.errorCode;
      data = { detail: data.errorMessage, ...(data.payload || {}) };
    } else {
      data = data.payload;
    }
  }
  if (status === 401) {
    signedOut();
    throw new ApiError(401, "your session ended: sign in again", data);
  }
  if (status >= 400) {
    const detail = (data && typeof data === "object" && data.detail) || (typeof data === "string" && data) || response.statusText;
    throw new ApiError(status, detail, data);
  }
  return data;
}

export function showError(err, where = document.getElementById("error")) {
  if (!where) return;
  if (err === null) {
    where.hidden = true;
    where.textContent = "";
    return;
  }
  where.hidden = false;
  where.textContent = err instanceof ApiError ? `${err.detail} (${err.status})` : String(err.message || err);
}

// Runs an async action, showing any error in the page's alert box.
export async function guarded(action, where) {
  try {
    showError(null, where);
    return await action();
  } catch (err) {
    showError(err, where);
    return undefined;
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function qs(selector, root = document) {
  return root.querySelector(selector);
}

// An ISO string or epoch seconds → <time> in the browser's zone, UTC in its title.
export function time(value) {
  if (value === null || value === undefined || value === "") return el("span", { class: "muted" }, "—");
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return el("span", {}, String(value));
  const local = date.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
  return el("time", { datetime: date.toISOString(), title: `${date.toISOString().replace("T", " ").slice(0, 23)} UTC` }, local);
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}

// A value as text: numbers at the PV's precision, arrays shortened, nothing as "—".
export function fmt(value, precision) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) {
    const shown = value.slice(0, 5).map((v) => fmt(v, precision)).join(", ");
    return `[${shown}${value.length > 5 ? `, … ${value.length} items` : ""}]`;
  }
  if (typeof value === "number" && Number.isInteger(precision) && precision >= 0 && precision <= 17) {
    return value.toFixed(precision);
  }
  return String(value);
}

export function count(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString();
}

// Server-sent events on a same-origin URL (the cookie signs them in); handlers by event name.
export function stream(url, handlers) {
  const source = new EventSource(url);
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => handler(JSON.parse(event.data)));
  }
  return source;
}

// Follows a job over /v1/jobs/{id}/events until it is done; onUpdate gets every JobDTO.
export function followJob(jobId, onUpdate) {
  return new Promise((resolve) => {
    const source = stream(`/v1/jobs/${jobId}/events`, {
      progress: (job) => onUpdate(job),
      done: (job) => {
        source.close();
        onUpdate(job);
        resolve(job);
      },
    });
    source.onerror = async () => {
      // The stream ended or failed: the job's own record still tells the outcome.
      source.close();
      try {
        const job = await api(`/v1/jobs/${jobId}`);
        onUpdate(job);
        resolve(job);
      } catch (err) {
        showError(err);
      }
    };
  });
}

export function progressBar(label) {
  return el("progress", { max: "100", value: "0", "aria-label": label });
}

export function downloadText(name, text, type = "text/csv") {
  const link = el("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(link);
  link.click();
  link.remove();
}

export function csvLine(cells) {
  return cells.map((c) => {
    const text = c === null || c === undefined ? "" : String(c);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  }).join(",");
}

export function fill(tbody, rows, empty, columns) {
  tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: String(columns) , class: "muted" }, empty))]));
}
