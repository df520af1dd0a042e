// Shared helpers of the console: page data, translated strings, safe DOM building,
// the JSON API with the page's CSRF token, and times in WIB.

export const page = JSON.parse(document.getElementById("console-page").textContent);
const strings = JSON.parse(document.getElementById("console-strings").textContent);

/** A translated string; `{name}` placeholders are filled from `vars`. */
export function t(key, vars) {
  let text = strings[key] ?? key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (match, name) =>
      vars[name] === undefined || vars[name] === null ? match : String(vars[name]));
  }
  return text;
}

/**
 * Build an element. Children that are not nodes become text nodes, so data from callers
 * is always inserted as text, never parsed as HTML.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// --- the API --------------------------------------------------------------------------------

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
let skewMs = 0; // server clock minus this browser's clock
const sessionListeners = [];

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || t("error.generic"));
    this.status = status;
    this.code = error.code;
    this.fields = error.fields || {};
  }
}

export function onSessionEnded(fn) {
  sessionListeners.push(fn);
}

/** Call `/api/v1` + `path` with the session cookie and CSRF token; JSON in and out. */
export async function api(method, path, body, headers = {}) {
  const init = {
    method,
    credentials: "same-origin",
    // The API answers in the page's language (its messages show next to the fields).
    headers: {
      Accept: "application/json",
      "Accept-Language": page.locale,
      "X-CSRFToken": csrfToken,
      ...headers,
    },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api/v1" + path, init);
  } catch {
    throw new ApiError(0, { code: "network", message: t("error.network") });
  }
  noteServerTime(response);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401) sessionListeners.forEach((fn) => fn());
    throw new ApiError(response.status, (data && data.error) || { code: "error" });
  }
  return data;
}

function noteServerTime(response) {
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) {
    // The header has whole seconds: add half a second, and smooth over responses.
    const sample = date + 500 - Date.now();
    skewMs = Math.abs(sample - skewMs) > 5000 ? sample : skewMs * 0.8 + sample * 0.2;
  }
}

/** Now, by the server's clock (ages and countdowns must not depend on this PC's clock). */
export function now() {
  return Date.now() + skewMs;
}

/** A random key for `Idempotency-Key` (works on plain http too, unlike randomUUID). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let sectors = null;

/** The Polsek sectors with their stations (fetched once per page). */
export function getSectors() {
  sectors = sectors || api("GET", "/sectors").catch((err) => {
    sectors = null;
    throw err;
  });
  return sectors;
}

// --- times and numbers ----------------------------------------------------------------------

const TZ = "Asia/Jakarta";
const locale = page.locale === "en" ? "en-GB" : "id-ID";
const timeFmt = new Intl.DateTimeFormat(locale, {
  timeZone: TZ, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const dayFmt = new Intl.DateTimeFormat(locale, { timeZone: TZ, day: "numeric", month: "short" });
const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" });

/** A moment as read in WIB: the time, with the day when it is not today. */
export function wib(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  const sameDay = dayKey.format(moment) === dayKey.format(new Date(now()));
  return (sameDay ? "" : dayFmt.format(moment) + " ") + timeFmt.format(moment) + " WIB";
}

export function clockText() {
  return timeFmt.format(new Date(now())) + " WIB";
}

/** Seconds as m:ss or h:mm:ss (negative with a minus sign). */
export function duration(seconds) {
  const sign = seconds < 0 ? "-" : "";
  let s = Math.floor(Math.abs(seconds));
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  const mm = hours ? String(minutes).padStart(2, "0") : String(minutes);
  return sign + (hours ? hours + ":" : "") + mm + ":" + String(s).padStart(2, "0");
}

export function secondsSince(iso) {
  return (now() - Date.parse(iso)) / 1000;
}

export function distanceText(metres) {
  if (metres === null || metres === undefined) return "–";
  return metres < 1000 ? Math.round(metres) + " m" : (metres / 1000).toFixed(1) + " km";
}

export function etaText(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return t("eta.min", { n: Math.max(1, Math.round(seconds / 60)) });
}

export function formatPoint(lat, lon) {
  return lat.toFixed(5) + ", " + lon.toFixed(5);
}

/**
 * Read "lat, lon" as people paste it: "-8.1306, 112.5722", "-8.1306 112.5722", or a map
 * link that holds the pair. Returns [lat, lon], or null when there is no pair of numbers.
 */
export function parsePoint(text) {
  const numbers = (text || "").match(/-?\d+(?:[.,]\d+)?/g);
  if (!numbers || numbers.length < 2) return null;
  let pick = numbers.length === 2 ? numbers : null;
  for (let i = 0; !pick && i < numbers.length - 1; i++) {
    // In a link, the first pair of decimal numbers is the point ("@-8.13,112.57,15z").
    if (/[.,]/.test(numbers[i]) && /[.,]/.test(numbers[i + 1])) pick = numbers.slice(i, i + 2);
  }
  if (!pick) return null;
  const [lat, lon] = pick.map((n) => Number(n.replace(",", ".")));
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
  return [lat, lon];
}

// --- the catalogs -----------------------------------------------------------------------------

export const categories = new Map(page.categories.map((c) => [c.code, c]));

export function categoryLabel(code) {
  const category = categories.get(code);
  return category ? category.label_local : code;
}

export function statusLabel(status) {
  return t("status." + status);
}

export function unitStatusLabel(status) {
  return t("unit." + status);
}

export function reasonLabel(reason) {
  if (!reason) return "";
  const key = "reason." + reason;
  const text = t(key);
  return text === key ? reason : text;
}

export const OPEN_STATUSES = ["new", "queued", "dispatched", "acknowledged", "en_route", "on_scene"];
