// The lines at the top of a ticket's detail about an officer in danger (who, since when,
// the alarm and acknowledging it) and a unit's backup request (red until the added slots
// are filled or a dispatcher here marks it seen).

import { h } from "../common/dom.js";
import { wib } from "../common/format.js";
import { acknowledgeAlarm } from "./alarm.js";
import { backupWaiting, lastRequest, markSeen } from "./backup.js";
import { redraw } from "./store.js";
import { page, t } from "./util.js";

/** The emergency line, or null; `message(text, kind)` and `refresh()` are the detail's. */
export function emergencyLine(ticket, { message, refresh }) {
  const e = ticket.emergency;
  if (!e) return null;
  const callsign = e.unit ? e.unit.callsign : "?";
  const acknowledge = async (button) => {
    button.disabled = true;
    try {
      await acknowledgeAlarm(ticket.id); // the store shows it here too
      message(t("alarm.acknowledged"), "ok");
      await refresh();
    } catch (err) {
      message(err.message, "bad");
      button.disabled = false;
    }
  };
  return h("div", { class: "flag-line emergency-line " + (e.alarm_active ? "bad" : "warn"),
    "data-testid": "detail-emergency" },
  h("b", {}, t("detail.emergency", { callsign })), " · ", t("alarm.raised"), " ", wib(e.raised_at),
  e.acknowledged_at
    ? " · " + t("detail.alarm_acked", {
      who: e.acknowledged_by ? e.acknowledged_by.name : "", at: wib(e.acknowledged_at),
    })
    : null,
  e.ended_at ? " · " + t("detail.emergency_ended", { at: wib(e.ended_at), reason: e.end_reason || "" }) : null,
  e.alarm_active && page.canAct
    ? h("button", { type: "button", class: "small danger", "data-testid": "detail-alarm-ack",
      onclick: (ev) => acknowledge(ev.currentTarget) }, t("alarm.acknowledge"))
    : null);
}

/** The backup line while the ticket still lacks the units it asked for, or null. */
export function backupLine(ticket) {
  const f = ticket.flags || {};
  if (!f.backup_requested || !f.short) return null;
  const waiting = backupWaiting(ticket);
  const request = lastRequest(ticket.id);
  return h("div", { class: "flag-line " + (waiting ? "bad" : "warn"), "data-testid": "detail-backup" },
    request
      ? t("backup.asked_by", { callsign: request.callsign, n: request.added ?? request.count ?? 1 })
      : t("backup.asked"),
    request && request.reason ? ": " + request.reason : "",
    " · ", wib(ticket.backup_requested_at),
    waiting
      ? h("button", { type: "button", class: "small", "data-testid": "backup-seen",
        onclick: () => {
          markSeen(ticket);
          redraw(ticket.id);
        } }, t("backup.seen"))
      : null);
}
