// "Minta bantuan": the unit on an accepted job asks for more units, one by default or a
// number chosen, with a reason (quick reasons and its own words); the answer is shown.
// Which parts of the job card show is view.js's business.

import { $, $$ } from "../common/dom.js";
import { refresh } from "./job.js";
import { T, api, cfg, el, errorText, fmt, showMessage, state } from "./page.js";
import { render } from "./view.js";

let count = 1;

/** The most units this ticket can still be given (a ticket holds at most 10). */
function most() {
  const needed = (state.ticket && state.ticket.units_needed) || 1;
  return Math.max(1, cfg.settings.maxUnits - needed);
}

function showCount() {
  count = Math.min(Math.max(1, count), most());
  $('[data-testid="backup-count"]', el.backupForm).textContent = String(count);
  $('[data-testid="backup-less"]', el.backupForm).disabled = count <= 1;
  $('[data-testid="backup-more"]', el.backupForm).disabled = count >= most();
}

function reset() {
  el.backupForm.reset();
  count = 1;
  for (const chip of $$("[data-backup-reason]", el.backupForm)) chip.setAttribute("aria-pressed", "false");
  showCount();
}

/** The reason sent: the quick reasons chosen, then the officer's own words. */
function reasonText() {
  const chosen = $$('[data-backup-reason][aria-pressed="true"]', el.backupForm).map((c) => c.dataset.backupReason);
  const own = $('[data-testid="backup-reason"]', el.backupForm).value.trim();
  return [...chosen, own].filter(Boolean).join("; ");
}

async function send() {
  const a = state.assignment;
  const reason = reasonText();
  if (!a) return;
  if (!reason) {
    showMessage(T.backup.reasonNeeded);
    return;
  }
  if (state.busy) return;
  state.busy = true;
  render();
  let answer = null;
  try {
    answer = await api("POST", `/assignments/${a.id}/backup`, { count, reason });
  } catch (err) {
    showMessage(errorText(err));
  }
  state.busy = false;
  if (answer) {
    el.backupForm.hidden = true;
    reset();
    showMessage(fmt(T.backup.sent, { n: answer.added, needed: answer.ticket.units_needed }), "ok");
  }
  await refresh();
}

export function setUpBackup() {
  const form = el.backupForm;
  $('[data-testid="backup-open"]').addEventListener("click", () => {
    reset();
    form.hidden = false;
    render();
    $('[data-testid="backup-more"]', form).focus();
  });
  $('[data-action="backup-back"]', form).addEventListener("click", () => {
    form.hidden = true;
    render();
  });
  $('[data-testid="backup-less"]', form).addEventListener("click", () => {
    count -= 1;
    showCount();
  });
  $('[data-testid="backup-more"]', form).addEventListener("click", () => {
    count += 1;
    showCount();
  });
  for (const chip of $$("[data-backup-reason]", form)) {
    chip.addEventListener("click", () => {
      chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
    });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
}
