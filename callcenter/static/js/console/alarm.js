// The officer in danger: a full-width red banner on every console, one line per alarm (they
// stack), with a repeating tone, the unit's callsign, its position on the map and the age of
// that position, until a dispatcher or supervisor acknowledges it. An acknowledgement on one
// console clears it on all (the event). A console opened while an alarm stands shows it at
// once: the open tickets carry `emergency.alarm_active`.
//
// The tickets in the store decide. The stream's `emergency.raised` shows an alarm before its
// ticket is fetched again, and `emergency.acknowledged` hides it before then, so an answer
// fetched before the acknowledgement cannot bring it back.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { duration, wib } from "../common/format.js";
import { applyTicket, tickets, units } from "./store.js";
import { Tone } from "./tone.js";
import { api, formatPoint, page, t } from "./util.js";

const FOCUS_ZOOM = 15;
const EARLY_MS = 2000; // raised_at is stamped just before its event's time

/** Acknowledge the alarm of ticket `id`; resolves to the ticket, rejects with ApiError. */
export async function acknowledgeAlarm(id) {
  const ticket = await api("POST", `/tickets/${id}/alarm/ack`);
  applyTicket(ticket);
  return ticket;
}

export class Alarms {
  constructor({ map, onOpen }) {
    this.map = map;
    this.onOpen = onOpen;
    this.root = document.getElementById("alarms");
    this.list = h("ol", { class: "alarm-list" });
    this.soundButton = h("button", {
      type: "button", class: "alarm-sound", hidden: true, "data-testid": "alarm-sound",
      onclick: () => this.tone.enable(),
    }, t("alarm.sound_blocked"));
    replaceChildren(this.root, this.list, this.soundButton);
    this.tone = new Tone(() => this._showSound());
    this.early = new Map(); // ticket id -> alarm from `emergency.raised`, before the fetch
    this.acked = new Map(); // emergency id -> when its acknowledgement was seen (ms)
    this.ended = new Set(); // emergency ids the stream said have ended
    this.rows = new Map(); // ticket id -> {li, parts}
    this.focusedRaise = new Map(); // ticket id -> the raise the map was last brought to
    this.active = [];
  }

  /** Every event from the stream (only the emergency ones matter here). */
  onEvent(event) {
    const d = event.data || {};
    if (event.type === "emergency.raised" && event.ticket_id) {
      this.early.set(event.ticket_id, {
        ticketId: event.ticket_id, emergencyId: d.emergency_id, unitId: event.unit_id,
        callsign: d.callsign, raisedAt: Date.parse(event.at),
        point: d.lat === null || d.lat === undefined ? null : { lat: d.lat, lon: d.lon, at: d.located_at },
      });
    } else if (event.type === "emergency.acknowledged") {
      this.acked.set(d.emergency_id, Date.parse(event.at));
      this.early.delete(event.ticket_id);
    } else if (event.type === "emergency.ended") {
      this.ended.add(d.emergency_id);
      this.early.delete(event.ticket_id);
    } else {
      return;
    }
    this.render();
  }

  /** The alarms standing now, oldest first. */
  current() {
    const found = new Map();
    for (const ticket of tickets.values()) {
      const e = ticket.emergency;
      if (!e || !e.alarm_active || e.ended_at || this.ended.has(e.id)) continue;
      const raisedAt = Date.parse(e.raised_at);
      const early = this.early.get(ticket.id);
      if (early && early.emergencyId === e.id && raisedAt >= early.raisedAt - EARLY_MS) {
        this.early.delete(ticket.id); // the store has caught up with the event
      }
      if ((this.acked.get(e.id) ?? -Infinity) >= raisedAt) continue;
      const loc = ticket.location;
      found.set(ticket.id, {
        ticketId: ticket.id, number: ticket.number, emergencyId: e.id, raisedAt,
        unitId: e.unit ? e.unit.id : null, callsign: e.unit ? e.unit.callsign : "?",
        unitName: e.unit ? e.unit.name : "",
        point: loc && loc.lat !== null && loc.lat !== undefined
          ? { lat: loc.lat, lon: loc.lon, at: e.located_at } : null,
      });
    }
    for (const [id, early] of this.early) {
      if (found.has(id) || (this.acked.get(early.emergencyId) ?? -Infinity) >= early.raisedAt) continue;
      const ticket = tickets.get(id);
      found.set(id, { ...early, number: ticket ? ticket.number : "", unitName: "" });
    }
    return [...found.values()].map((alarm) => ({ ...alarm, point: this._newest(alarm) }))
      .sort((a, b) => a.raisedAt - b.raisedAt);
  }

  /** The unit's newest known point: its own last report, or the emergency's. */
  _newest(alarm) {
    const unit = alarm.unitId ? units.get(alarm.unitId) : null;
    const own = unit && unit.location && unit.location.lat !== null && unit.location.lat !== undefined
      ? { lat: unit.location.lat, lon: unit.location.lon, at: unit.position_at } : null;
    const given = alarm.point;
    if (!own) return given;
    if (!given || !given.at) return own;
    return own.at && Date.parse(own.at) > Date.parse(given.at) ? own : given;
  }

  /** Draw the banner, the map's marks and the tone from what stands now. */
  render() {
    this.active = this.current();
    const seen = new Set();
    for (const alarm of this.active) {
      seen.add(alarm.ticketId);
      const row = this._row(alarm);
      this.list.append(row.li); // keeps the order, oldest first
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    this.root.hidden = this.active.length === 0;
    document.body.classList.toggle("has-alarm", this.active.length > 0);
    this.map.setAlarms(this.active);
    for (const alarm of this.active) {
      // Bring the map to each new raise once; after that the dispatcher moves it freely.
      if (alarm.point && this.focusedRaise.get(alarm.ticketId) !== alarm.raisedAt) {
        this.focusedRaise.set(alarm.ticketId, alarm.raisedAt);
        this.map.focus([alarm.point.lat, alarm.point.lon], FOCUS_ZOOM);
      }
    }
    if (this.active.length) this.tone.start();
    else this.tone.stop();
    this._showSound();
  }

  _row(alarm) {
    let row = this.rows.get(alarm.ticketId);
    if (!row) {
      const parts = {
        who: h("b", { class: "alarm-who", "data-testid": "alarm-callsign" }),
        where: h("span", { class: "alarm-where", "data-testid": "alarm-position" }),
        since: h("span", { class: "alarm-since" }),
        error: h("span", { class: "alarm-error", role: "alert", hidden: true }),
        ack: h("button", {
          type: "button", class: "alarm-ack", "data-testid": "alarm-ack", hidden: !page.canAct,
          onclick: () => this._acknowledge(alarm.ticketId, parts),
        }, t("alarm.acknowledge")),
      };
      const li = h("li", { class: "alarm", "data-testid": "alarm", "data-ticket-id": alarm.ticketId },
        h("span", { class: "alarm-title" }, t("alarm.title")), parts.who, parts.where, parts.since,
        h("span", { class: "alarm-actions" },
          h("button", { type: "button", class: "small", "data-testid": "alarm-map",
            onclick: () => this._show(alarm.ticketId) }, t("alarm.show_map")),
          h("button", { type: "button", class: "small", "data-testid": "alarm-open",
            onclick: () => this.onOpen(alarm.ticketId) }, t("alarm.open")),
          parts.ack),
        parts.error);
      row = { li, parts };
      this.rows.set(alarm.ticketId, row);
    }
    const { parts } = row;
    row.li.dataset.callsign = alarm.callsign;
    parts.who.textContent = alarm.callsign + (alarm.unitName ? " · " + alarm.unitName : "");
    const p = alarm.point;
    replaceChildren(parts.where, p
      ? [t("alarm.position"), " ", formatPoint(p.lat, p.lon), p.at
        ? [" · ", h("span", { class: "age", "data-since": p.at }, duration(secondsSince(p.at))), " ", t("alarm.ago")]
        : null]
      : t("alarm.no_position"));
    replaceChildren(parts.since, t("alarm.raised"), " ", wib(new Date(alarm.raisedAt).toISOString()),
      alarm.number ? " · " + alarm.number : "");
    return row;
  }

  _show(ticketId) {
    const alarm = this.active.find((a) => a.ticketId === ticketId);
    if (alarm && alarm.point) this.map.focus([alarm.point.lat, alarm.point.lon], FOCUS_ZOOM);
  }

  async _acknowledge(ticketId, parts) {
    parts.ack.disabled = true;
    parts.error.hidden = true;
    try {
      await acknowledgeAlarm(ticketId);
    } catch (err) {
      parts.error.textContent = err.message;
      parts.error.hidden = false;
    } finally {
      parts.ack.disabled = false;
    }
  }

  _showSound() {
    this.soundButton.hidden = !(this.active.length && this.tone.blocked);
  }
}
