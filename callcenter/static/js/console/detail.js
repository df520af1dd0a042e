// Ticket detail, over the board: the whole timeline (who did what, when, in WIB), the units
// on it by slot (units.js), manual assignment from the nearest units (confirming before a
// unit is pulled off another job), an officer's alarm and a unit's backup request
// (notices.js), edits, cancel and close. Forms are built once per ticket so that a change streaming in never
// wipes what the dispatcher is typing.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { distanceText, duration, wib } from "../common/format.js";
import { noteEvent } from "./backup.js";
import { changeLines, describe, tone } from "./events.js";
import { locationText } from "./board.js";
import { callbackLine } from "./callbacks.js";
import { HandoffPanel } from "./handoffs.js";
import { isOverTarget } from "./map.js";
import { backupLine, emergencyLine } from "./notices.js";
import { fetchTicket } from "./store.js";
import { TalkPanel } from "./talk.js";
import { CrewPanel } from "./units.js";
import {
  OPEN_STATUSES, api, categoryLabel, etaText, formatPoint, page, parsePoint, reasonLabel,
  statusLabel, t, unitStatusLabel,
} from "./util.js";

// The categories a ticket may be moved to: those that send units and are chosen by people.
const EDIT_CATEGORIES = page.categories.filter((c) => c.dispatch && c.intake !== false && !c.handoff_only);

/** Ask the dispatcher to confirm `message`; resolves true for "Confirm". */
export function confirmDialog(message) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-message").textContent = message;
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-yes").focus();
  });
}

function field(name, label, control, hint) {
  return h("div", { class: "field", "data-field": name },
    h("label", {}, label, hint ? h("span", { class: "hint" }, " " + hint) : null),
    control, h("p", { class: "field-error", hidden: true }));
}

export class Detail {
  constructor({ map, onClose }) {
    this.root = document.getElementById("detail");
    this.map = map;
    this.onClose = onClose;
    this.id = null;
    this.ticket = null;
    this.picking = false;
    this.editDirty = false;
    this.suggestTimer = null;
    this.crew = new CrewPanel({
      message: (text, kind) => this._message(text, kind),
      refresh: () => this._refresh(),
    });
    this.talk = new TalkPanel({
      message: (text, kind) => this._message(text, kind),
      refresh: () => this._refresh(),
      confirm: confirmDialog,
      open: (id) => {
        history.replaceState(null, "", "#ticket-" + id);
        return this.open(id);
      },
    });
    this.handoffs = new HandoffPanel({
      message: (text, kind) => this._message(text, kind),
      refresh: () => this._refresh(),
    });
    setInterval(() => this.isOpen && this.handoffs.tick(), 1000);
  }

  get isOpen() {
    return !this.root.hidden && this.id !== null;
  }

  async open(id) {
    if (this.id !== id) {
      this.id = id;
      this.ticket = null;
      this.crew.reset();
      this.talk.reset();
      this.handoffs.reset();
      this._build();
    }
    this.root.hidden = false;
    this.title.focus();
    try {
      const ticket = await fetchTicket(id);
      if (this.id !== id) return;
      if (!ticket) {
        this._message(t("detail.not_found"), "bad");
        return;
      }
      this.update(ticket);
      this.loadSuggestions();
    } catch (err) {
      this._message(err.message, "bad");
    }
  }

  close() {
    if (this.root.hidden) return;
    this.root.hidden = true;
    this.id = null;
    this.ticket = null;
    this._stopPicking();
    this.map.setPick("edit", null);
    this.map.select(null);
    clearInterval(this.suggestTimer);
    this.onClose?.();
  }

  /** A fresher copy of the ticket from the store (a list answer has no timeline: keep ours). */
  storeChanged(id, ticket) {
    if (!this.isOpen || id !== this.id || !ticket) return;
    if (!ticket.timeline && this.ticket) {
      ticket = { ...ticket, timeline: this.ticket.timeline, assignments: this.ticket.assignments,
        calls: this.ticket.calls, notes: this.ticket.notes, handoffs: this.ticket.handoffs,
        callbacks: this.ticket.callbacks };
    }
    this.update(ticket);
  }

  // --- the skeleton, built once per ticket ------------------------------------------------------

  _build() {
    this.title = h("h2", { id: "detail-title", tabindex: "-1" }, "…");
    this.pill = h("span", { class: "spill" });
    this.flags = h("div", { class: "d-flags" });
    this.info = h("dl", { class: "d-info" });
    this.msg = h("p", { class: "d-msg", role: "status", hidden: true, "data-testid": "detail-message" });
    this.suggestBody = h("tbody");
    this.suggestNote = h("p", { class: "muted" });
    this.timeline = h("ol", { class: "timeline", "data-testid": "timeline" });

    const refresh = h("button", { type: "button", class: "small", onclick: () => this.loadSuggestions() },
      t("detail.refresh"));
    this.suggestBox = h("div", { class: "d-suggest" },
      h("div", { class: "suggest-head" }, h("h4", {}, t("detail.nearest")), refresh),
      h("table", { class: "suggest", "data-testid": "suggestions" },
        h("thead", {}, h("tr", {},
          ["unit", "status", "distance", "eta", "position", "job", ""].map((k) =>
            h("th", {}, k ? t("sug." + k) : "")))),
        this.suggestBody));
    this.assignBox = h("section", { class: "d-assign" },
      this.crew.root, this.suggestBox, this.suggestNote);

    this.editForm = this._editForm();
    this.endForms = this._endForms();
    const actions = h("div", { class: "d-actions" }, this.editForm, this.endForms);
    this.actions = actions;

    replaceChildren(this.root,
      h("header", { class: "d-head" },
        this.title, this.pill,
        h("button", { type: "button", class: "close", title: t("detail.close_hint"),
          "data-testid": "detail-close", onclick: () => this.close() }, "✕ ", h("kbd", {}, "Esc"))),
      h("div", { class: "d-body" },
        this.msg, this.flags, this.info, this.assignBox, this.talk.root, this.handoffs.root,
        actions,
        h("section", { class: "d-timeline" }, h("h3", {}, t("detail.timeline")), this.timeline)));
    this.root.onkeydown = (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        const form = e.target.closest("form");
        if (form) {
          e.preventDefault();
          form.requestSubmit();
        }
      }
    };
  }

  _editForm() {
    this.editPriority = h("select", { "data-testid": "edit-priority" },
      [1, 2, 3, 4].map((p) => h("option", { value: p }, "P" + p + " · " + t("priority." + p))));
    this.editCategory = h("select", { "data-testid": "edit-category" },
      EDIT_CATEGORIES.map((c) => h("option", { value: c.code }, c.label_local)));
    this.editSummary = h("textarea", { rows: 3, maxlength: 2000, "data-testid": "edit-summary" });
    this.editAddress = h("input", { "data-testid": "edit-address" });
    this.editCoords = h("input", { "data-testid": "edit-coords", placeholder: "-8.1306, 112.5722" });
    this.pickButton = h("button", { type: "button", class: "small", "aria-pressed": "false",
      onclick: () => (this.picking ? this._stopPicking() : this._startPicking()) }, t("detail.pick"));
    const form = h("form", { class: "d-edit", novalidate: true, "data-testid": "edit-form" },
      h("h3", {}, t("detail.edit")),
      field("priority", t("field.priority"), this.editPriority),
      field("category", t("field.category"), this.editCategory),
      field("summary", t("field.summary"), this.editSummary),
      field("location.address", t("field.address"), this.editAddress),
      field("location location.lat location.lon", t("field.point"), h("div", { class: "inline" },
        this.editCoords, this.pickButton)),
      h("button", { type: "submit", class: "primary" }, t("detail.save"), " ", h("kbd", {}, "Ctrl+Enter")));
    for (const el of [this.editPriority, this.editCategory, this.editSummary, this.editAddress, this.editCoords]) {
      el.addEventListener("input", () => {
        this.editDirty = true;
      });
    }
    this.editCoords.addEventListener("input", () => {
      const point = parsePoint(this.editCoords.value);
      this.map.setPick("edit", point, (p) => this.setPoint(p));
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this._saveEdit(form);
    });
    return form;
  }

  _endForms() {
    this.resolution = h("select", { "data-testid": "close-resolution" },
      h("option", { value: "" }, t("detail.choose")),
      Object.entries(page.resolutions).map(([code, label]) => h("option", { value: code }, label)));
    this.note = h("input", { "data-testid": "close-note" });
    const closeForm = h("form", { class: "d-close", novalidate: true, "data-testid": "close-form" },
      h("h3", {}, t("detail.close_ticket")),
      field("resolution", t("field.resolution"), this.resolution),
      field("note", t("field.note"), this.note),
      h("button", { type: "submit", class: "primary" }, t("detail.close_button")));
    closeForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this._act(closeForm, "/close", { resolution: this.resolution.value || null,
        ...(this.note.value.trim() ? { note: this.note.value.trim() } : {}) }, t("detail.closed"));
    });
    this.reason = h("input", { "data-testid": "cancel-reason" });
    const cancelForm = h("form", { class: "d-cancel", novalidate: true, "data-testid": "cancel-form" },
      h("h3", {}, t("detail.cancel_ticket")),
      field("reason", t("field.cancel_reason"), this.reason),
      h("button", { type: "submit", class: "danger" }, t("detail.cancel_button")));
    cancelForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this._act(cancelForm, "/cancel", { reason: this.reason.value.trim() }, t("detail.cancelled"));
    });
    return h("div", { class: "d-end" }, closeForm, cancelForm);
  }

  // --- showing the ticket -----------------------------------------------------------------------

  update(ticket) {
    const first = this.ticket === null;
    this.ticket = ticket;
    const open = OPEN_STATUSES.includes(ticket.status);
    this.root.dataset.ticketId = ticket.id;
    this.root.dataset.status = ticket.status;
    this.title.textContent = ticket.number;
    this.pill.className = "spill s-" + ticket.status;
    this.pill.textContent = statusLabel(ticket.status);
    this.map.select(ticket);

    const f = ticket.flags || {};
    for (const event of ticket.timeline || []) noteEvent(event);
    replaceChildren(this.flags,
      emergencyLine(ticket, {
        message: (text, kind) => this._message(text, kind), refresh: () => this._refresh(),
      }),
      open ? backupLine(ticket) : null,
      f.escalated ? h("p", { class: "flag-line bad" }, t("flag.escalated"), ": ",
        reasonLabel(f.escalation_reason), " · ", wib(f.escalated_at)) : null,
      open && isOverTarget(ticket) ? h("p", { class: "flag-line bad" }, t("detail.over_target")) : null,
      f.possible_duplicate ? h("p", { class: "flag-line warn" }, t("intake.duplicate"), " ",
        h("a", { href: "#ticket-" + f.possible_duplicate.id }, f.possible_duplicate.number)) : null,
      f.prank_caller ? h("p", { class: "flag-line warn" },
        t("history.prank_flag", { n: f.caller_pranks_30d, days: 30 })) : null);

    const caller = ticket.caller || {};
    const loc = ticket.location;
    const rows = [
      [t("field.priority"), h("span", { class: "pbadge p" + ticket.priority }, "P" + ticket.priority),
        " " + t("priority." + ticket.priority)],
      [t("field.category"), categoryLabel(ticket.category)],
      [t("field.channel"), t("channel." + ticket.channel)],
      [t("field.caller"), [caller.name || "–", " · ", caller.phone_display || caller.phone || "–",
        f.caller_calls_30d ? h("span", { class: "muted" }, " · " + t("history.calls", {
          n: f.caller_calls_30d, days: 30, pranks: f.caller_pranks_30d })) : null]],
      [t("field.summary"), h("span", { class: "summary", "data-testid": "detail-summary" }, ticket.summary || "–")],
      [t("field.location"), [locationText(ticket), loc && loc.lat !== null && loc.address
        ? h("span", { class: "muted" }, " · " + formatPoint(loc.lat, loc.lon)) : null]],
      [t("detail.logged"), [wib(ticket.created_at), " · ", h("span", { "data-since": ticket.created_at },
        duration(secondsSince(ticket.created_at)))]],
    ];
    if (ticket.status === "queued" && ticket.status_reason) {
      rows.push([t("detail.waiting"), reasonLabel(ticket.status_reason)]);
    }
    if (ticket.resolution) rows.push([t("field.resolution"), page.resolutions[ticket.resolution]
      || categoryLabel(ticket.resolution), ticket.resolution_note ? " · " + ticket.resolution_note : ""]);
    if (ticket.cancel_reason) rows.push([t("field.cancel_reason"), ticket.cancel_reason]);
    for (const task of ticket.callbacks || []) rows.push([t("callback.title"), callbackLine(task, ticket.id)]);
    replaceChildren(this.info, rows.map(([label, ...value]) => [h("dt", {}, label), h("dd", {}, value)]));

    this.crew.update(ticket);
    this.talk.update(ticket);
    this.handoffs.update(ticket);
    this._renderTimeline(ticket.timeline || []);

    const canAct = page.canAct && open;
    this.actions.hidden = !canAct;
    this.assignBox.hidden = !open;
    if (first || !this.editDirty) this._fillEdit(ticket);
  }

  _fillEdit(ticket) {
    this.editPriority.value = String(ticket.priority);
    const known = EDIT_CATEGORIES.some((c) => c.code === ticket.category);
    this.editCategory.value = known ? ticket.category : "";
    // An officer's emergency keeps its category; a closed-at-intake one has none to change to.
    this.editCategory.disabled = !known || Boolean(ticket.emergency);
    this.editSummary.value = ticket.summary || "";
    const loc = ticket.location || {};
    this.editAddress.value = loc.address || "";
    this.editCoords.value = loc.lat !== null && loc.lat !== undefined ? formatPoint(loc.lat, loc.lon) : "";
    this.editDirty = false;
  }

  _renderTimeline(events) {
    replaceChildren(this.timeline, events.map((ev) => {
      const actor = ev.actor
        ? `${ev.actor.name} (${t("role." + ev.actor.role)})`
        : t("actor.system");
      return h("li", { class: "tone-" + tone(ev), "data-event-id": ev.id },
        h("time", { datetime: ev.at }, wib(ev.at)),
        h("span", { class: "who" }, actor),
        h("span", { class: "what" }, describe(ev, { number: false })),
        changeLines(ev).map((line) => h("span", { class: "change" }, line)));
    }));
  }

  // --- suggestions and assignment ---------------------------------------------------------------

  async loadSuggestions() {
    const ticket = this.ticket;
    clearInterval(this.suggestTimer);
    // Units can be offered while fewer have accepted than the ticket needs.
    const assignable = ticket && OPEN_STATUSES.includes(ticket.status)
      && Boolean(ticket.flags && ticket.flags.short)
      && ticket.location && ticket.location.lat !== null;
    this.suggestBox.hidden = !assignable;
    if (!assignable) {
      replaceChildren(this.suggestBody);
      this.suggestNote.textContent = ticket && OPEN_STATUSES.includes(ticket.status)
        ? t("detail.has_unit") : "";
      return;
    }
    this.suggestTimer = setInterval(() => this.loadSuggestions(), 15000);
    let list;
    try {
      list = await api("GET", `/tickets/${ticket.id}/suggestions`);
    } catch (err) {
      this.suggestNote.textContent = err.message;
      return;
    }
    if (!this.ticket || this.ticket.id !== ticket.id) return;
    this.suggestNote.textContent = list.length ? "" : t("detail.no_suggestions");
    replaceChildren(this.suggestBody, list.map((s) => {
      const u = s.unit;
      const job = s.current_job;
      const why = !s.assignable
        ? (job ? t("sug.busy_higher") : t("sug.not_available", { status: unitStatusLabel(u.status) }))
        : (s.needs_confirmation ? t("sug.needs_confirm") : "");
      return h("tr", { class: (s.assignable ? "" : "off ") + (s.stale ? "stale" : ""),
        "data-unit-id": u.id, "data-callsign": u.callsign, "data-testid": "suggestion" },
      h("td", {}, h("b", {}, u.callsign), h("span", { class: "muted" }, u.sector || "")),
      h("td", {}, h("span", { class: "upill u-" + u.status }, unitStatusLabel(u.status))),
      h("td", {}, distanceText(s.distance_m)),
      h("td", {}, etaText(s.eta_s)),
      h("td", { class: s.stale ? "stale" : "" }, s.position_age_s === null ? "–"
        : (s.stale ? t("unit.stale_for", { age: duration(s.position_age_s) }) : duration(s.position_age_s))),
      h("td", {}, job ? `${job.number.slice(-5)} P${job.priority}` : "–",
        s.declined_before ? h("span", { class: "tag warn" }, t("sug.declined_before")) : null),
      h("td", {}, h("button", {
        type: "button", class: "small" + (s.needs_confirmation ? " danger" : " primary"),
        disabled: !s.assignable || !page.canAct, title: why || null,
        "data-testid": "assign-" + u.callsign,
        onclick: () => this.assign(u),
      }, t("sug.assign"))));
    }));
  }

  /** Offer the ticket to `unit`; the API asks for confirmation before pulling it off a job. */
  async assign(unit) {
    const id = this.ticket.id;
    try {
      await api("POST", `/tickets/${id}/assign`, { unit_id: unit.id });
    } catch (err) {
      if (err.status === 409 && err.code === "confirmation_required") {
        if (!(await confirmDialog(err.message))) return;
        try {
          await api("POST", `/tickets/${id}/assign`, { unit_id: unit.id, confirm: true });
        } catch (again) {
          this._message(again.message, "bad");
          return;
        }
      } else {
        this._message(err.message, "bad");
        this.loadSuggestions();
        return;
      }
    }
    this._message(t("detail.assigned", { callsign: unit.callsign }), "ok");
    await this._refresh();
  }

  async _refresh() {
    if (this.id === null) return;
    const ticket = await fetchTicket(this.id).catch(() => null);
    if (ticket && this.id === ticket.id) {
      this.update(ticket);
      this.loadSuggestions();
    }
  }

  // --- edit, close, cancel ----------------------------------------------------------------------

  async _saveEdit(form) {
    const ticket = this.ticket;
    const body = {};
    const priority = Number(this.editPriority.value);
    if (priority !== ticket.priority) body.priority = priority;
    if (!this.editCategory.disabled && this.editCategory.value !== ticket.category) {
      body.category = this.editCategory.value;
    }
    const summary = this.editSummary.value.trim();
    if (summary !== (ticket.summary || "")) body.summary = summary;
    const loc = ticket.location || {};
    const coordsText = this.editCoords.value.trim();
    const point = parsePoint(coordsText);
    const address = this.editAddress.value.trim();
    const oldPoint = loc.lat !== null && loc.lat !== undefined ? formatPoint(loc.lat, loc.lon) : "";
    if (coordsText !== oldPoint || address !== (loc.address || "")) {
      if (coordsText && !point) {
        this._fieldErrors(form, t("detail.not_saved"), { location: t("intake.coords_unreadable") });
        return;
      }
      body.location = point ? { lat: point[0], lon: point[1] } : {};
      if (address) body.location.address = address;
    }
    if (!Object.keys(body).length) {
      this._message(t("detail.nothing_changed"), "plain");
      return;
    }
    await this._act(form, "", body, t("detail.saved"), "PATCH");
    this._stopPicking();
  }

  async _act(form, suffix, body, done, method = "POST") {
    this._fieldErrors(form, null, {});
    try {
      const ticket = await api(method, `/tickets/${this.ticket.id}${suffix}`, body);
      this.editDirty = false;
      this._message(done, "ok");
      if (ticket) {
        this.update({ ...ticket, timeline: this.ticket.timeline, calls: this.ticket.calls,
          notes: this.ticket.notes });
      }
      await this._refresh();
    } catch (err) {
      this._fieldErrors(form, err.message, err.fields);
    }
  }

  _fieldErrors(form, message, fields) {
    for (const f of form.querySelectorAll(".field")) {
      f.classList.remove("has-error");
      const out = f.querySelector(".field-error");
      out.hidden = true;
      out.textContent = "";
    }
    const unplaced = [];
    for (const [name, text] of Object.entries(fields || {})) {
      const f = form.querySelector(`.field[data-field~="${CSS.escape(name)}"]`);
      if (!f) {
        unplaced.push(text);
        continue;
      }
      const out = f.querySelector(".field-error");
      if (!out.textContent.includes(text)) out.textContent = (out.textContent + " " + text).trim();
      out.hidden = false;
      f.classList.add("has-error");
    }
    if (message) this._message([message, ...unplaced].join(" "), "bad");
    else this.msg.hidden = true;
  }

  _message(text, kind) {
    this.msg.textContent = text;
    this.msg.className = "d-msg " + kind;
    this.msg.hidden = false;
  }

  // --- picking the point on the map ---------------------------------------------------------------

  _startPicking() {
    this.picking = true;
    this.pickButton.setAttribute("aria-pressed", "true");
    this.pickButton.textContent = t("detail.picking");
    document.getElementById("map").classList.add("picking");
  }

  _stopPicking() {
    this.picking = false;
    if (this.pickButton) {
      this.pickButton.setAttribute("aria-pressed", "false");
      this.pickButton.textContent = t("detail.pick");
    }
    document.getElementById("map").classList.remove("picking");
  }

  setPoint(point) {
    this.editCoords.value = formatPoint(point[0], point[1]);
    this.editDirty = true;
    this.map.setPick("edit", point, (p) => this.setPoint(p));
  }
}
