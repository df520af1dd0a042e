// The WhatsApp pane, a tab beside the open tickets (F6): the open conversations, the oldest
// waiting first, with unread counts, who answers each and its flags; the chosen one in
// chat.js. Kept current by the console's event stream: any wa.* event reloads the list (once
// per burst) and the open conversation when it is about it.

import { secondsSince } from "../common/clock.js";
import { h, replaceChildren } from "../common/dom.js";
import { duration } from "../common/format.js";
import { Chat } from "./chat.js";
import { api, page, t } from "./util.js";

// Events that change what a conversation shows but not the list (delivery, files, retries).
const CHAT_ONLY = ["wa.status", "wa.message_sent", "wa.message_retrying", "wa.message_failed",
  "wa.media_stored", "wa.media_failed"];

export class WhatsAppPane {
  constructor({ map, intake }) {
    this.root = document.getElementById("wa");
    this.listEl = document.getElementById("wa-threads");
    this.empty = document.getElementById("wa-empty");
    this.tabs = document.querySelectorAll("[data-tab]");
    this.badge = document.getElementById("wa-badge");
    this.threads = [];
    this.seq = 0;
    this.timer = null;
    this.chat = new Chat({ map, intake, onChanged: (thread) => this._threadChanged(thread) });
    this.chat.close();
    for (const tab of this.tabs) tab.addEventListener("click", () => this.show(tab.dataset.tab === "wa"));
    this.listEl.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-thread-id]");
      if (li) this.openThread(Number(li.dataset.threadId));
    });
    this.listEl.addEventListener("keydown", (e) => {
      const li = e.target.closest("li[data-thread-id]");
      if (!li) return;
      if (e.key === "Enter") this.openThread(Number(li.dataset.threadId));
      else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        (e.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling)?.focus();
      }
    });
    this._renderSettings();
  }

  get visible() {
    return !this.root.hidden;
  }

  /** Show the WhatsApp pane (true) or the open tickets (false). */
  show(on) {
    document.body.classList.toggle("wa-shown", on);
    this.root.hidden = !on;
    for (const tab of this.tabs) tab.setAttribute("aria-selected", String((tab.dataset.tab === "wa") === on));
    if (on) {
      (this.listEl.querySelector("li.active") || this.listEl.querySelector("li"))?.focus();
      if (this.chat.isOpen) this.chat.load();
    } else {
      this.chat.map.setChatPins([]);
    }
  }

  async load() {
    const mine = ++this.seq;
    const list = await api("GET", "/wa/threads?status=open&limit=200");
    if (mine !== this.seq) return;
    this.threads = list;
    this.render();
  }

  /** A wa.* event from the stream. */
  onEvent(event) {
    if (!event.type.startsWith("wa.")) return;
    if (event.type === "wa.settings_changed") {
      this._loadSettings();
      return;
    }
    if (!CHAT_ONLY.includes(event.type)) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load().catch(() => {}), 150);
    }
    const threadId = (event.data || {}).thread_id;
    if (this.chat.isOpen && threadId === this.chat.id) this.chat.load();
  }

  async openThread(id) {
    if (!this.visible) this.show(true);
    for (const li of this.listEl.querySelectorAll("li[data-thread-id]")) {
      li.classList.toggle("active", Number(li.dataset.threadId) === id);
    }
    await this.chat.open(id);
  }

  _threadChanged(thread) {
    const i = this.threads.findIndex((x) => x.id === thread.id);
    if (thread.status !== "open") {
      if (i >= 0) this.threads.splice(i, 1);
    } else if (i >= 0) {
      this.threads[i] = thread;
    }
    this.render();
  }

  render() {
    const waiting = this.threads.filter((x) => x.waiting_since).length;
    const unread = this.threads.reduce((sum, x) => sum + (x.unread || 0), 0);
    this.badge.textContent = String(waiting);
    this.badge.hidden = waiting === 0;
    this.badge.title = t("wa.badge", { waiting, unread });
    this.empty.hidden = this.threads.length > 0;
    const focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("li[data-thread-id]") : null;
    const focusId = focused ? Number(focused.dataset.threadId) : null;
    replaceChildren(this.listEl, this.threads.map((x) => this._row(x)));
    if (focusId !== null) this.listEl.querySelector(`li[data-thread-id="${focusId}"]`)?.focus();
  }

  _row(x) {
    const f = x.flags || {};
    const last = x.last_message;
    const preview = !last ? ""
      : last.kind === "text" ? last.text
        : last.kind === "location" ? t("wa.pin") + (last.location && last.location.place ? ": " + last.location.place : "")
          : last.kind === "unsupported" ? t("wa.unsupported", { type: last.raw_type || "?" })
            : t("wa.kind_" + last.kind) + (last.text ? " · " + last.text : "");
    const holder = x.claimed_by;
    return h("li", {
      class: "thread" + (x.id === this.chat.id ? " active" : "") + (x.waiting_since ? " waiting" : "")
        + (f.prank_caller ? " prank" : ""),
      tabindex: "0", "data-thread-id": x.id, "data-testid": "wa-thread", "data-phone": x.phone,
    },
    h("div", { class: "l1" },
      h("b", { class: "name" }, x.name || x.phone_display),
      x.unread ? h("span", { class: "unread", "data-testid": "wa-unread" }, String(x.unread)) : null,
      x.waiting_since ? h("span", { class: "age", "data-since": x.waiting_since },
        duration(secondsSince(x.waiting_since))) : null),
    h("div", { class: "l2" },
      h("span", { class: "phone" }, x.phone_display),
      x.ticket ? h("span", { class: "tag" }, x.ticket.number) : null,
      f.prank_caller ? h("span", { class: "flag warn", "data-testid": "wa-row-prank" }, t("wa.flag_prank")) : null,
      f.flood ? h("span", { class: "flag bad" }, t("wa.flag_flood")) : null),
    h("div", { class: "l3" }, holder
      ? h("span", { class: "holder" + (holder.id === page.user.id ? " mine" : "") }, holder.name + " · ")
      : null, preview || ""));
  }

  /** The waiting times, once a second. */
  tick() {
    for (const el of this.listEl.querySelectorAll("[data-since]")) {
      el.textContent = duration(secondsSince(el.dataset.since));
    }
  }

  /**
   * Which automatic updates reporters get. A supervisor switches each on or off here
   * (audited); everyone else sees them. Another console's change arrives by the stream.
   */
  _renderSettings() {
    const box = document.getElementById("wa-auto");
    const auto = this.auto || page.wa.auto || {};
    const canSwitch = page.supervisor;
    replaceChildren(box, h("span", {}, t("wa.auto_title")), " ",
      ["ack", "en_route", "closed"].map((k) => canSwitch
        ? h("label", { class: "toggle auto-switch" },
          h("input", { type: "checkbox", checked: Boolean(auto[k]), "data-testid": "wa-auto-" + k,
            onchange: (e) => this._switchAuto(k, e.target.checked) }),
          " ", t("wa.auto_" + k))
        : h("span", { class: "tag" + (auto[k] ? "" : " warn"), "data-testid": "wa-auto-" + k,
          "data-on": auto[k] ? "1" : "0" }, t("wa.auto_" + k) + ": " + t(auto[k] ? "wa.on" : "wa.off"))),
    this.autoError ? h("span", { class: "bad", role: "alert" }, " " + this.autoError) : null);
  }

  async _switchAuto(name, on) {
    this.autoError = null;
    try {
      this.auto = (await api("PATCH", "/wa/settings", { [name]: on })).auto;
    } catch (err) {
      this.autoError = err.message;
    }
    this._renderSettings();
  }

  async _loadSettings() {
    try {
      this.auto = (await api("GET", "/wa/settings")).auto;
      this._renderSettings();
    } catch {
      /* shown as they were */
    }
  }
}
