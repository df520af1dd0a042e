// Audit events as people read them, for the activity feed and a ticket's timeline.

import { distanceText } from "../common/format.js";
import { units } from "./store.js";
import { categoryLabel, etaText, page, reasonLabel, statusLabel, t, unitStatusLabel } from "./util.js";

function callsignOf(event) {
  const data = event.data || {};
  if (data.callsign) return data.callsign;
  const unit = event.unit_id ? units.get(event.unit_id) : null;
  return unit ? unit.callsign : t("ev.a_unit");
}

function resolutionLabel(code) {
  return page.resolutions[code] || categoryLabel(code) || code || "";
}

const FIELD_KEYS = { priority: "field.priority", summary: "field.summary", lat: "field.location",
  lon: "field.location", address: "field.address" };

/** One line about an event; `number` says whether to name the ticket (not in its own timeline). */
export function describe(event, { number = true } = {}) {
  const d = event.data || {};
  const no = number && d.number ? d.number + ": " : "";
  const callsign = callsignOf(event);
  switch (event.type) {
    case "ticket.created":
      return no + t("ev.created", {
        category: categoryLabel(d.category), priority: d.priority, channel: t("channel." + d.channel),
      });
    case "ticket.status_changed":
      return no + statusLabel(d.from) + " → " + statusLabel(d.to)
        + (d.reason ? " (" + reasonLabel(d.reason) + ")" : "")
        + (d.callsign ? " · " + d.callsign : "");
    case "ticket.updated": {
      const names = [...new Set(Object.keys(d.changes || {}).map((k) => t(FIELD_KEYS[k] || k)))];
      return no + t("ev.updated", { fields: names.join(", ") });
    }
    case "ticket.escalated":
      return no + t("ev.escalated", { reason: reasonLabel(d.reason) });
    case "ticket.closed":
      return no + t("ev.closed", { resolution: resolutionLabel(d.resolution) })
        + (d.note ? " · " + d.note : "");
    case "ticket.cancelled":
      return no + t("ev.cancelled", { reason: d.reason || "" });
    case "assignment.offered":
      return no + t("ev.offered", {
        callsign, distance: distanceText(d.distance_m), eta: etaText(d.eta_s),
      }) + (d.manual ? " · " + t("ev.manual") : "");
    case "assignment.accepted":
      return no + t("ev.accepted", { callsign });
    case "assignment.declined":
      return no + t("ev.declined", { callsign, reason: d.reason || "" });
    case "assignment.expired":
      return no + t("ev.expired", { callsign });
    case "assignment.cancelled":
      return no + t("ev.withdrawn", { callsign, reason: reasonLabel(d.reason) });
    case "assignment.completed":
      return no + t("ev.completed", { callsign });
    case "unit.status_changed":
      return callsign + ": " + unitStatusLabel(d.from) + " → " + unitStatusLabel(d.to)
        + (d.reason ? " (" + reasonLabel(d.reason) + ")" : "");
    case "unit.created":
      return t("ev.unit_created", { callsign });
    case "auth.signed_in":
      return t("ev.signed_in", { who: d.username || "" });
    case "auth.signed_out":
      return t("ev.signed_out", { who: d.username || "" });
    case "user.created":
      return t("ev.user_created", { who: d.username || "", role: t("role." + (d.role || "")) });
    case "auth.sign_in_failed":
    case "auth.locked_out":
      return t("ev.sign_in_failed", { who: d.username || "" });
    default:
      return event.type;
  }
}

/** Extra lines for a timeline entry: what an edit changed. */
export function changeLines(event) {
  if (event.type !== "ticket.updated") return [];
  const lines = [];
  const changes = (event.data && event.data.changes) || {};
  for (const [name, [before, after]] of Object.entries(changes)) {
    const label = t(FIELD_KEYS[name] || name);
    if (name === "summary") lines.push(label + ": “" + (after || "") + "”");
    else lines.push(label + ": " + (before ?? "–") + " → " + (after ?? "–"));
  }
  return lines;
}

/** The kind of an event for colouring: ok, warn, bad or plain. */
export function tone(event) {
  if (["ticket.escalated", "assignment.expired", "assignment.declined"].includes(event.type)) {
    return "bad";
  }
  if (["assignment.accepted", "ticket.closed", "assignment.completed"].includes(event.type)) {
    return "ok";
  }
  if (event.type === "ticket.status_changed" && event.data && event.data.to === "queued") {
    return "warn";
  }
  return "plain";
}
