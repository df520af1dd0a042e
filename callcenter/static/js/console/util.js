// What the console's modules share: the page's data and translated strings, its API client,
// and the catalogs. Times, distances, the DOM helpers and the stream are in ../common/.

import { createApi } from "../common/api.js";
import { minutes } from "../common/format.js";

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

export const { api, onSessionEnded, signedIn } = createApi({
  messages: { network: t("error.network"), generic: t("error.generic") },
});

let sectors = null;

/** The Polsek sectors with their stations (fetched once per page). */
export function getSectors() {
  sectors = sectors || api("GET", "/sectors").catch((err) => {
    sectors = null;
    throw err;
  });
  return sectors;
}

// --- numbers and points ---------------------------------------------------------------------

export function etaText(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return t("eta.min", { n: minutes(seconds) });
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
  return category ? category.label_local : page.categoryLabels[code] || code;
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

export const OPEN_STATUSES = [
  "new", "queued", "handed_off", "dispatched", "acknowledged", "en_route", "on_scene",
];
