// Drawing the unit screen from what it knows: own status, the offer with its countdown, the
// job being worked, or the idle card.

import { now } from "../common/clock.js";
import { $, $$ } from "../common/dom.js";
import { duration, km, minutes, wibDayTime } from "../common/format.js";
import { renderCrew } from "./crew.js";
import { renderNotes } from "./notes.js";
import { T, el, field, fmt, label, state } from "./page.js";

const BUSY = ["dispatched", "en_route", "on_scene"]; // statuses that follow the job

export function render() {
  const unit = state.unit;
  if (unit) {
    el.status.textContent = T.unitStatus[unit.status] || unit.status;
    el.status.dataset.status = unit.status;
    const busy = BUSY.includes(unit.status);
    for (const button of $$("[data-set-status]")) {
      const pressed = button.dataset.setStatus === unit.status;
      button.setAttribute("aria-pressed", String(pressed));
      button.disabled = busy || state.busy;
    }
    el.statusHint.hidden = !(busy || unit.status_reason === "offer_expired");
    el.statusHint.textContent = busy ? T.busyStatus : T.unavailableExpired;
  }
  const a = state.assignment;
  const offered = a && a.status === "offered";
  const working = a && a.status === "accepted";
  el.offer.hidden = !offered;
  el.job.hidden = !working;
  el.idle.hidden = Boolean(a);
  if (!a && unit) {
    field(el.idle, "idle-text").textContent =
      unit.status === "available" ? T.idleAvailable : T.idleNotAvailable;
  }
  if (offered) {
    fillTicket(el.offer, state.ticket, a);
    tick();
  } else {
    el.declineForm.hidden = true;
    field(el.offer, "answer").hidden = false;
  }
  if (working) {
    renderJob(state.ticket);
  } else {
    el.clearForm.hidden = true;
    el.backupForm.hidden = true;
  }
  if (a) {
    el.onviewForm.hidden = true; // an offer or a job came first
    $('[data-testid="onview-open"]').hidden = false;
  }
  const formOpen = !el.clearForm.hidden || !el.backupForm.hidden;
  $('[data-field="steps"]', el.job).hidden = working && formOpen;
  field(el.job, "backup-row").hidden = !working || formOpen;
  el.accept.disabled = el.decline.disabled = state.busy;
  const buttons = "[data-step], .mdt-reason, [data-testid=clear-submit], [data-testid=backup-send], "
    + "[data-testid=onview-send]";
  for (const button of $$(buttons)) {
    button.disabled = state.busy;
  }
}

/** The offer's countdown, by the server's clock; called often. */
export function tick() {
  const a = state.assignment;
  if (!a || a.status !== "offered") return;
  const left = Math.max(0, Math.ceil((Date.parse(a.deadline_at) - now()) / 1000));
  el.countdown.textContent = left > 0 ? duration(left) : T.offerTimeUp;
  el.countdown.dataset.urgent = String(left <= 10);
  el.countdown.dataset.left = String(left);
}

function fillTicket(root, ticket, assignment) {
  const priority = field(root, "priority");
  priority.textContent = T.priority[String(ticket.priority)] || `P${ticket.priority}`;
  priority.dataset.priority = ticket.priority;
  field(root, "category").textContent = label(ticket.category_label) || ticket.category;
  const location = ticket.location || {};
  field(root, "address").textContent = location.address || T.noAddress;
  field(root, "summary").textContent = ticket.summary || "";
  field(root, "meta").textContent = `${ticket.number} · ${wibDayTime(ticket.created_at)}`;
  const distance = field(root, "distance");
  if (distance) {
    const away = assignment.distance_m == null ? null : km(assignment.distance_m);
    const min = assignment.eta_s ? minutes(assignment.eta_s) : null;
    distance.textContent =
      away == null
        ? ""
        : min
          ? fmt(T.distance, { km: away, min })
          : fmt(T.distanceOnly, { km: away });
  }
}

// A unit's own step, named as the ticket statuses are (its words in T.jobStep).
const STEP_NAMES = { accepted: "acknowledged", en_route: "en_route", on_scene: "on_scene" };

function renderJob(ticket) {
  const a = state.assignment;
  fillTicket(el.job, ticket, a);
  field(el.job, "number").textContent = ticket.number;
  // This unit's own progress: on a ticket with several units the ticket's status is that
  // of the most advanced one.
  const step = STEP_NAMES[a.step] || "acknowledged";
  field(el.job, "step").textContent = T.jobStep[step];
  el.job.dataset.step = step;
  const location = ticket.location || {};
  const geo = $('[data-testid="nav-geo"]', el.job);
  const route = $('[data-testid="nav-route"]', el.job);
  const map = $('[data-testid="nav-map"]', el.job);
  if (location.lat != null) {
    const ll = `${location.lat},${location.lon}`;
    const name = encodeURIComponent(location.address || ticket.number);
    geo.href = `geo:${ll}?q=${ll}(${name})`; // the phone's own navigation app
    route.href = `https://www.google.com/maps/dir/?api=1&destination=${ll}&travelmode=driving`;
    map.href =
      `https://www.openstreetmap.org/?mlat=${location.lat}&mlon=${location.lon}` +
      `#map=17/${location.lat}/${location.lon}`;
    geo.hidden = route.hidden = map.hidden = false;
  } else {
    geo.hidden = route.hidden = map.hidden = true;
  }
  const call = $('[data-testid="call-caller"]', el.job);
  const caller = ticket.caller || {};
  call.hidden = !caller.phone;
  if (caller.phone) call.href = `tel:${caller.phone}`;
  field(el.job, "caller").textContent = caller.phone
    ? `${T.caller}: ${[caller.name, caller.phone_display || caller.phone].filter(Boolean).join(" · ")}`
    : T.callerUnknown;
  const next = { acknowledged: "en_route", en_route: "on_scene", on_scene: "cleared" }[step];
  for (const button of $$("[data-step]", el.job)) {
    const to = button.dataset.step;
    const done = (to === "en_route" && step !== "acknowledged") || (to === "on_scene" && step === "on_scene");
    button.hidden = done;
    button.classList.toggle("mdt-primary", to === next);
  }
  renderCrew(ticket, a);
  renderNotes(ticket);
}
