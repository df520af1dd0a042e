// Audit events as people read them, for the activity feed and a ticket's timeline.

import { distanceText, duration } from "../common/format.js";
import { describeFollowup } from "./followup_events.js";
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
  lon: "field.location", address: "field.address", units_needed: "field.units_needed",
  category: "field.category" };

/** " · slot 2/3" for an offer on a ticket that needs more than one unit. */
function slotText(d) {
  return d.slot && d.units_needed > 1 ? " · " + t("ev.slot", { slot: d.slot, needed: d.units_needed }) : "";
}

/** A WhatsApp event (wa.*): who wrote, what, and what became of our replies. */
function describeWa(event, no) {
  const d = event.data || {};
  const who = d.name || d.phone || "";
  switch (event.type) {
    case "wa.thread_opened":
      return no + t("ev.wa_opened", { who });
    case "wa.message_received": {
      const what = d.kind === "text" ? d.preview || ""
        : d.kind === "location" ? t("wa.pin")
          : d.kind === "unsupported" ? t("wa.unsupported", { type: "?" })
            : t("wa.kind_" + d.kind) + (d.preview ? " · " + d.preview : "");
      return no + t("ev.wa_received", { who, what });
    }
    case "wa.message_queued":
      return no + t(d.auto ? "ev.wa_auto_queued" : "ev.wa_queued");
    case "wa.message_sent":
      return no + t("ev.wa_sent");
    case "wa.message_retrying":
      return no + t("ev.wa_retrying", { error: d.error || "" });
    case "wa.message_failed":
      return no + t("ev.wa_failed", { error: d.message || d.error || "" });
    case "wa.status":
      return no + t("ev.wa_status", { status: t("wa.status_" + d.status) });
    case "wa.media_stored":
      return no + t("ev.wa_media");
    case "wa.media_failed":
      return no + t("ev.wa_media_failed");
    case "wa.thread_claimed":
      return no + t("ev.wa_claimed", { who: d.phone || "", by: d.by || "" });
    case "wa.thread_released":
      return no + t("ev.wa_released", { who: d.phone || "" });
    case "wa.thread_read":
      return no + t("ev.wa_read", { who: d.phone || "" });
    case "wa.thread_linked":
      return t("ev.wa_linked", { who: d.phone || "", number: d.number || "" });
    case "wa.thread_closed":
      return no + t(d.reason === "prank" ? "ev.wa_closed_prank" : "ev.wa_closed", { who: d.phone || "" });
    case "wa.settings_changed":
      return t("ev.wa_settings", { changes: Object.entries(d.changes || {})
        .map(([k, [, on]]) => t("wa.auto_" + k) + ": " + t(on ? "wa.on" : "wa.off")).join(", ") });
    case "wa.thread_flooded":
      return no + t("ev.wa_flooded", { who: d.phone || "" });
    default:
      return event.type;
  }
}

/** One line about an event; `number` says whether to name the ticket (not in its own timeline). */
export function describe(event, { number = true } = {}) {
  const d = event.data || {};
  const no = number && d.number ? d.number + ": " : "";
  if (event.type.startsWith("wa.")) return describeWa(event, no);
  const callsign = callsignOf(event);
  switch (event.type) {
    case "ticket.created":
      return no + t("ev.created", {
        category: categoryLabel(d.category), priority: d.priority, channel: t("channel." + d.channel),
      }) + (d.units_needed > 1 ? " · " + t("crew.count", { done: 0, needed: d.units_needed }) : "")
        + (d.callsign ? " · " + d.callsign : "")
        + (d.split_from ? " · " + t("ev.split_from", { from: d.split_from }) : "");
    case "ticket.status_changed":
      return no + statusLabel(d.from) + " → " + statusLabel(d.to)
        + (d.reason ? " (" + reasonLabel(d.reason) + ")" : "")
        + (d.callsign ? " · " + d.callsign : "");
    case "ticket.updated": {
      const names = [...new Set(Object.keys(d.changes || {}).map((k) => t(FIELD_KEYS[k] || k)))];
      return no + t("ev.updated", { fields: names.join(", ") })
        + (d.source === "position" ? " · " + t("ev.followed", { callsign }) : "")
        + (d.withdrawn && d.withdrawn.length ? " · " + t("ev.withdrawn_many", { callsigns: d.withdrawn.join(", ") }) : "");
    }
    case "ticket.call_attached":
      return no + t(d.moved_from ? "ev.call_moved" : "ev.call_attached", {
        caller: d.caller_name || d.caller_phone || t("calls.unknown_caller"), from: d.moved_from,
      }) + (d.text ? " · “" + d.text + "”" : "");
    case "ticket.call_detached":
    case "ticket.call_split":
      return no + t(event.type === "ticket.call_split" ? "ev.call_split" : "ev.call_detached", {
        caller: d.caller_name || d.caller_phone || t("calls.unknown_caller"), to: d.to,
      });
    case "ticket.note_added":
      return no + t("ev.note", { text: d.text || "" }) + (d.callsign ? " · " + d.callsign : "");
    case "ticket.backup_requested":
      return no + t("ev.backup", { callsign, n: d.added ?? d.count ?? 1, reason: d.reason || "" });
    case "emergency.raised":
      return no + t(d.repeat ? "ev.emergency_again" : "ev.emergency", { callsign });
    case "emergency.acknowledged":
      return no + t("ev.emergency_ack", { callsign, after: duration(d.after_s || 0) });
    case "emergency.ended":
      return no + t("ev.emergency_ended", { callsign, reason: d.reason || reasonLabel(d.ticket_status) });
    case "ticket.escalated":
      return no + t("ev.escalated", { reason: reasonLabel(d.reason) });
    case "ticket.closed":
      return no + t("ev.closed", { resolution: resolutionLabel(d.resolution) })
        + (d.note ? " · " + d.note : "");
    case "ticket.cancelled":
      return no + t("ev.cancelled", { reason: d.reason || "" });
    case "assignment.offered":
      if (d.on_view) return no + t("ev.on_view", { callsign });
      return no + t("ev.offered", {
        callsign, distance: distanceText(d.distance_m), eta: etaText(d.eta_s),
      }) + slotText(d) + (d.manual ? " · " + t("ev.manual") : "");
    case "assignment.released":
      return no + t("ev.released", { callsign, reason: d.reason || "" })
        + " · " + t(d.refill === false ? "ev.released_fewer" : "ev.released_refill");
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
      return describeFollowup(event, no) ?? event.type;
  }
}

/** Extra lines for a timeline entry: what an edit changed. */
export function changeLines(event) {
  if (event.type !== "ticket.updated") return [];
  const lines = [];
  const changes = (event.data && event.data.changes) || {};
  for (const [name, [before, after]] of Object.entries(changes)) {
    const label = t(FIELD_KEYS[name] || name);
    if (name === "summary") lines.push(label + ": “" + (before || "") + "” → “" + (after || "") + "”");
    else if (name === "category") lines.push(label + ": " + categoryLabel(before) + " → " + categoryLabel(after));
    else lines.push(label + ": " + (before ?? "–") + " → " + (after ?? "–"));
  }
  return lines;
}

/** The kind of an event for colouring: ok, warn, bad or plain. */
export function tone(event) {
  if (["ticket.escalated", "assignment.expired", "assignment.declined", "emergency.raised",
    "ticket.backup_requested", "handoff.escalated", "callback.overdue"].includes(event.type)) {
    return "bad";
  }
  if (event.type === "assignment.released" || event.type === "wa.thread_flooded") return "warn";
  if (event.type === "wa.message_failed" || event.type === "wa.media_failed") return "bad";
  if (["assignment.accepted", "ticket.closed", "assignment.completed"].includes(event.type)) {
    return "ok";
  }
  if (event.type === "ticket.status_changed" && event.data && event.data.to === "queued") {
    return "warn";
  }
  return "plain";
}
