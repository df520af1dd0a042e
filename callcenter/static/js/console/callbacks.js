// The call-back list: silent and dropped calls to ring back, oldest first, each with the time
// left (red once late) and the outcome buttons. "Genuine" opens the intake form with the
// number, and the call logged there is linked to the task. Reloaded whenever a call-back
// event streams in; countdowns tick once a second.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { duration, wib } from "../common/format.js";
import { api, categoryLabel, page, t } from "./util.js";

const OUTCOMES = ["no_answer", "prank", "wrong_number"];

export class CallbackList {
  constructor({ onOpen, onGenuine }) {
    this.onOpen = onOpen;
    this.onGenuine = onGenuine;
    this.root = document.getElementById("callbacks");
    this.count = h("span", { class: "count", "data-testid": "callbacks-count" }, "0");
    this.list = h("ol", { class: "callback-list", "data-testid": "callback-list" });
    this.empty = h("p", { class: "muted" }, t("callback.none"));
    this.error = h("p", { class: "field-error", role: "alert", hidden: true });
    replaceChildren(this.root, h("h2", {}, t("callback.title"), " ", this.count),
      this.error, this.list, this.empty);
    this.root.hidden = false;
    this.timer = null;
    this.seq = 0;
    setInterval(() => this.tick(), 1000);
  }

  /** Reload soon (events come in bursts). */
  changed() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), 150);
  }

  async load() {
    const mine = ++this.seq;
    let rows;
    try {
      rows = await api("GET", "/callbacks?status=open");
    } catch (err) {
      this.error.textContent = err.message;
      this.error.hidden = false;
      return;
    }
    if (mine !== this.seq) return;
    this.error.hidden = true;
    this.count.textContent = String(rows.length);
    this.root.classList.toggle("has-late", rows.some((r) => secondsSince(r.due_at) >= 0));
    this.empty.hidden = rows.length > 0;
    replaceChildren(this.list, rows.map((task) => this._row(task)));
  }

  tick() {
    let late = false;
    for (const li of this.list.querySelectorAll("li[data-due]")) {
      const s = secondsSince(li.dataset.due);
      li.classList.toggle("overdue", s >= 0);
      late ||= s >= 0;
      li.querySelector(".due").textContent = s >= 0
        ? t("callback.overdue", { t: duration(s) }) : t("callback.due_in", { t: duration(-s) });
    }
    this.root.classList.toggle("has-late", late);
  }

  _row(task) {
    const s = secondsSince(task.due_at);
    const source = task.ticket || {};
    const li = h("li", {
      class: "callback" + (s >= 0 ? " overdue" : ""), "data-testid": "callback",
      "data-callback-id": task.id, "data-due": task.due_at, "data-phone": task.phone || "",
    },
    h("div", { class: "l1" },
      h("b", { class: "phone" }, task.phone_display || task.phone || t("callback.no_number")),
      " · ", categoryLabel(source.category),
      " · ", h("a", { href: "#ticket-" + source.id, onclick: (e) => {
        e.preventDefault();
        this.onOpen(source.id);
      } }, source.number),
      " · ", h("span", { class: "muted" }, wib(task.created_at))),
    h("div", { class: "l2" },
      h("span", { class: "due" }, s >= 0
        ? t("callback.overdue", { t: duration(s) }) : t("callback.due_in", { t: duration(-s) })),
      task.no_answers ? [" · ", t("callback.tries", { n: task.no_answers, max: page.settings.callbackMaxNoAnswer || 3 })] : null));
    if (page.canAct) {
      li.append(h("div", { class: "actions" },
        OUTCOMES.map((outcome) => h("button", {
          type: "button", class: "small", "data-outcome": outcome,
          onclick: () => this._record(task, outcome),
        }, t("callback." + outcome))),
        h("button", { type: "button", class: "small primary", "data-outcome": "genuine",
          onclick: () => this.onGenuine(task) }, t("callback.genuine"))));
    }
    return li;
  }

  async _record(task, outcome) {
    try {
      await api("POST", `/callbacks/${task.id}/attempts`, { outcome });
      this.error.hidden = true;
    } catch (err) {
      this.error.textContent = err.message;
      this.error.hidden = false;
    }
    this.load();
  }
}

/** A ticket's call-back, as a line of its detail: the task it left, or the one it came from. */
export function callbackLine(task, ticketId) {
  const link = (tk) => h("a", { href: "#ticket-" + tk.id }, tk.number);
  if (task.result_ticket && task.result_ticket.id === ticketId) {
    return h("span", { "data-testid": "detail-callback" }, t("callback.from"), " ", link(task.ticket));
  }
  const s = secondsSince(task.due_at);
  return h("span", { "data-testid": "detail-callback", class: task.overdue ? "bad" : "" },
    task.status === "open"
      ? (s >= 0 ? t("callback.overdue", { t: duration(s) }) : t("callback.due_in", { t: duration(-s) }))
      : t("ev.callback_closed", { reason: t("cbreason." + task.close_reason) }),
    task.result_ticket ? [" → ", link(task.result_ticket)] : null,
    task.history.length ? " · " + task.history.map((a) => wib(a.at) + " " + t("callback." + a.outcome)).join(", ") : "");
}
