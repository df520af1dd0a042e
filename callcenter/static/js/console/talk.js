// A ticket's calls and running notes in the detail panel: each call about the incident (one
// attached by mistake can be split off into a ticket of its own), and the notes of the
// command center and the units, which stream in as they are written.

import { h, replaceChildren } from "../common/dom.js";
import { wib } from "../common/format.js";
import { api, page, t } from "./util.js";

function callerText(call) {
  const c = call.caller || {};
  return [c.name, c.phone_display || c.phone].filter(Boolean).join(" · ") || t("calls.unknown_caller");
}

export class TalkPanel {
  /** `message(text, kind)`, `refresh()`, `confirm(text)` (resolves true), `open(id)`. */
  constructor({ message, refresh, confirm, open }) {
    this.message = message;
    this.refresh = refresh;
    this.confirm = confirm;
    this.open = open;
    this.ticket = null;
    this.calls = h("ol", { class: "d-calls", "data-testid": "calls" });
    this.notes = h("ol", { class: "d-notes", "data-testid": "notes", "aria-live": "polite" });
    this.text = h("textarea", { rows: 2, maxlength: 2000, "data-testid": "note-text",
      "aria-label": t("notes.add") });
    this.error = h("p", { class: "field-error", hidden: true });
    this.form = h("form", { class: "d-note", novalidate: true, "data-testid": "note-form" },
      h("div", { class: "field", "data-field": "text" }, h("label", {}, t("notes.add")), this.text, this.error),
      h("button", { type: "submit", class: "primary" }, t("notes.send"), " ", h("kbd", {}, "Ctrl+Enter")));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.addNote();
    });
    this.root = h("section", { class: "d-talk" },
      h("h3", {}, t("calls.title")), this.calls,
      h("h3", {}, t("notes.title")), this.notes, this.form);
  }

  reset() {
    this.text.value = "";
    this.error.hidden = true;
  }

  update(ticket) {
    this.ticket = ticket;
    this.form.hidden = !page.canAct;
    const open = !["closed", "cancelled"].includes(ticket.status);
    replaceChildren(this.calls, (ticket.calls || []).map((call) =>
      h("li", { "data-call-id": call.id, "data-testid": "call" },
        h("time", { datetime: call.received_at }, wib(call.received_at)),
        h("b", {}, callerText(call)),
        h("span", { class: "muted" }, " · " + t("channel." + call.channel)
          + (call.taken_by ? " · " + call.taken_by.name : "")),
        call.opening ? h("span", { class: "tag" }, t("calls.opening")) : null,
        !call.opening && open && page.canAct ? h("button", {
          type: "button", class: "small", "data-testid": "split-call",
          onclick: () => this.split(call),
        }, t("calls.split")) : null,
        call.text ? h("p", { class: "said" }, call.text) : null)));
    const notes = ticket.notes || [];
    replaceChildren(this.notes, notes.length
      ? notes.map((n) => h("li", { "data-note-id": n.id, "data-testid": "note" },
        h("time", { datetime: n.created_at }, wib(n.created_at)),
        h("b", {}, n.unit ? n.unit.callsign : (n.author ? n.author.name : "")),
        h("span", { class: "text" }, n.text)))
      : h("li", { class: "muted" }, t("notes.none")));
  }

  async addNote() {
    const text = this.text.value.trim();
    this.error.hidden = true;
    try {
      await api("POST", `/tickets/${this.ticket.id}/notes`, { text });
    } catch (err) {
      this.error.textContent = (err.fields && err.fields.text) || err.message;
      this.error.hidden = false;
      return;
    }
    this.text.value = "";
    this.message(t("notes.added"), "ok");
    await this.refresh();
  }

  async split(call) {
    if (!(await this.confirm(t("calls.split_confirm", { caller: callerText(call) })))) return;
    let ticket;
    try {
      ticket = await api("POST", `/calls/${call.id}/split`, {});
    } catch (err) {
      this.message([err.message, ...Object.values(err.fields || {})].join(" "), "bad");
      return;
    }
    await this.open(ticket.id); // the new ticket, in the detail
    this.message(t("calls.split_done", { number: ticket.number }), "ok");
  }
}
