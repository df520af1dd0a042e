// A ticket's hand-offs to other agencies, in the detail panel: each agency with its number,
// the time left to acknowledge (red once late), the acknowledgement recorded (who, their
// reference, when), and a form to hand the ticket to another agency. Forms are kept per
// hand-off, so a change streaming in never wipes what the dispatcher is typing.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { duration, wib } from "../common/format.js";
import { OPEN_STATUSES, api, page, t } from "./util.js";

let agencies = null;

/** The agency catalog (fetched once per page). */
function getAgencies() {
  agencies = agencies || api("GET", "/agencies").catch((err) => {
    agencies = null;
    throw err;
  });
  return agencies;
}

function showErrors(form, err) {
  for (const out of form.querySelectorAll(".field-error")) out.hidden = true;
  let placed = false;
  for (const [name, text] of Object.entries(err.fields || {})) {
    const out = form.querySelector(`[data-error="${CSS.escape(name)}"]`);
    if (out) {
      out.textContent = text;
      out.hidden = false;
      placed = true;
    }
  }
  const top = form.querySelector("[data-error='_']");
  top.textContent = placed ? "" : err.message;
  top.hidden = placed;
}

export class HandoffPanel {
  constructor({ message, refresh }) {
    this.message = message;
    this.refresh = refresh;
    this.list = h("ol", { class: "handoff-list", "data-testid": "handoffs" });
    this.empty = h("p", { class: "muted" }, t("handoff.none"));
    this.form = this._sendForm();
    this.root = h("section", { class: "d-handoffs" },
      h("h3", {}, t("handoff.title")), this.list, this.empty, this.form);
    this.ackForms = new Map(); // hand-off id -> its form
  }

  /** The options of the send form, from the catalog (the choice in progress is kept). */
  _fillAgencies() {
    const select = this.agencySelect;
    getAgencies().then((list) => {
      const chosen = select.value;
      replaceChildren(select, h("option", { value: "" }, t("handoff.choose")),
        ...list.map((a) => h("option", { value: a.code },
          a.label + (a.phone ? " · " + a.phone_display : ""))));
      if (list.some((a) => a.code === chosen)) select.value = chosen;
    }).catch(() => {});
  }

  /** An agency's number or availability changed in Administration: read the catalog again,
   * and the open ticket (its hand-offs show the agency's number). */
  catalogChanged() {
    agencies = null;
    this._fillAgencies();
    this.refresh();
  }

  reset() {
    this.ackForms.clear();
    this.form.reset();
    replaceChildren(this.list);
  }

  update(ticket) {
    const handoffs = ticket.handoffs || [];
    const open = OPEN_STATUSES.includes(ticket.status);
    this.ticketId = ticket.id;
    this.empty.hidden = handoffs.length > 0;
    this.form.hidden = !(open && page.canAct);
    replaceChildren(this.list, handoffs.map((ho) => this._row(ho)));
  }

  /** Ages and countdowns, once a second. */
  tick() {
    for (const li of this.list.querySelectorAll("li[data-due]")) {
      const late = secondsSince(li.dataset.due);
      li.classList.toggle("overdue", late >= 0);
      li.querySelector(".due").textContent = late >= 0
        ? t("handoff.overdue") + " · " + duration(late)
        : t("handoff.due") + " " + duration(-late);
    }
  }

  _row(ho) {
    const pending = ho.status === "pending";
    const agency = ho.agency;
    const late = pending ? secondsSince(ho.due_at) : null;
    const li = h("li", {
      class: "handoff " + ho.status + (pending && late >= 0 ? " overdue" : ""),
      "data-testid": "handoff", "data-agency": agency.code, "data-status": ho.status,
      "data-due": pending ? ho.due_at : null,
    },
    h("div", { class: "l1" },
      h("b", {}, agency.label), " · ",
      agency.phone ? h("a", { href: "tel:" + agency.phone, class: "phone" }, agency.phone_display)
        : h("span", { class: "muted" }, t("handoff.no_phone")),
      " · ", h("span", { class: "muted" }, wib(ho.created_at)),
      pending ? [" · ", h("span", { class: "due" }, late >= 0
        ? t("handoff.overdue") + " · " + duration(late)
        : t("handoff.due") + " " + duration(-late))] : null),
    ho.note ? h("div", { class: "note" }, ho.note) : null,
    pending ? null : h("div", { class: "ack", "data-testid": "handoff-ack" },
      t("handoff.acknowledged", { by: ho.acknowledged_by }),
      ho.reference ? " · " + t("handoff.reference", { reference: ho.reference }) : "",
      " · ", wib(ho.acknowledged_at)));
    if (pending && page.canAct) li.append(this._ackForm(ho));
    return li;
  }

  _ackForm(ho) {
    let form = this.ackForms.get(ho.id);
    if (form) return form;
    const by = h("input", { name: "by", maxlength: 120, "data-testid": "handoff-by" });
    const reference = h("input", { name: "reference", maxlength: 80, "data-testid": "handoff-ref" });
    form = h("form", { class: "handoff-ack-form inline", novalidate: true },
      h("label", {}, t("handoff.by"), by, h("span", { class: "field-error", "data-error": "by", hidden: true })),
      h("label", {}, t("handoff.ref_field"), reference,
        h("span", { class: "field-error", "data-error": "reference", hidden: true })),
      h("button", { type: "submit", class: "primary", "data-testid": "handoff-ack-button" },
        t("handoff.ack_button")),
      h("p", { class: "field-error", "data-error": "_", hidden: true }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { by: by.value.trim() };
      if (reference.value.trim()) body.reference = reference.value.trim();
      try {
        await api("POST", `/handoffs/${ho.id}/acknowledge`, body);
        this.ackForms.delete(ho.id);
        this.message(t("handoff.recorded"), "ok");
        this.refresh();
      } catch (err) {
        showErrors(form, err);
      }
    });
    this.ackForms.set(ho.id, form);
    return form;
  }

  _sendForm() {
    const agency = h("select", { name: "agency", "data-testid": "handoff-agency" },
      h("option", { value: "" }, t("handoff.choose")));
    const note = h("input", { name: "note", maxlength: 1000, "data-testid": "handoff-note" });
    const form = h("form", { class: "handoff-send inline", novalidate: true, "data-testid": "handoff-form" },
      h("label", {}, t("handoff.agency"), agency,
        h("span", { class: "field-error", "data-error": "agency", hidden: true })),
      h("label", {}, t("handoff.note"), note,
        h("span", { class: "field-error", "data-error": "note", hidden: true })),
      h("button", { type: "submit" }, t("handoff.send")),
      h("p", { class: "field-error", "data-error": "_", hidden: true }));
    this.agencySelect = agency;
    this._fillAgencies();
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { agency: agency.value || null };
      if (note.value.trim()) body.note = note.value.trim();
      try {
        const made = await api("POST", `/tickets/${this.ticketId}/handoffs`, body);
        form.reset();
        showErrors(form, { fields: { _: "" } });
        this.message(t("handoff.sent", { agency: made.agency.label }), "ok");
        this.refresh();
      } catch (err) {
        showErrors(form, err);
      }
    });
    return form;
  }
}
