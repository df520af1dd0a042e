// The possible-duplicate warning while a call is typed: as soon as the category and the
// point are known, the console asks for an open ticket of the same kind nearby. "Gabungkan
// ke 110-…" attaches the call to that ticket instead: nothing is dispatched a second time.

import { h, replaceChildren } from "../common/dom.js";
import { wib } from "../common/format.js";
import { api, categories, categoryLabel, t } from "./util.js";

export class DuplicateWarning {
  /** `onAttach(ticket)`: the dispatcher chose to attach the call to `ticket`. */
  constructor({ onAttach }) {
    this.box = document.getElementById("intake-duplicate");
    this.onAttach = onAttach;
    this.seq = 0;
    this.timer = null;
    this.ticket = null;
  }

  /** The form's category or point changed: look again (debounced; older answers lose). */
  check(code, point) {
    clearTimeout(this.timer);
    const category = code ? categories.get(code) : null;
    if (!category || !category.dispatch || !point) {
      this.clear();
      return;
    }
    this.timer = setTimeout(() => this._load(code, point), 200);
  }

  async _load(code, point) {
    const mine = ++this.seq;
    let answer;
    try {
      const query = `category=${encodeURIComponent(code)}&lat=${point[0]}&lon=${point[1]}`;
      answer = await api("GET", "/tickets/possible-duplicate?" + query);
    } catch {
      answer = { ticket: null }; // an unreadable point: the API says so when the call is sent
    }
    if (mine !== this.seq) return;
    this._show(answer.ticket);
  }

  _show(ticket) {
    this.ticket = ticket;
    if (!ticket) {
      replaceChildren(this.box);
      this.box.hidden = true;
      return;
    }
    replaceChildren(this.box,
      h("p", {}, t("intake.same_incident", {
        number: ticket.number, category: ticket.category_label || categoryLabel(ticket.category),
        at: wib(ticket.created_at),
      })),
      ticket.summary || ticket.address
        ? h("p", { class: "muted" }, [ticket.address, ticket.summary].filter(Boolean).join(" — "))
        : null,
      h("button", {
        type: "button", class: "primary", "data-testid": "attach-duplicate",
        "data-ticket-id": ticket.id, title: t("intake.attach_hint"),
        onclick: () => this.onAttach(ticket),
      }, t("intake.attach", { number: ticket.number })),
      " ", h("span", { class: "hint" }, t("intake.attach_hint")));
    this.box.hidden = false;
  }

  clear() {
    this.seq += 1;
    clearTimeout(this.timer);
    this._show(null);
  }
}
