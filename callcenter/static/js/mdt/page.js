// What the unit screen's modules share: the page's settings and words, its elements, what it
// knows now, the message line, and its API client.

import { createApi } from "../common/api.js";
import { $ } from "../common/dom.js";

export const cfg = JSON.parse(document.getElementById("mdt-config").textContent);
export const T = cfg.strings;

/** Fill the `%(name)s` placeholders of a text from mdt/strings.py. */
export function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}

/** A label given in both languages ({id, en}) in the page's language; a plain text as is. */
export const label = (value) =>
  value && typeof value === "object" ? value[cfg.locale] || value.id : value || "";

/** The element marked data-field="name" inside `root`. */
export const field = (root, name) => $(`[data-field="${name}"]`, root);

export const el = {
  status: $('[data-testid="unit-status"]'),
  conn: $('[data-testid="conn-state"]'),
  gps: $('[data-testid="gps-state"]'),
  message: $('[data-testid="message"]'),
  soundHint: $('[data-testid="sound-hint"]'),
  offer: $('[data-testid="offer"]'),
  countdown: $('[data-testid="countdown"]'),
  accept: $('[data-testid="accept"]'),
  decline: $('[data-testid="decline"]'),
  declineForm: $('[data-testid="decline-form"]'),
  job: $('[data-testid="job"]'),
  clearForm: $('[data-testid="clear-form"]'),
  idle: $('[data-testid="idle"]'),
  statusHint: $('[data-field="status-hint"]'),
  jobs: $('[data-testid="jobs"]'),
  emergency: $('[data-testid="emergency"]'),
  panic: $('[data-testid="panic"]'),
  backupForm: $('[data-testid="backup-form"]'),
  onviewForm: $('[data-testid="onview-form"]'),
  crew: $('[data-testid="job-crew"]'),
};

export const state = {
  unit: null,
  assignment: null,
  ticket: null,
  loaded: false, // the first answer (and with it the server's clock) is in
  alerted: new Set(), // assignment ids already announced
  expectingEnd: null, // an assignment this screen itself just ended (no "withdrawn" notice)
  busy: false, // a request from a button is on its way
  emergencySending: false, // the emergency button was held: sending until the server answers
};

let messageTimer = null;

/** Show a message; an error stays until the next one, anything else goes after 8 s. */
export function showMessage(text, kind = "error") {
  el.message.textContent = text;
  el.message.dataset.kind = kind;
  el.message.hidden = !text;
  if (kind !== "error") {
    clearTimeout(messageTimer);
    messageTimer = setTimeout(() => {
      if (el.message.textContent === text) el.message.hidden = true;
    }, 8000);
  }
}

export const { api, onSessionEnded, signedIn } = createApi({
  base: cfg.api,
  messages: { network: T.networkError, generic: T.serverError },
});

/** A failed call in words: the server's message, and what it said of each field. */
export function errorText(err) {
  const details = Object.values(err.fields || {}).join(" ");
  return details ? `${err.message} ${details}` : err.message;
}
