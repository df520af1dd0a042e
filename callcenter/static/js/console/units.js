// The units on a ticket, in its detail: each slot with its unit, the unit's own step and
// times, the answers the dispatcher records from the radio, and releasing a unit with a
// reason (and whether a replacement is sent); the units needed, raised by one or set.
// The release form and the units-needed field are built once per ticket, so a change
// streaming in never wipes what the dispatcher is typing; the server's refusals are shown
// in its words.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { distanceText, duration, wib } from "../common/format.js";
import { crewCount, stepLabel } from "./crew.js";
import { api, etaText, page, reasonLabel, t } from "./util.js";

const TIMES = [
  ["offered_at", "crew.t_offered"],
  ["responded_at", "crew.t_accepted"],
  ["en_route_at", "crew.t_en_route"],
  ["on_scene_at", "crew.t_on_scene"],
];

export class CrewPanel {
  /**
   * `message(text, kind)` shows a line in the detail; `refresh()` fetches the ticket again
   * after an action.
   */
  constructor({ message, refresh }) {
    this.message = message;
    this.refresh = refresh;
    this.ticket = null;
    this.releasing = null; // the assignment whose release form is open
    this.count = h("span", { class: "crew-count", "data-testid": "crew-count" });
    this.needed = h("input", {
      type: "number", min: 1, max: page.settings.maxUnits, class: "units-input",
      "data-testid": "units-needed", "aria-label": t("field.units_needed"),
    });
    this.needed.addEventListener("input", () => {
      this.neededDirty = true;
    });
    this.neededDirty = false;
    this.plusOne = h("button", { type: "button", class: "small primary", "data-testid": "add-unit",
      onclick: () => this._setNeeded(this.ticket.units_needed + 1) }, t("crew.plus_one"));
    this.neededForm = h("form", { class: "crew-needed", novalidate: true, "data-testid": "units-needed-form" },
      h("label", {}, t("field.units_needed"), " ", this.needed),
      h("button", { type: "submit", class: "small" }, t("crew.set")), this.plusOne);
    this.neededForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this._setNeeded(Number(this.needed.value));
    });
    this.error = h("p", { class: "crew-error", role: "alert", hidden: true, "data-testid": "crew-error" });
    this.list = h("ol", { class: "crew-list", "data-testid": "crew" });
    this.releaseForm = this._releaseForm();
    this.root = h("section", { class: "d-crew" },
      h("h3", {}, t("detail.assignment"), " ", this.count),
      h("div", { class: "crew-bar" }, this.neededForm),
      this.error, this.list);
  }

  _releaseForm() {
    this.releaseReason = h("input", { "data-testid": "release-reason", maxlength: 300 });
    this.releaseRefill = h("input", { type: "checkbox", checked: true, "data-testid": "release-refill" });
    this.releaseError = h("p", { class: "field-error", hidden: true });
    this.releaseTitle = h("b");
    const form = h("form", { class: "release-form", novalidate: true, "data-testid": "release-form" },
      this.releaseTitle,
      h("div", { class: "field", "data-field": "reason" },
        h("label", {}, t("crew.release_reason")), this.releaseReason, this.releaseError),
      h("label", { class: "toggle" }, this.releaseRefill, " ", t("crew.release_refill")),
      h("div", { class: "inline" },
        h("button", { type: "submit", class: "danger small", "data-testid": "release-submit" }, t("crew.release")),
        h("button", { type: "button", class: "small", onclick: () => this._closeRelease() }, t("crew.back"))));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this._release();
    });
    return form;
  }

  /** A new ticket in the detail: empty forms. */
  reset() {
    this.ticket = null;
    this.releasing = null;
    this.neededDirty = false;
    this.releaseForm.remove();
    this.error.hidden = true;
  }

  update(ticket) {
    this.ticket = ticket;
    const c = crewCount(ticket);
    const open = !["closed", "cancelled"].includes(ticket.status);
    this.count.textContent = t("crew.count", c);
    this.count.className = "crew-count " + (ticket.flags && ticket.flags.short ? "short" : "full");
    if (!this.neededDirty && document.activeElement !== this.needed) this.needed.value = String(ticket.units_needed);
    this.neededForm.hidden = !(open && page.canAct);
    this.plusOne.disabled = ticket.units_needed >= page.settings.maxUnits;

    const members = ticket.units || [];
    const items = members.map((m) => this._member(m, open));
    if (open && c.open) {
      items.push(h("li", { class: "crew-open", "data-testid": "crew-open" },
        t("crew.slots_open", { n: c.open }),
        ticket.status === "queued" && ticket.status_reason ? " · " + reasonLabel(ticket.status_reason) : ""));
    }
    if (ticket.units_cleared) {
      items.push(h("li", { class: "crew-done muted" }, t("crew.cleared", { n: ticket.units_cleared })));
    }
    if (!items.length) items.push(h("li", { class: "muted" }, open ? t("detail.no_unit") : "–"));
    replaceChildren(this.list, items);
    // The release form stays open (with what was typed) while its unit is on the ticket.
    const releasing = members.find((m) => m.assignment_id === this.releasing);
    if (releasing && open) {
      this.list.querySelector(`[data-assignment-id="${releasing.assignment_id}"]`)?.after(this.releaseForm);
    } else if (this.releasing !== null) {
      this._closeRelease();
    }
  }

  _member(m, open) {
    const callsign = m.unit ? m.unit.callsign : "?";
    const buttons = [];
    if (open && page.canAct) {
      if (m.status === "offered") {
        buttons.push(this._button("accept-radio", t("detail.accept_radio"),
          () => this._radio(`/assignments/${m.assignment_id}/accept`)));
      }
      if (m.status === "accepted" && m.step === "accepted") {
        buttons.push(this._button("en-route-radio", t("detail.en_route_radio"),
          () => this._radio(`/assignments/${m.assignment_id}/progress`, { status: "en_route" })));
      }
      if (m.status === "accepted" && ["accepted", "en_route"].includes(m.step)) {
        buttons.push(this._button("on-scene-radio", t("detail.on_scene_radio"),
          () => this._radio(`/assignments/${m.assignment_id}/progress`, { status: "on_scene" })));
      }
      buttons.push(h("button", { type: "button", class: "small", "data-testid": "release-open",
        onclick: () => this._openRelease(m) }, t("crew.release_open")));
    }
    const times = TIMES.filter(([key]) => m[key]).map(([key, label]) => t(label) + " " + wib(m[key]));
    return h("li", { class: "crew-member step-" + m.step, "data-testid": "crew-member",
      "data-callsign": callsign, "data-step": m.step, "data-assignment-id": m.assignment_id },
    h("div", { class: "crew-line" },
      h("span", { class: "slot" }, t("crew.slot", { n: m.slot })),
      h("b", {}, callsign),
      h("span", { class: "step-pill step-" + m.step }, stepLabel(m)),
      h("span", { class: "muted" }, distanceText(m.distance_m), " · ", etaText(m.eta_s),
        m.manual ? " · " + t("ev.manual") : ""),
      m.status === "offered" ? h("span", {}, t("board.deadline"), " ",
        h("span", { class: "countdown", "data-until": m.deadline_at }, duration(-secondsSince(m.deadline_at)))) : null),
    h("div", { class: "crew-times muted" }, times.join(" · ")),
    buttons.length ? h("div", { class: "radio-actions" }, buttons) : null);
  }

  _button(testid, label, onclick) {
    return h("button", { type: "button", class: "small", "data-testid": testid, onclick }, label);
  }

  _openRelease(member) {
    if (this.releasing !== member.assignment_id) {
      this.releaseReason.value = "";
      this.releaseRefill.checked = true;
    }
    this.releasing = member.assignment_id;
    this.releaseTitle.textContent = t("crew.release_title", { callsign: member.unit ? member.unit.callsign : "?" });
    this._releaseErrors(null);
    this.list.querySelector(`[data-assignment-id="${member.assignment_id}"]`)?.after(this.releaseForm);
    this.releaseReason.focus();
  }

  _closeRelease() {
    this.releasing = null;
    this.releaseForm.remove();
  }

  _releaseErrors(err) {
    const reason = err && err.fields && err.fields.reason;
    this.releaseError.textContent = reason || "";
    this.releaseError.hidden = !reason;
    this.releaseReason.classList.toggle("invalid", Boolean(reason));
    if (err) this.message([err.message, ...Object.entries(err.fields || {})
      .filter(([name]) => name !== "reason").map(([, text]) => text)].join(" "), "bad");
  }

  async _release() {
    const id = this.releasing;
    const member = (this.ticket.units || []).find((m) => m.assignment_id === id);
    if (!member) return;
    try {
      await api("POST", `/assignments/${id}/release`,
        { reason: this.releaseReason.value.trim(), refill: this.releaseRefill.checked });
    } catch (err) {
      this._releaseErrors(err);
      return;
    }
    this._closeRelease();
    this.message(t("crew.released", { callsign: member.unit ? member.unit.callsign : "?" }), "ok");
    await this.refresh();
  }

  async _setNeeded(n) {
    this.error.hidden = true;
    try {
      await api("PATCH", `/tickets/${this.ticket.id}`, { units_needed: n });
    } catch (err) {
      this.error.textContent = [err.message, ...Object.values(err.fields || {})].join(" ");
      this.error.hidden = false;
      return;
    }
    this.neededDirty = false;
    this.message(t("crew.needed_set", { n }), "ok");
    await this.refresh();
  }

  async _radio(path, body) {
    try {
      await api("POST", path, body);
      this.message(t("detail.recorded"), "ok");
    } catch (err) {
      this.message(err.message, "bad");
    }
    await this.refresh();
  }
}
