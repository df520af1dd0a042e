// The emergency button: always on screen (idle, offer, job, off duty) and set off only by a
// press held for about 2 s (touch, mouse or keyboard), its progress filling the button. It
// sends the newest position the phone knows. Without an answer (no network, a server fault)
// it tries again until the server answers, and a press waiting to be sent outlives a reload.
// Once the server has it, the card says "DARURAT AKTIF" until the officer ends it (after a
// confirmation) or the command center closes it.

import { wibTime } from "../common/format.js";
import { lastPosition, sendFreshPosition } from "./gps.js";
import { afterLoad, refresh } from "./job.js";
import { T, api, cfg, el, errorText, field, fmt, showMessage, state } from "./page.js";

const HOLD_MS = 2000;
const RETRY_MS = [1000, 2000, 4000, 8000, 10000];
const PENDING_KEY = "mdt.emergency." + cfg.unit.id;
const PENDING_MAX_MS = 60 * 60 * 1000; // a press never delivered within an hour is dropped, and said so

let hold = null; // {start, timer, frame} while the button is held
let sending = false;
let attempts = 0; // failed sends of the press waiting now
let retryTimer = null;
let memoryPress = null; // the press waiting to be sent, also where storage is refused
let shownTicket = null; // the open emergency's ticket drawn last
let endingHere = false; // this screen is ending the emergency (no "closed by the center")

function pending() {
  try {
    const press = JSON.parse(localStorage.getItem(PENDING_KEY) || "null");
    return press && typeof press.at === "number" ? press : null;
  } catch {
    return null;
  }
}

function setPending(press) {
  try {
    if (press) localStorage.setItem(PENDING_KEY, JSON.stringify(press));
    else localStorage.removeItem(PENDING_KEY);
  } catch {
    /* no storage: the press is still retried while the page is open */
  }
  memoryPress = press;
}

const waiting = () => pending() || memoryPress;

// --- holding the button ------------------------------------------------------------------

function showProgress(fraction) {
  el.panic.style.setProperty("--hold", String(fraction));
  el.panic.dataset.progress = String(Math.round(fraction * 100));
}

function startHold() {
  if (hold) return;
  el.panic.dataset.state = "holding";
  const start = performance.now();
  hold = { start, timer: setTimeout(fire, HOLD_MS), frame: null };
  const step = () => {
    if (!hold) return;
    showProgress(Math.min(1, (performance.now() - start) / HOLD_MS));
    hold.frame = requestAnimationFrame(step);
  };
  step();
}

/** Let go before the 2 s: nothing is sent. */
function endHold() {
  if (!hold) return;
  clearTimeout(hold.timer);
  cancelAnimationFrame(hold.frame);
  hold = null;
  showProgress(0);
  el.panic.dataset.state = "idle";
}

function fire() {
  endHold();
  el.panic.dataset.state = "fired";
  setTimeout(() => {
    if (el.panic.dataset.state === "fired") el.panic.dataset.state = "idle";
  }, 1500);
  try {
    navigator.vibrate?.([300, 100, 300]);
  } catch {
    /* not allowed here */
  }
  setPending({ at: Date.now() });
  attempts = 0;
  sendFreshPosition(); // a fresh fix follows, and the reports keep the ticket on the officer
  send();
}

// --- sending until the server answers -------------------------------------------------------

function positionBody() {
  const fix = lastPosition();
  if (!fix) return {}; // the server uses the last position it has
  const body = { lat: fix.lat, lon: fix.lon };
  if (fix.at) body.recorded_at = new Date(fix.at).toISOString();
  return body;
}

async function send() {
  clearTimeout(retryTimer);
  retryTimer = null;
  const press = waiting();
  if (sending || !press) return;
  if (Date.now() - press.at > PENDING_MAX_MS) {
    setPending(null);
    showMessage(fmt(T.emergency.neverSent, { time: wibTime(new Date(press.at).toISOString()) }));
    renderEmergency();
    return;
  }
  sending = true;
  renderEmergency();
  try {
    const ticket = await api("POST", "/units/me/emergency", positionBody());
    setPending(null);
    attempts = 0;
    sending = false;
    // Shown at once, even if the load that follows fails; that load then replaces it.
    const e = ticket.emergency;
    if (state.unit && e) {
      state.unit = { ...state.unit, emergency: { ticket_id: ticket.id, raised_at: e.raised_at,
        acknowledged_at: e.acknowledged_at, alarm_active: e.alarm_active } };
    }
    showMessage(T.emergency.sent, "ok");
    await refresh(); // the open emergency, as the server has it
  } catch (err) {
    sending = false;
    if (err.status === 401) {
      // Signed out: the press is kept and sent once the officer has signed in again.
    } else if (err.status === 0 || err.status === 429 || err.status >= 500) {
      attempts += 1;
      retryTimer = setTimeout(send, RETRY_MS[Math.min(attempts, RETRY_MS.length) - 1]);
    } else {
      setPending(null);
      showMessage(errorText(err));
    }
  }
  renderEmergency();
}

// --- the card -------------------------------------------------------------------------------

/** Draw the emergency card and the button's hint from the press waiting and the server. */
export function renderEmergency() {
  const open = state.unit && state.unit.emergency;
  const press = waiting();
  const card = el.emergency;
  const openTicket = open ? open.ticket_id : null;
  if (shownTicket && !openTicket && !press && !endingHere) showMessage(T.emergency.closedByCenter, "info");
  if (!openTicket) endingHere = false;
  shownTicket = openTicket;
  card.hidden = !(open || press);
  document.body.classList.toggle("mdt-in-danger", Boolean(open || press));
  let kind;
  let text;
  if (press) {
    kind = attempts ? "retrying" : "sending";
    text = attempts ? fmt(T.emergency.retrying, { n: attempts }) : T.emergency.sending;
  } else if (open && open.acknowledged_at && !open.alarm_active) {
    kind = "acknowledged";
    text = fmt(T.emergency.acknowledged, { time: wibTime(open.acknowledged_at) });
  } else if (open) {
    kind = "raised";
    text = T.emergency.raised;
  }
  card.dataset.state = kind || "none";
  field(card, "emergency-state").textContent = text || "";
  field(card, "emergency-meta").textContent = open
    ? fmt(T.emergency.since, { time: wibTime(open.raised_at) }) : "";
  const endOpen = card.querySelector('[data-testid="emergency-end-open"]');
  const endForm = card.querySelector('[data-testid="emergency-end-form"]');
  if (!open) endForm.hidden = true;
  endOpen.hidden = !open || !endForm.hidden;
  field(el.panic, "panic-hint").textContent = open ? T.emergency.holdAgain : T.emergency.hold;
}

// --- ending it ----------------------------------------------------------------------------------

function setUpEnd() {
  const card = el.emergency;
  const form = card.querySelector('[data-testid="emergency-end-form"]');
  const reason = card.querySelector('[data-testid="emergency-end-reason"]');
  card.querySelector('[data-testid="emergency-end-open"]').addEventListener("click", () => {
    form.hidden = false;
    renderEmergency();
    reason.focus();
  });
  card.querySelector('[data-action="emergency-end-back"]').addEventListener("click", () => {
    form.reset();
    form.hidden = true;
    renderEmergency();
  });
  for (const chip of card.querySelectorAll("[data-end-reason]")) {
    chip.addEventListener("click", () => {
      reason.value = chip.dataset.endReason;
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = reason.value.trim();
    reason.classList.toggle("invalid", !text);
    if (!text) {
      showMessage(T.emergency.reasonNeeded);
      return;
    }
    const submit = form.querySelector('[type="submit"]');
    submit.disabled = true;
    endingHere = true;
    try {
      await api("POST", "/units/me/emergency/end", { reason: text });
      form.reset();
      form.hidden = true;
      showMessage(T.emergency.ended, "ok");
    } catch (err) {
      endingHere = false;
      showMessage(errorText(err));
    } finally {
      submit.disabled = false;
    }
    await refresh();
  });
}

export function setUpPanic() {
  const button = el.panic;
  button.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.preventDefault(); // no text selection, no long-press menu
    try {
      button.setPointerCapture(event.pointerId); // a finger sliding off still counts as held
    } catch {
      /* not for this pointer */
    }
    startHold();
  });
  for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
    button.addEventListener(type, endHold);
  }
  button.addEventListener("keydown", (event) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    if (!event.repeat) startHold();
  });
  button.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      endHold();
    }
  });
  button.addEventListener("blur", endHold);
  button.addEventListener("contextmenu", (event) => event.preventDefault());
  button.addEventListener("click", (event) => event.preventDefault()); // a tap alone sends nothing
  setUpEnd();
  window.addEventListener("online", () => {
    if (waiting()) send();
  });
  afterLoad(renderEmergency);
  renderEmergency();
  if (waiting()) send(); // a press from before a reload
}

/** For tests and checking a device by hand: the button's state. */
export function panicState() {
  return { holding: hold !== null, sending, attempts, waiting: waiting() };
}
