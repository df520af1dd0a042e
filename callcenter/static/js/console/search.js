// The search box (F4): any ticket, open or closed, by its number, the caller's phone in any
// form, or words of what was said and where. A result opens in the detail panel.

import { h, replaceChildren } from "../common/dom.js";
import { wib } from "../common/format.js";
import { api, categoryLabel, statusLabel, t } from "./util.js";

const PAGE = 20;

export class SearchBox {
  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.root = document.getElementById("search-box");
    this.input = h("input", { type: "search", id: "search-q", maxlength: 200,
      placeholder: t("search.placeholder"), "data-testid": "search-q", autocomplete: "off" });
    this.list = h("ol", { class: "search-results", hidden: true, "data-testid": "search-results" });
    this.status = h("p", { class: "muted search-status", role: "status" });
    this.more = h("button", { type: "button", class: "small", hidden: true,
      onclick: () => this.search(true) }, t("search.more"));
    const form = h("form", { role: "search", class: "search-form", novalidate: true },
      h("label", { for: "search-q" }, t("search.label"), " ", h("kbd", {}, "F4")),
      this.input, h("button", { type: "submit" }, t("search.button")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.search(false);
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        this.list.querySelector("li")?.focus();
      } else if (e.key === "Escape") {
        this.clear();
      }
    });
    this.list.addEventListener("keydown", (e) => {
      const li = e.target.closest("li[data-ticket-id]");
      if (!li) return;
      if (e.key === "Enter") this.onOpen(Number(li.dataset.ticketId));
      else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        (e.key === "ArrowDown" ? li.nextElementSibling : li.previousElementSibling || this.input)?.focus();
      }
    });
    this.list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-ticket-id]");
      if (li) this.onOpen(Number(li.dataset.ticketId));
    });
    replaceChildren(this.root, form, this.status, this.list, this.more);
    this.cursor = null;
    this.seq = 0;
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  clear() {
    this.input.value = "";
    this.list.hidden = true;
    this.more.hidden = true;
    this.status.textContent = "";
  }

  async search(more) {
    const q = this.input.value.trim();
    if (!q) return this.clear();
    const mine = ++this.seq;
    const params = new URLSearchParams({ q, limit: String(PAGE) });
    if (more && this.cursor) params.set("cursor", this.cursor);
    let rows;
    try {
      rows = await api("GET", "/tickets?" + params);
    } catch (err) {
      if (mine === this.seq) this.status.textContent = err.message;
      return;
    }
    if (mine !== this.seq) return;
    const items = rows.map((tk) => h("li", { tabindex: "0", "data-ticket-id": tk.id,
      class: "s-" + tk.status, "data-testid": "search-result" },
    h("b", {}, tk.number), " · ", statusLabel(tk.status), " · ", categoryLabel(tk.category),
    " · ", wib(tk.created_at),
    tk.caller && tk.caller.phone_display ? " · " + tk.caller.phone_display : "",
    tk.summary ? h("div", { class: "muted" }, tk.summary.slice(0, 140)) : null));
    if (more) this.list.append(...items);
    else replaceChildren(this.list, items);
    this.cursor = rows.length === PAGE ? String(rows[rows.length - 1].id) : null;
    this.more.hidden = !this.cursor;
    this.list.hidden = this.list.children.length === 0;
    this.status.textContent = this.list.children.length
      ? t("search.results", { n: this.list.children.length + (this.cursor ? "+" : "") })
      : t("search.none");
  }
}
