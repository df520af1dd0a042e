// Running notes on the job: what the command center and the other units wrote, shown as it
// streams in, and the officer's own, by quick phrase or in their own words. A phrase that
// ends in "…" goes into the text box to be finished; the others are sent with one tap.

import { $, $$, h, replaceChildren } from "../common/dom.js";
import { wibDayTime } from "../common/format.js";
import { T, api, el, errorText, field, showMessage, state } from "./page.js";

let sending = false;
let reload = () => {};

export function renderNotes(ticket) {
  const notes = (ticket && ticket.notes) || [];
  replaceChildren(field(el.job, "notes-list"), notes.length
    ? notes.map((n) => h("li", { "data-testid": "job-note", "data-note-id": n.id },
      h("span", { class: "mdt-muted" }, wibDayTime(n.created_at), " · ",
        n.unit ? n.unit.callsign : T.notes.center), " ", n.text))
    : h("li", { class: "mdt-muted" }, T.notes.none));
}

async function send(text) {
  const ticket = state.ticket;
  if (!ticket || sending || !text.trim()) return;
  sending = true;
  try {
    await api("POST", `/tickets/${ticket.id}/notes`, { text });
    $('[data-testid="job-note-text"]', el.job).value = "";
    showMessage(T.notes.sent, "ok");
  } catch (err) {
    showMessage(errorText(err));
  } finally {
    sending = false;
  }
  await reload();
}

/** Wire the note form; `refresh()` loads the job again after a note is sent. */
export function setUpNotes({ refresh }) {
  reload = refresh;
  const form = $('[data-testid="job-note-form"]', el.job);
  const box = $('[data-testid="job-note-text"]', el.job);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(box.value);
  });
  for (const chip of $$("[data-note-phrase]", form)) {
    chip.addEventListener("click", () => {
      const phrase = chip.dataset.notePhrase;
      if (phrase.endsWith("…")) {
        box.value = phrase.slice(0, -1).trimEnd() + " ";
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      } else {
        send(phrase);
      }
    });
  }
}
