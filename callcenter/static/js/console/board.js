// The live board: open tickets grouped by status, the units, the counters, the escalation
// list and the activity feed. Rows are kept per id, so a row that has focus keeps it while
// the board changes around it; ages and countdowns tick once a second without a re-render.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { duration, wib } from "../common/format.js";
import { backupWaiting, lastRequest } from "./backup.js";
import { crewBadge, crewCallsigns } from "./crew.js";
import { describe, tone } from "./events.js";
import { isAlert, isOverTarget } from "./map.js";
import { tickets, units } from "./store.js";
import {
  OPEN_STATUSES, categoryLabel, formatPoint, page, reasonLabel, statusLabel, t, unitStatusLabel,
} from "./util.js";

// Units on a job first (they belong to tickets on the board), then the free ones.
const UNIT_ORDER = ["dispatched", "en_route", "on_scene", "available", "unavailable", "off_duty"];
const ACTIVITY_MAX = 120;

export function locationText(ticket) {
  const loc = ticket.location;
  if (!loc) return t("board.no_location");
  if (loc.address) return loc.address;
  if (loc.lat !== null && loc.lat !== undefined) return formatPoint(loc.lat, loc.lon);
  return t("board.no_location");
}

/** The offer waiting longest for an answer, or null. */
function soonestOffer(ticket) {
  const offers = (ticket.units || []).filter((m) => m.status === "offered");
  offers.sort((a, b) => Date.parse(a.deadline_at) - Date.parse(b.deadline_at));
  return offers[0] || null;
}

/** The red line of a backup request still waiting: who asked, for how many, and why. */
function backupLine(ticket) {
  const request = lastRequest(ticket.id);
  return h("div", { class: "l3 backup-line", "data-testid": "row-backup" },
    h("b", {}, request
      ? t("backup.asked_by", { callsign: request.callsign, n: request.added ?? request.count ?? 1 })
      : t("backup.asked")),
    request && request.reason ? " · " + request.reason : "",
    " · ", h("span", { "data-since": ticket.backup_requested_at }, duration(secondsSince(ticket.backup_requested_at))));
}

function byUrgency(a, b) {
  return a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at);
}

export class Board {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.root = document.getElementById("board");
    this.unitsBody = document.getElementById("units-body");
    this.showOffDuty = document.getElementById("units-offduty");
    this.activity = document.getElementById("activity");
    this.escList = document.getElementById("esc-list");
    this.escEmpty = document.getElementById("esc-empty");
    this.rows = new Map(); // ticket id -> li
    this.unitRows = new Map();
    this.alerts = new Map(); // ticket id -> alert state drawn
    this.groups = new Map();
    for (const status of OPEN_STATUSES) {
      const list = h("ol", { class: "rows" });
      const count = h("span", { class: "count" }, "0");
      const section = h("section", { class: "group g-" + status, "data-status": status,
        "data-testid": "group-" + status },
      h("h3", {}, h("span", { class: "sdot s-" + status }), statusLabel(status), " ", count),
      list);
      this.groups.set(status, { section, list, count });
      this.root.append(section);
    }
    this.root.addEventListener("click", (e) => {
      const row = e.target.closest("li[data-ticket-id]");
      if (row && !e.target.closest("a")) this.onOpen(Number(row.dataset.ticketId));
    });
    this.root.addEventListener("keydown", (e) => this._keydown(e));
    this.showOffDuty.addEventListener("change", () => this.renderUnits());
    this.unitsBody.addEventListener("click", (e) => {
      const link = e.target.closest("[data-open-ticket]");
      if (link) {
        e.preventDefault();
        this.onOpen(Number(link.dataset.openTicket));
      }
    });
    this.escList?.addEventListener("click", (e) => {
      const item = e.target.closest("[data-ticket-id]");
      if (item) this.onOpen(Number(item.dataset.ticketId));
    });
    this.escList?.addEventListener("keydown", (e) => {
      const item = e.target.closest("[data-ticket-id]");
      if (item && e.key === "Enter") this.onOpen(Number(item.dataset.ticketId));
    });
  }

  _keydown(e) {
    const row = e.target.closest("li[data-ticket-id]");
    if (!row) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.onOpen(Number(row.dataset.ticketId));
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const all = [...this.root.querySelectorAll("li[data-ticket-id]")];
      const next = all[all.indexOf(row) + (e.key === "ArrowDown" ? 1 : -1)];
      next?.focus();
    }
  }

  focusFirst() {
    const first = this.root.querySelector("li[data-ticket-id]");
    (first || this.root).focus();
  }

  // --- tickets ------------------------------------------------------------------------------

  render() {
    const byStatus = new Map(OPEN_STATUSES.map((s) => [s, []]));
    for (const ticket of tickets.values()) byStatus.get(ticket.status)?.push(ticket);
    const seen = new Set();
    for (const [status, list] of byStatus) {
      const group = this.groups.get(status);
      list.sort(byUrgency);
      for (const ticket of list) {
        seen.add(ticket.id);
        const row = this._row(ticket);
        group.list.append(row); // moves an existing row into place
      }
      group.count.textContent = String(list.length);
      group.section.classList.toggle("empty", list.length === 0);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.remove();
        this.rows.delete(id);
        this.alerts.delete(id);
      }
    }
    this.renderEscalations();
    this.renderCounters();
  }

  _row(ticket) {
    let row = this.rows.get(ticket.id);
    if (!row) {
      row = h("li", { tabindex: "0", "data-ticket-id": ticket.id, "data-testid": "ticket-row" });
      this.rows.set(ticket.id, row);
    }
    const alert = isAlert(ticket);
    const flags = ticket.flags || {};
    const backup = backupWaiting(ticket);
    this.alerts.set(ticket.id, alert);
    row.className = `ticket p${ticket.priority} s-${ticket.status}` + (alert ? " alert" : "")
      + (flags.alarm ? " alarm" : "") + (backup ? " backup" : "");
    row.dataset.number = ticket.number;
    row.dataset.status = ticket.status;
    row.dataset.channel = ticket.channel;
    const a = soonestOffer(ticket) || ticket.assignment;
    const offer = a
      ? h("span", { class: "offer" },
        t("board.offered_ago"), " ", h("span", { "data-since": a.offered_at }, duration(secondsSince(a.offered_at))),
        a.status === "offered"
          ? [" · ", t("board.deadline"), " ", h("span", { class: "countdown", "data-until": a.deadline_at },
            duration(-secondsSince(a.deadline_at)))]
          : null)
      : null;
    replaceChildren(row,
      h("div", { class: "l1" },
        h("span", { class: "pbadge p" + ticket.priority, title: t("field.priority") }, "P" + ticket.priority),
        h("b", { class: "num" }, ticket.number),
        h("span", { class: "cat" }, categoryLabel(ticket.category)),
        h("span", { class: "flags" },
          flags.alarm ? h("span", { class: "flag bad blink", "data-testid": "flag-alarm" }, t("flag.alarm")) : null,
          backup ? h("span", { class: "flag bad", "data-testid": "flag-backup" }, t("flag.backup")) : null,
          ticket.channel === "on_view" ? h("span", { class: "flag info" }, t("channel.on_view")) : null,
          flags.escalated ? h("span", { class: "flag bad", title: reasonLabel(flags.escalation_reason) }, t("flag.escalated")) : null,
          h("span", { class: "flag bad over-target", hidden: !isOverTarget(ticket) }, t("flag.over_target")),
          flags.possible_duplicate ? h("span", { class: "flag warn", title: flags.possible_duplicate.number }, t("flag.duplicate")) : null,
          flags.prank_caller ? h("span", { class: "flag warn" }, t("flag.prank_caller")) : null),
        h("span", { class: "age", title: t("board.age"), "data-since": ticket.created_at },
          duration(secondsSince(ticket.created_at)))),
      h("div", { class: "l2" },
        crewBadge(ticket),
        h("span", { class: "units-on" }, crewCallsigns(ticket)),
        h("span", { class: "loc" }, locationText(ticket)),
        ticket.status === "queued" && ticket.status_reason
          ? h("span", { class: "reason" }, reasonLabel(ticket.status_reason)) : null,
        offer),
      backup ? backupLine(ticket) : null,
      ticket.summary ? h("div", { class: "l3 summary", "data-testid": "row-summary" }, ticket.summary) : null);
    return row;
  }

  renderEscalations() {
    if (!this.escList) return;
    const list = [...tickets.values()].filter((tk) => tk.flags && tk.flags.escalated)
      .sort((a, b) => Date.parse(a.flags.escalated_at) - Date.parse(b.flags.escalated_at));
    replaceChildren(this.escList, list.map((tk) =>
      h("li", { "data-ticket-id": tk.id, tabindex: "0", class: "p" + tk.priority },
        h("span", { class: "pbadge p" + tk.priority }, "P" + tk.priority), " ",
        h("b", {}, tk.number), " ", categoryLabel(tk.category), " · ", statusLabel(tk.status),
        " · ", reasonLabel(tk.flags.escalation_reason), " · ",
        h("span", { "data-since": tk.flags.escalated_at }, duration(secondsSince(tk.flags.escalated_at))))));
    this.escEmpty.hidden = list.length > 0;
  }

  renderCounters() {
    let queued = 0;
    let escalated = 0;
    for (const tk of tickets.values()) {
      if (tk.status === "queued") queued += 1;
      if (tk.flags && tk.flags.escalated) escalated += 1;
    }
    let available = 0;
    for (const unit of units.values()) if (unit.status === "available") available += 1;
    const set = (name, value) => {
      for (const el of document.querySelectorAll(`[data-count="${name}"]`)) el.textContent = String(value);
    };
    set("open", tickets.size);
    set("queued", queued);
    set("escalated", escalated);
    set("available", available);
    document.querySelector('[data-testid="count-escalated"]')?.classList.toggle("alert", escalated > 0);
  }

  // --- units --------------------------------------------------------------------------------

  renderUnits() {
    const showOff = this.showOffDuty.checked;
    const list = [...units.values()]
      .filter((u) => showOff || u.status !== "off_duty" || u.emergency)
      .sort((a, b) => UNIT_ORDER.indexOf(a.status) - UNIT_ORDER.indexOf(b.status)
        || a.callsign.localeCompare(b.callsign));
    const seen = new Set();
    for (const unit of list) {
      seen.add(unit.id);
      let row = this.unitRows.get(unit.id);
      if (!row) {
        row = h("tr", { "data-unit-id": unit.id, "data-testid": "unit-row" });
        this.unitRows.set(unit.id, row);
      }
      row.className = "u-" + unit.status + (unit.emergency ? " in-danger" : "");
      row.dataset.callsign = unit.callsign;
      const job = unit.ticket;
      replaceChildren(row,
        h("td", {}, h("b", {}, unit.callsign), h("span", { class: "muted kind" }, " " + t("kind." + unit.kind))),
        h("td", {}, h("span", { class: "upill u-" + unit.status }, unitStatusLabel(unit.status)),
          unit.emergency ? h("span", { class: "flag bad", "data-testid": "unit-danger" }, t("flag.alarm")) : null),
        h("td", { class: "muted" }, unit.sector ? unit.sector.name : "–"),
        h("td", {}, job
          ? h("a", { href: "#ticket-" + job.id, "data-open-ticket": job.id, title: job.number },
            job.number.slice(-5), " P" + job.priority)
          : "–"),
        h("td", { class: "pos" }, unit.position_at
          ? h("span", { "data-position-at": unit.position_at }, duration(secondsSince(unit.position_at)))
          : h("span", { class: "stale" }, t("unit.no_position"))));
      this.unitsBody.append(row);
    }
    for (const [id, row] of this.unitRows) {
      if (!seen.has(id)) {
        row.remove();
        this.unitRows.delete(id);
      }
    }
    this.tickUnits();
    this.renderCounters();
  }

  // --- the once-a-second tick ---------------------------------------------------------------

  /** Update ages and countdowns; returns true when a ticket crossed into "alert". */
  tick() {
    for (const el of document.querySelectorAll("[data-since]")) {
      el.textContent = duration(secondsSince(el.dataset.since));
    }
    for (const el of document.querySelectorAll("[data-until]")) {
      const left = -secondsSince(el.dataset.until);
      el.textContent = left > 0 ? duration(left) : t("board.deadline_passed");
      el.classList.toggle("late", left <= 10);
    }
    this.tickUnits();
    let changed = false;
    for (const [id, drawn] of this.alerts) {
      const ticket = tickets.get(id);
      if (ticket && isAlert(ticket) !== drawn) changed = true;
    }
    return changed;
  }

  tickUnits() {
    const maxAge = page.settings.positionMaxAgeS;
    for (const el of this.unitsBody.querySelectorAll("[data-position-at]")) {
      const age = secondsSince(el.dataset.positionAt);
      const stale = age > maxAge;
      el.textContent = stale ? t("unit.stale_for", { age: duration(age) }) : duration(age);
      el.classList.toggle("stale", stale);
    }
  }

  // --- activity -----------------------------------------------------------------------------

  addActivity(event, { older = false } = {}) {
    if (this.activity.querySelector(`[data-event-id="${event.id}"]`)) return;
    const item = h("li", { "data-event-id": event.id, class: "tone-" + tone(event) },
      h("time", { datetime: event.at }, wib(event.at)), " ",
      event.ticket_id
        ? h("a", { href: "#ticket-" + event.ticket_id }, describe(event))
        : describe(event));
    if (older) this.activity.append(item);
    else this.activity.prepend(item);
    while (this.activity.children.length > ACTIVITY_MAX) this.activity.lastElementChild.remove();
  }
}
