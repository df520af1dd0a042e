// Call intake: keyboard first. The caller's number brings up their history at once; a
// category is found by typing; priority keys 1-4; the location is typed, pasted or set
// on the map. Ctrl+Enter logs the call; Alt+I/D/N/S close a prank, silent, information
// or wrong-number call in one keystroke. The API's field errors show next to each field,
// and the form keeps what was typed. "Buat tiket" in the WhatsApp pane fills it from the
// conversation (fromThread): logging it then makes the ticket from, and links, the thread.

import { randomKey } from "../common/api.js";
import { now as serverNow } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { wib } from "../common/format.js";
import { DuplicateWarning } from "./duplicate.js";
import { applyTicket } from "./store.js";
import {
  api, categories, categoryLabel, formatPoint, getSectors, page, parsePoint, statusLabel, t,
} from "./util.js";

const DISPOSITION_KEYS = {
  KeyI: "prank", KeyD: "silent_call", KeyN: "information", KeyS: "wrong_number", KeyT: "dropped",
};

function normalise(text) {
  return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim();
}

export class Intake {
  constructor({ map, onThreadLinked }) {
    this.map = map;
    this.onThreadLinked = onThreadLinked; // (thread) after a ticket was made from a conversation
    this.thread = null; // the WhatsApp conversation the form was filled from
    this.fromWa = document.getElementById("intake-from-wa");
    this.form = document.getElementById("intake");
    this.fields = document.getElementById("intake-fields");
    this.phone = document.getElementById("in-phone");
    this.channel = document.getElementById("in-channel");
    this.name = document.getElementById("in-name");
    this.category = document.getElementById("in-category");
    this.list = document.getElementById("category-list");
    this.chosenLine = document.getElementById("category-chosen");
    this.priority = document.getElementById("in-priority");
    this.units = document.getElementById("in-units");
    this.unitsTouched = false; // the dispatcher chose the number: a category no longer sets it
    this.summary = document.getElementById("in-summary");
    this.address = document.getElementById("in-address");
    this.coords = document.getElementById("in-coords");
    this.history = document.getElementById("caller-history");
    this.error = document.getElementById("intake-error");
    this.result = document.getElementById("intake-result");
    this.locked = document.getElementById("intake-locked");
    this.readonlyToggle = document.getElementById("intake-readonly");
    this.chosen = null; // the picked category code
    this.matches = [];
    this.active = 0;
    this.historySeq = 0;
    this.historyTimer = null;
    this.pending = null; // {key, text} of the request in flight, or whose answer never came
    this.busy = false;
    this.landmarks = [];
    this.duplicate = new DuplicateWarning({ onAttach: (ticket) => this.attachTo(ticket) });
    this.callbackFor = null; // a genuine call-back being logged: the new ticket is linked to it
    this.callbackBanner = h("p", { class: "notice callback-banner", hidden: true,
      "data-testid": "intake-callback" });
    this.error.before(this.callbackBanner);
    this.answeredAt = null; // when the dispatcher started on this call (server clock)

    this.index = page.categories.map((c) => ({
      category: c,
      label: normalise(c.label_local),
      haystack: normalise([c.label.id, c.label.en, c.code, c.apco_code, ...c.keywords].join(" ")),
    }));
    this._wire();
    this._applyReadOnly();
    this._loadLandmarks();
  }

  get enabled() {
    return page.canAct && !(this.readonlyToggle && this.readonlyToggle.checked);
  }

  _wire() {
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.form.addEventListener("keydown", (e) => this._keydown(e));
    // The call is answered when the dispatcher starts typing it: the report's answer time.
    this.form.addEventListener("input", () => this._answered());
    document.getElementById("intake-clear").addEventListener("click", () => this.reset(true));
    for (const button of this.form.querySelectorAll("[data-disposition]")) {
      button.addEventListener("click", () => this.logDisposition(button.dataset.disposition));
    }
    this.phone.addEventListener("input", () => this._phoneTyped());
    this.category.addEventListener("input", () => {
      this.chosen = null;
      this._renderChosen();
      this.duplicate.clear();
      this._filter(this.category.value);
    });
    this.category.addEventListener("focus", () => {
      if (!this.chosen && this.category.value) this._filter(this.category.value);
    });
    this.category.addEventListener("blur", () => setTimeout(() => this._closeList(), 150));
    this.list.addEventListener("mousedown", (e) => e.preventDefault());
    this.list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-code]");
      if (li) this.pick(li.dataset.code);
    });
    this.priority.addEventListener("keydown", (e) => {
      if (/^[1-4]$/.test(e.key) && !e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        this.setPriority(Number(e.key), true);
      }
    });
    this.units.addEventListener("input", () => {
      this.unitsTouched = true;
      this._clearFieldError("units_needed");
    });
    this.units.addEventListener("focus", () => this.units.select()); // a digit typed replaces it
    this.coords.addEventListener("input", () => this._coordsTyped());
    this.address.addEventListener("change", () => this._landmarkChosen());
    if (this.readonlyToggle) {
      this.readonlyToggle.checked = localStorage.getItem("cc110.intakeReadOnly") === "1";
      this.readonlyToggle.addEventListener("change", () => {
        localStorage.setItem("cc110.intakeReadOnly", this.readonlyToggle.checked ? "1" : "0");
        this._applyReadOnly();
      });
    }
  }

  _applyReadOnly() {
    const on = this.enabled;
    this.fields.disabled = !on;
    for (const button of this.form.querySelectorAll(".intake-actions button, .dispositions button")) {
      button.disabled = !on;
    }
    this.locked.hidden = on;
    this.form.classList.toggle("read-only", !on);
    if (!on) this.map.setPick("intake", null);
  }

  _keydown(e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.submit();
      return;
    }
    if (e.target === this.category) {
      this._categoryKey(e);
      return;
    }
    // Enter in a one-line field does not send the form (a half-typed call): Ctrl+Enter does.
    if (e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault();
  }

  focus() {
    if (this.enabled) this.phone.focus();
  }

  // --- category search ---------------------------------------------------------------------

  _filter(text) {
    const query = normalise(text);
    if (!query) {
      this.matches = this.index.map((entry) => entry.category);
    } else {
      const words = query.split(/\s+/);
      this.matches = this.index
        .filter((entry) => words.every((w) => entry.haystack.includes(w)))
        .map((entry) => {
          let rank = 3;
          if (entry.label === query || entry.category.keywords.some((k) => normalise(k) === query)) {
            rank = -1;
          } else if (entry.label.startsWith(query)) rank = 0;
          else if (entry.label.split(/[\s(/,]+/).some((w) => w.startsWith(words[0]))) rank = 1;
          else if (entry.category.keywords.some((k) => normalise(k).startsWith(words[0]))) rank = 2;
          return { rank, category: entry.category };
        })
        .sort((a, b) => a.rank - b.rank || a.category.label_local.length - b.category.label_local.length)
        .map((m) => m.category);
    }
    this.active = 0;
    this._renderList();
  }

  _renderList() {
    const items = this.matches.map((c, i) =>
      h("li", {
        role: "option",
        id: "cat-opt-" + c.code,
        "aria-selected": i === this.active ? "true" : "false",
        class: (i === this.active ? "active " : "") + (c.dispatch ? "" : "no-dispatch"),
        dataset: { code: c.code },
      },
      h("span", { class: "pbadge p" + c.default_priority }, "P" + c.default_priority),
      " ", c.label_local,
      c.dispatch ? null : h("span", { class: "tag" }, t("intake.no_dispatch")),
      c.keywords.length ? h("span", { class: "kw" }, c.keywords.join(", ")) : null));
    if (!items.length) items.push(h("li", { class: "none" }, t("intake.no_category")));
    replaceChildren(this.list, items);
    this.list.hidden = false;
    this.category.setAttribute("aria-expanded", "true");
    const active = this.matches[this.active];
    if (active) {
      this.category.setAttribute("aria-activedescendant", "cat-opt-" + active.code);
      this.list.querySelector("li.active")?.scrollIntoView({ block: "nearest" });
    }
  }

  _closeList() {
    this.list.hidden = true;
    this.category.setAttribute("aria-expanded", "false");
    this.category.removeAttribute("aria-activedescendant");
  }

  _categoryKey(e) {
    const open = !this.list.hidden;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!open) this._filter(this.chosen ? "" : this.category.value);
      else if (this.matches.length) {
        const step = e.key === "ArrowDown" ? 1 : -1;
        this.active = (this.active + step + this.matches.length) % this.matches.length;
        this._renderList();
      }
    } else if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      if (open && this.matches[this.active]) this.pick(this.matches[this.active].code);
    } else if (e.key === "Escape" && open) {
      e.preventDefault();
      e.stopPropagation();
      this._closeList();
    }
  }

  /** Choose a category: its default priority and units follow, then the priority keys have focus. */
  pick(code) {
    const category = categories.get(code);
    if (!category) return;
    this.chosen = code;
    this.category.value = category.label_local;
    this._closeList();
    this._renderChosen();
    this.setPriority(category.default_priority, false);
    if (!this.unitsTouched && category.dispatch) this.units.value = String(category.default_units || 1);
    this._clearFieldError("category");
    this._whereChanged();
    this.priority.querySelector("input:checked")?.focus();
  }

  /** The category or the point changed: is there an open ticket about the same incident? */
  _whereChanged() {
    this.duplicate.check(this.chosen, parsePoint(this.coords.value));
  }

  _renderChosen() {
    const c = this.chosen ? categories.get(this.chosen) : null;
    if (!c) {
      replaceChildren(this.chosenLine);
      return;
    }
    replaceChildren(this.chosenLine,
      h("span", { class: "tag" }, "APCO " + c.apco_code),
      " ", t("intake.default_priority", { n: c.default_priority }),
      c.dispatch ? [" · ", t("intake.default_units", { n: c.default_units || 1 })] : null,
      c.dispatch ? null : h("span", { class: "tag warn" }, t("intake.no_dispatch")),
      c.handoff ? h("span", { class: "tag" }, t("intake.handoff", { agency: c.handoff })) : null);
  }

  setPriority(n, focus) {
    const radio = this.priority.querySelector(`input[value="${n}"]`);
    if (!radio || !this.enabled) return;
    radio.checked = true;
    if (focus) radio.focus();
  }

  // --- caller history -------------------------------------------------------------------

  _phoneTyped() {
    clearTimeout(this.historyTimer);
    const digits = this.phone.value.replace(/\D/g, "");
    if (digits.length < 8) {
      this.historySeq += 1;
      this.history.hidden = true;
      return;
    }
    this.historyTimer = setTimeout(() => this._loadHistory(this.phone.value), 250);
  }

  async _loadHistory(raw) {
    const mine = ++this.historySeq;
    let history;
    try {
      // In the body: a caller's number never appears in a URL (nor in an access log).
      history = await api("POST", "/callers/history", { phone: raw });
    } catch {
      if (mine === this.historySeq) this.history.hidden = true;
      return;
    }
    if (mine !== this.historySeq) return; // a newer number was typed meanwhile
    this._renderHistory(history);
  }

  _renderHistory(history) {
    const box = this.history;
    box.classList.toggle("prank", Boolean(history.prank_caller));
    const parts = [];
    if (history.prank_caller) {
      parts.push(h("p", { class: "prank-flag", "data-testid": "prank-flag" },
        t("history.prank_flag", { n: history.pranks, days: history.days })));
    }
    parts.push(h("p", { class: "history-line", "data-testid": "history-summary" },
      h("b", {}, history.phone_display || history.phone), " · ",
      history.calls
        ? t("history.calls", { n: history.calls, days: history.days, pranks: history.pranks })
        : t("history.first", { days: history.days })));
    if (history.recent.length) {
      parts.push(h("ol", { class: "history-list" }, history.recent.slice(0, 5).map((r) =>
        h("li", { class: r.category === "prank" ? "was-prank" : "" },
          h("a", { href: "#ticket-" + r.id }, r.number), " ",
          wib(r.created_at), " · ", r.category_label || categoryLabel(r.category), " · ",
          statusLabel(r.status),
          r.summary ? h("span", { class: "muted" }, " — " + r.summary) : null))));
    }
    replaceChildren(box, parts);
    box.hidden = false;
  }

  // --- location -------------------------------------------------------------------------

  /** A point from the map (click or drag): fills the coordinates field. */
  setPoint(point) {
    if (!this.enabled) return;
    this.coords.value = formatPoint(point[0], point[1]);
    this._clearFieldError("location");
    this.map.setPick("intake", point, (p) => this.setPoint(p));
    this._whereChanged();
  }

  _coordsTyped() {
    const point = parsePoint(this.coords.value);
    // A pin far outside Indonesia would only pull the map away (the API refuses it anyway).
    const near = point && point[0] >= -12 && point[0] <= 7 && point[1] >= 94 && point[1] <= 142;
    this.map.setPick("intake", near ? point : null, (p) => this.setPoint(p));
    this._whereChanged();
  }

  async _loadLandmarks() {
    try {
      this.landmarks = await getSectors();
    } catch {
      return;
    }
    const list = document.getElementById("landmarks");
    replaceChildren(list, this.landmarks.map((s) => h("option", { value: s.name })));
  }

  /** A Polsek named as the landmark puts the point there, if none is set yet. */
  _landmarkChosen() {
    const found = this.landmarks.find((s) => s.name === this.address.value.trim());
    if (found && found.lat !== null && !this.coords.value.trim()) {
      this.setPoint([found.lat, found.lon]);
    }
  }

  // --- sending --------------------------------------------------------------------------

  _answered() {
    if (this.answeredAt === null) this.answeredAt = new Date(serverNow()).toISOString();
  }

  _body(categoryCode, { dispatch }) {
    this._answered(); // a one-key disposition answers and logs at once
    const body = {
      channel: this.channel.value,
      category: categoryCode,
      caller: {},
      answered_at: this.answeredAt,
    };
    const phone = this.phone.value.trim();
    const name = this.name.value.trim();
    if (phone) body.caller.phone = phone;
    if (name) body.caller.name = name;
    const summary = this.summary.value.trim();
    if (summary) body.summary = summary;
    const checked = this.priority.querySelector("input:checked");
    if (checked && dispatch) body.priority = Number(checked.value);
    const units = this.units.value.trim();
    // Empty: the category's default. Anything else goes as typed; the API says what is wrong.
    if (units && dispatch) body.units_needed = /^\d+$/.test(units) ? Number(units) : units;
    const address = this.address.value.trim();
    const coordsText = this.coords.value.trim();
    const point = parsePoint(coordsText);
    if (dispatch && coordsText && !point) {
      return { clientErrors: { location: t("intake.coords_unreadable") } };
    }
    // An address without a point is sent as it is: the API says the point is missing.
    if (point) body.location = { lat: point[0], lon: point[1] };
    else if (address && dispatch) body.location = {};
    if (address && body.location) body.location.address = address;
    return { body };
  }

  /** Log the call in the form (Ctrl+Enter or the button). */
  async submit() {
    if (!this.enabled || this.busy) return;
    if (!this.chosen && this.category.value.trim() && !this.list.hidden && this.matches.length === 1) {
      this.pick(this.matches[0].code); // one match left: that is the one meant
    }
    const category = this.chosen ? categories.get(this.chosen) : null;
    const { body, clientErrors } = this._body(this.chosen || "", {
      dispatch: category ? category.dispatch : true,
    });
    if (clientErrors) {
      this._showErrors(t("intake.not_logged"), clientErrors);
      return;
    }
    if (this.callbackFor) body.callback_id = this.callbackFor.id;
    await this._send(body);
  }

  /** Log a call-back that turned out genuine: the form gets its number, and the ticket
   * logged from it is linked to the call-back task. */
  startCallback(task) {
    if (!this.enabled) return;
    this.reset(true);
    this.callbackFor = task;
    this.phone.value = task.phone_display || task.phone || "";
    this._phoneTyped();
    replaceChildren(this.callbackBanner,
      t("callback.logging", { number: task.ticket ? task.ticket.number : "", phone: this.phone.value }), " ",
      h("button", { type: "button", class: "small", onclick: () => this._endCallback() }, t("callback.cancel")));
    this.callbackBanner.hidden = false;
    this.category.focus();
  }

  _endCallback() {
    this.callbackFor = null;
    this.callbackBanner.hidden = true;
  }

  /** Close the call at once as a prank, silent, information or wrong-number call. */
  async logDisposition(code) {
    if (!this.enabled || this.busy) return;
    await this._send(this._body(code, { dispatch: false }).body);
  }

  /** Attach the call in the form to `ticket` (the duplicate warning's button). */
  async attachTo(ticket) {
    if (!this.enabled || this.busy) return;
    const body = { channel: this.channel.value, caller: {}, attach_to: ticket.id };
    const phone = this.phone.value.trim();
    const name = this.name.value.trim();
    const summary = this.summary.value.trim();
    if (phone) body.caller.phone = phone;
    if (name) body.caller.name = name;
    if (summary) body.summary = summary;
    await this._send(body);
  }

  async _send(body) {
    if (this.thread) {
      await this._sendFromThread(body);
      return;
    }
    const text = JSON.stringify(body);
    // The same call sent again after a lost answer reuses its key: never two tickets.
    const key = this.pending && this.pending.text === text ? this.pending.key : randomKey();
    this.pending = { key, text };
    this.busy = true;
    this.form.classList.add("busy");
    this._clearErrors();
    try {
      const ticket = await api("POST", "/tickets", body, { "Idempotency-Key": key });
      this.pending = null;
      applyTicket(ticket);
      this._showResult(ticket);
      this.reset(false);
    } catch (err) {
      // No answer, or a server fault: the call may have been stored, so a retry of the same
      // call keeps its key. A refusal (4xx) stored nothing.
      this.pending = err.status === 0 || err.status >= 500 ? { key, text } : null;
      this._showErrors(err.message, err.fields);
    } finally {
      this.busy = false;
      this.form.classList.remove("busy");
    }
  }

  // --- from a WhatsApp conversation -------------------------------------------------------

  /** Fill the form from a conversation: channel, number, name, the words and the latest pin. */
  fromThread(thread, { text, pin }) {
    if (!this.enabled) return false;
    this.reset(true);
    this.thread = thread;
    this.channel.value = "whatsapp";
    this.channel.disabled = true;
    this.phone.value = thread.phone_display || thread.phone;
    this.phone.readOnly = true;
    this.name.value = thread.name || "";
    this.summary.value = text || "";
    this.threadPin = null;
    if (pin && pin.location) {
      if (pin.location.place) this.address.value = pin.location.place;
      this.setPoint([pin.location.lat, pin.location.lon]);
      this.threadPin = { coords: this.coords.value, address: this.address.value };
    }
    replaceChildren(this.fromWa, t("intake.from_wa", { who: thread.name || thread.phone_display }), " ",
      h("button", { type: "button", class: "small", "data-testid": "intake-from-wa-cancel",
        onclick: () => this.reset(false) }, t("intake.from_wa_cancel")));
    this.fromWa.hidden = false;
    this._loadHistory(thread.phone);
    this.category.focus();
    return true;
  }

  async _sendFromThread(body) {
    const thread = this.thread;
    const pin = this.threadPin;
    if (body.location && pin && this.coords.value === pin.coords && this.address.value === pin.address) {
      // The pin as shared: the server takes its exact point and place from the conversation.
      delete body.location;
    }
    this.busy = true;
    this.form.classList.add("busy");
    this._clearErrors();
    try {
      if (body.category === "prank") {
        // Iseng: the conversation closes, logged as a prank call.
        const closed = await api("POST", `/wa/threads/${thread.id}/close`, { prank: true });
        this.onThreadLinked?.(closed);
        this.reset(false);
        replaceChildren(this.result, h("div", { class: "result closed" },
          h("p", { class: "result-line" }, t("wa.closed_as_prank"))));
        return;
      }
      const answer = await api("POST", `/wa/threads/${thread.id}/ticket`, body);
      applyTicket(answer.ticket);
      this.onThreadLinked?.(answer.thread);
      this._showResult(answer.ticket);
      this.reset(false);
    } catch (err) {
      this._showErrors(err.message, err.fields);
    } finally {
      this.busy = false;
      this.form.classList.remove("busy");
    }
  }

  _showResult(ticket) {
    const category = categories.get(ticket.category);
    const dispatch = category ? category.dispatch : true;
    const parts = [
      h("p", { class: "result-line" },
        ticket.call !== undefined
          ? t("intake.attached", { number: ticket.number })
          : dispatch
          ? t("intake.logged", { number: ticket.number })
          : t("intake.closed_as", { number: ticket.number, category: categoryLabel(ticket.category) }),
        " ", h("a", { href: "#ticket-" + ticket.id, "data-testid": "result-link" }, t("intake.open"))),
    ];
    const flags = ticket.flags || {};
    if (flags.possible_duplicate && ticket.call === undefined) {
      parts.push(h("p", { class: "warn-box", "data-testid": "duplicate-warning" },
        t("intake.duplicate"), " ",
        h("a", { href: "#ticket-" + flags.possible_duplicate.id, "data-testid": "duplicate-link" },
          flags.possible_duplicate.number)));
    }
    if (flags.prank_caller) {
      parts.push(h("p", { class: "warn-box" },
        t("history.prank_flag", { n: flags.caller_pranks_30d, days: 30 })));
    }
    replaceChildren(this.result, h("div", {
      class: "result " + (dispatch ? "ok" : "closed"), "data-ticket-id": ticket.id,
    }, parts));
  }

  _showErrors(message, fields) {
    this._clearErrors();
    const placed = new Map(); // field element -> its messages
    const unplaced = [];
    for (const [name, text] of Object.entries(fields || {})) {
      const field = this.form.querySelector(`.field[data-field~="${CSS.escape(name)}"]`);
      if (!field) unplaced.push(text);
      else placed.set(field, [...new Set([...(placed.get(field) || []), text])]);
    }
    for (const [field, messages] of placed) {
      const out = field.querySelector(".field-error");
      out.textContent = messages.join(" ");
      out.hidden = false;
      field.classList.add("has-error");
      field.querySelector("input, select, textarea")?.classList.add("invalid");
    }
    this.error.textContent = [message, ...unplaced].join(" ");
    this.error.hidden = false;
    const first = this.form.querySelector(
      ".field.has-error input, .field.has-error textarea, .field.has-error select");
    first?.focus();
  }

  _clearFieldError(name) {
    const field = this.form.querySelector(`.field[data-field~="${CSS.escape(name)}"]`);
    if (!field) return;
    field.classList.remove("has-error");
    const out = field.querySelector(".field-error");
    out.hidden = true;
    out.textContent = "";
    field.querySelector(".invalid")?.classList.remove("invalid");
  }

  _clearErrors() {
    this.error.hidden = true;
    this.error.textContent = "";
    for (const field of this.form.querySelectorAll(".field.has-error")) {
      field.classList.remove("has-error");
      const out = field.querySelector(".field-error");
      out.hidden = true;
      out.textContent = "";
    }
    for (const el of this.form.querySelectorAll(".invalid")) el.classList.remove("invalid");
  }

  /** Empty the form for the next call (`clearResult` also hides the last result). */
  reset(clearResult) {
    for (const el of [this.phone, this.name, this.category, this.summary, this.address, this.coords]) {
      el.value = "";
    }
    this.channel.value = page.channels[0];
    this.chosen = null;
    this._renderChosen();
    this._closeList();
    this.setPriority(3, false);
    this.units.value = "1";
    this.unitsTouched = false;
    this.history.hidden = true;
    this.historySeq += 1;
    this.pending = null;
    this._endCallback();
    this.thread = null;
    this.channel.disabled = false;
    this.phone.readOnly = false;
    this.fromWa.hidden = true;
    this.answeredAt = null;
    this._clearErrors();
    this.map.setPick("intake", null);
    this.duplicate.clear();
    if (clearResult) replaceChildren(this.result);
    this.focus();
  }

  /** Alt+key shortcuts of the dispositions; true when the key was one of them. */
  shortcut(e) {
    const code = DISPOSITION_KEYS[e.code];
    if (code) {
      this.logDisposition(code);
      return true;
    }
    if (/^Digit[1-4]$/.test(e.code)) {
      this.setPriority(Number(e.code.slice(5)), false);
      return true;
    }
    return false;
  }
}
