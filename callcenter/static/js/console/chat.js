// One WhatsApp conversation: who holds it, the messages (bubbles.js), the reporter's pins on
// the map, replies (free text and the four quick replies), and what becomes of it: a ticket
// through intake ("Buat tiket"), attached to an open ticket, closed, or closed as iseng
// (Alt+I). Built once per thread, so a message streaming in never wipes what is typed.

import { h, replaceChildren } from "../common/dom.js";
import { wib, wibDayTime } from "../common/format.js";
import { bubble } from "./bubbles.js";
import { confirmDialog } from "./detail.js";
import { applyTicket, tickets } from "./store.js";
import { api, categoryLabel, page, t } from "./util.js";

export class Chat {
  constructor({ map, intake, onChanged }) {
    this.root = document.getElementById("wa-chat");
    this.map = map;
    this.intake = intake;
    this.onChanged = onChanged; // the thread changed here: the list shows it again
    this.id = null;
    this.thread = null;
    this.seq = 0;
    this.busy = false;
  }

  get isOpen() {
    return this.id !== null;
  }

  /** The pane is on screen (not the board): only then is a thread read, its pins drawn. */
  get onScreen() {
    return document.body.classList.contains("wa-shown");
  }

  async open(id) {
    if (this.id !== id) {
      this.id = id;
      this.thread = null;
      this._build();
    }
    await this.load();
  }

  close() {
    this.id = null;
    this.thread = null;
    this.map.setChatPins([]);
    replaceChildren(this.root, h("p", { class: "muted empty" }, t("wa.pick")));
  }

  /** Fetch the thread again; an older answer never overwrites a newer one. */
  async load() {
    const id = this.id;
    const mine = ++this.seq;
    let thread;
    try {
      thread = await api("GET", "/wa/threads/" + id);
    } catch (err) {
      if (id === this.id) this._message(err.message, "bad");
      return;
    }
    if (id !== this.id || mine !== this.seq) return;
    this.update(thread);
    if (thread.unread > 0 && page.canAct && thread.status === "open" && this.onScreen) this._markRead(id);
  }

  async _markRead(id) {
    try {
      const thread = await api("POST", `/wa/threads/${id}/read`);
      this.onChanged?.(thread);
    } catch {
      /* the count stays; nothing else depends on it */
    }
  }

  // --- the skeleton, once per thread --------------------------------------------------------

  _build() {
    this.title = h("h3", { class: "chat-title", "data-testid": "wa-chat-title" });
    this.holder = h("div", { class: "holder", "data-testid": "wa-holder" });
    this.flags = h("div", { class: "chat-flags" });
    this.msg = h("p", { class: "d-msg", role: "status", hidden: true, "data-testid": "wa-message-line" });
    this.list = h("ol", { class: "bubbles", "data-testid": "wa-messages" });
    this.windowLine = h("p", { class: "window-line", "data-testid": "wa-window" });
    this.text = h("textarea", { rows: 2, maxlength: 4096, "data-testid": "wa-text",
      placeholder: t("wa.type_reply"), "aria-label": t("wa.type_reply") });
    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.reply({ text: this.text.value });
      }
    });
    this.templateBox = h("input", { type: "checkbox", "data-testid": "wa-template" });
    this.templateLabel = h("label", { class: "toggle", hidden: true }, this.templateBox, " ", t("wa.as_template"));
    const quick = (page.wa.quickReplies || []).map((q) =>
      h("button", { type: "button", class: "small quick", "data-quick": q.code, title: q.text,
        "data-testid": "wa-quick-" + q.code, onclick: () => this.reply({ quick_reply: q.code }) }, q.label));
    this.send = h("button", { type: "button", class: "primary", "data-testid": "wa-send",
      onclick: () => this.reply({ text: this.text.value }) }, t("wa.send"), " ", h("kbd", {}, "Ctrl+Enter"));
    this.composer = h("div", { class: "composer" },
      h("div", { class: "quick-replies" }, quick),
      this.text,
      h("div", { class: "send-row" }, this.templateLabel, this.send));

    this.attachSelect = h("select", { "data-testid": "wa-attach-select", "aria-label": t("wa.attach_to") });
    this.actions = h("div", { class: "chat-actions" },
      h("button", { type: "button", class: "primary", "data-testid": "wa-make-ticket",
        onclick: () => this.makeTicket() }, t("wa.make_ticket")),
      h("span", { class: "attach" }, this.attachSelect,
        h("button", { type: "button", "data-testid": "wa-attach", onclick: () => this.attach() }, t("wa.attach"))),
      h("button", { type: "button", "data-testid": "wa-prank", onclick: () => this.closeThread(true) },
        t("wa.prank"), " ", h("kbd", {}, "Alt+I")),
      h("button", { type: "button", "data-testid": "wa-close", onclick: () => this.closeThread(false) },
        t("wa.close")));
    replaceChildren(this.root,
      h("header", { class: "chat-head" }, this.title, this.holder),
      this.flags, this.msg, this.list, this.windowLine, this.composer, this.actions);
  }

  // --- drawing --------------------------------------------------------------------------------

  update(thread) {
    const first = this.thread === null;
    this.thread = thread;
    const open = thread.status === "open";
    const mine = thread.claimed_by && thread.claimed_by.id === page.user.id;
    const other = thread.claimed_by && !mine;
    this.root.dataset.threadId = thread.id;
    this.root.dataset.status = thread.status;

    replaceChildren(this.title, thread.name || t("wa.no_name"), " ",
      h("span", { class: "phone", "data-testid": "wa-phone" }, thread.phone_display),
      thread.ticket ? [" · ", h("a", { href: "#ticket-" + thread.ticket.id, "data-testid": "wa-ticket-link" },
        thread.ticket.number)] : null,
      open ? null : h("span", { class: "tag" }, t("wa.closed_" + (thread.close_reason || "closed"))));
    this._renderHolder(thread, { open, mine, other });

    const f = thread.flags || {};
    replaceChildren(this.flags,
      f.prank_caller ? h("p", { class: "flag-line warn", "data-testid": "wa-prank-flag" },
        t("history.prank_flag", { n: f.pranks_30d, days: 30 })) : null,
      f.flood ? h("p", { class: "flag-line bad", "data-testid": "wa-flood-flag" }, t("wa.flood")) : null,
      !f.prank_caller && f.repeat_caller ? h("p", { class: "flag-line" },
        t("history.calls", { n: f.calls_30d, days: 30, pranks: f.pranks_30d })) : null);

    const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    replaceChildren(this.list, (thread.messages || []).map((m) => bubble(m, { pin: (p) => this._pinButtons(p) })));
    if (first || atBottom) this.list.scrollTop = this.list.scrollHeight;

    const pins = (thread.messages || []).filter((m) => m.kind === "location" && m.location);
    this.map.setChatPins(!this.onScreen ? [] : pins.map((m) => ({
      id: m.id, lat: m.location.lat, lon: m.location.lon, place: m.location.place, at: m.created_at,
    })));

    const w = thread.window || {};
    this.windowLine.className = "window-line" + (w.open ? "" : " closed");
    this.windowLine.dataset.open = w.open ? "1" : "0";
    this.windowLine.textContent = !open ? ""
      : w.open ? t("wa.window_open", { time: wibDayTime(w.closes_at) })
        : (w.closes_at ? t("wa.window_closed", { time: wibDayTime(w.closes_at) }) : t("wa.window_none"))
          + " " + (w.template ? t("wa.window_template") : t("wa.window_no_template"));
    this.templateLabel.hidden = w.open || !w.template;
    const canReply = page.canAct && open && !other && (w.open || (w.template && this.templateBox.checked));
    this.composer.hidden = !page.canAct || !open;
    for (const el of this.composer.querySelectorAll("button, textarea")) el.disabled = !canReply;
    this.templateBox.disabled = !page.canAct || !open || other;
    this.templateBox.onchange = () => this.update(this.thread);

    this.actions.hidden = !page.canAct || !open;
    for (const el of this.actions.querySelectorAll("button, select")) el.disabled = Boolean(other);
    this.actions.querySelector('[data-testid="wa-make-ticket"]').hidden = Boolean(thread.ticket);
    this.actions.querySelector(".attach").hidden = Boolean(thread.ticket);
    this.actions.querySelector('[data-testid="wa-prank"]').hidden = Boolean(thread.ticket);
    this._fillAttach();
  }

  _renderHolder(thread, { open, mine, other }) {
    const holder = thread.claimed_by;
    const parts = [];
    if (!open) {
      parts.push(h("span", { class: "muted" }, t("wa.closed_at", { time: wib(thread.closed_at) })));
    } else if (!holder) {
      parts.push(h("span", { class: "muted" }, t("wa.unclaimed")));
      if (page.canAct) parts.push(h("button", { type: "button", class: "small", "data-testid": "wa-claim",
        onclick: () => this.claim(false) }, t("wa.claim")));
    } else if (mine) {
      parts.push(h("span", { class: "mine" }, t("wa.claimed_mine")));
      parts.push(h("button", { type: "button", class: "small", "data-testid": "wa-release",
        onclick: () => this.release() }, t("wa.release")));
    } else {
      parts.push(h("span", { class: "other", "data-testid": "wa-claimed-other" },
        t("wa.claimed_other", { name: holder.name, time: wib(thread.claimed_at) })));
      if (page.user.role === "supervisor") parts.push(h("button", { type: "button", class: "small",
        "data-testid": "wa-take-over", onclick: () => this.claim(true) }, t("wa.take_over")));
    }
    this.holder.dataset.holder = holder ? holder.username : "";
    replaceChildren(this.holder, parts);
  }

  _pinButtons(m) {
    const point = [m.location.lat, m.location.lon];
    const thread = this.thread;
    return [
      h("button", { type: "button", class: "small", "data-testid": "wa-pin-show",
        onclick: () => this.map.focus(point, 15) }, t("wa.pin_show")),
      thread && thread.ticket && thread.status === "open" && page.canAct
        ? h("button", { type: "button", class: "small", "data-testid": "wa-pin-use",
          onclick: () => this.usePin(m) }, t("wa.pin_use", { number: thread.ticket.number }))
        : null,
    ];
  }

  _fillAttach() {
    const chosen = this.attachSelect.value;
    const open = [...tickets.values()].sort((a, b) => b.id - a.id);
    replaceChildren(this.attachSelect, h("option", { value: "" }, t("wa.attach_pick")),
      open.map((tk) => h("option", { value: tk.id }, tk.number + " · " + categoryLabel(tk.category)
        + (tk.location && tk.location.address ? " · " + tk.location.address : ""))));
    this.attachSelect.value = open.some((tk) => String(tk.id) === chosen) ? chosen : "";
  }

  _message(text, kind) {
    this.msg.textContent = text;
    this.msg.className = "d-msg " + (kind || "");
    this.msg.hidden = !text;
  }

  // --- acting -------------------------------------------------------------------------------

  async _act(fn, okText) {
    if (this.busy || !this.thread) return null;
    this.busy = true;
    this._message("");
    try {
      const answer = await fn(this.thread.id);
      if (okText) this._message(okText, "ok");
      return answer;
    } catch (err) {
      this._message(err.message, "bad");
      if (err.status === 409) this.load(); // someone else changed it: show what is true now
      return null;
    } finally {
      this.busy = false;
    }
  }

  _applied(thread) {
    if (!thread || thread.id !== this.id) return;
    this.update({ ...thread, messages: this.thread.messages });
    this.onChanged?.(thread);
  }

  async claim(takeOver) {
    const body = takeOver ? { take_over: true } : undefined;
    this._applied(await this._act((id) => api("POST", `/wa/threads/${id}/claim`, body)));
  }

  async release() {
    this._applied(await this._act((id) => api("POST", `/wa/threads/${id}/release`)));
  }

  async reply(body) {
    if (body.text !== undefined && !body.text.trim()) {
      this.text.focus();
      return;
    }
    if (this.thread && !(this.thread.window || {}).open && this.templateBox.checked) body.template = true;
    const sent = await this._act((id) => api("POST", `/wa/threads/${id}/messages`, body));
    if (!sent) return;
    if (body.text !== undefined) this.text.value = "";
    this.templateBox.checked = false;
    this.load();
  }

  /** "Buat tiket": intake, filled from the conversation; logging it links the two. */
  makeTicket() {
    if (!this.thread || this.thread.ticket) return;
    const words = (this.thread.messages || [])
      .filter((m) => m.direction === "in" && m.text).map((m) => m.text.trim()).join("\n");
    const pins = (this.thread.messages || []).filter((m) => m.direction === "in" && m.kind === "location");
    const filled = this.intake.fromThread(this.thread, {
      text: words, pin: pins.length ? pins[pins.length - 1] : null,
    });
    if (!filled) this._message(t("wa.intake_locked"), "bad");
  }

  async attach() {
    const ticketId = Number(this.attachSelect.value);
    if (!ticketId) {
      this._message(t("wa.attach_pick"), "bad");
      this.attachSelect.focus();
      return;
    }
    const answer = await this._act((id) => api("POST", `/wa/threads/${id}/ticket`, { ticket_id: ticketId }));
    if (!answer) return;
    applyTicket(answer.ticket);
    this._message(t("wa.attached", { number: answer.ticket.number }), "ok");
    this._applied(answer.thread);
  }

  async closeThread(prank) {
    if (!this.thread || this.thread.status !== "open") return;
    if (!prank && !(await confirmDialog(t("wa.close_confirm")))) return;
    const body = prank ? { prank: true } : {};
    const thread = await this._act((id) => api("POST", `/wa/threads/${id}/close`, body));
    if (!thread) return;
    this._message(prank ? t("wa.closed_as_prank") : t("wa.closed_done"), "ok");
    this._applied(thread);
  }

  async usePin(m) {
    const ticket = await this._act((id) => api("POST", `/wa/threads/${id}/location`, { message_id: m.id }));
    if (!ticket) return;
    applyTicket(ticket);
    this._message(t("wa.pin_used", { number: ticket.number }), "ok");
  }

  /** Alt+key inside the pane: Alt+I closes the conversation as iseng. */
  shortcut(e) {
    if (e.code === "KeyI" && this.thread && !this.thread.ticket && page.canAct) {
      this.closeThread(true);
      return true;
    }
    return false;
  }
}
