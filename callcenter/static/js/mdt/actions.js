// What the officer's taps send: the answer to an offer, the steps of a job up to clearing
// it, and the unit's own status.

import { $, $$ } from "../common/dom.js";
import { stopAlarm } from "./alert.js";
import { sendFreshPosition } from "./gps.js";
import { act } from "./job.js";
import { T, api, el, errorText, field, fmt, showMessage, state } from "./page.js";
import { render } from "./view.js";

export function setUpActions() {
  setUpOffer();
  setUpJob();
  setUpStatus();
}

function setUpOffer() {
  el.accept.addEventListener("click", () => {
    const a = state.assignment;
    if (!a) return;
    stopAlarm();
    act(`/assignments/${a.id}/accept`, undefined, T.accepted);
  });
  el.decline.addEventListener("click", () => {
    field(el.offer, "answer").hidden = true;
    el.declineForm.hidden = false;
  });
  $('[data-action="decline-back"]').addEventListener("click", () => {
    el.declineForm.hidden = true;
    field(el.offer, "answer").hidden = false;
  });
  el.declineForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const a = state.assignment;
    const reason = event.submitter && event.submitter.value;
    if (!a || !reason) return;
    stopAlarm();
    act(`/assignments/${a.id}/decline`, { reason }, T.declined, { ends: true });
  });
}

function setUpJob() {
  const steps = $('[data-field="steps"]', el.job);
  for (const button of $$("[data-step]")) {
    button.addEventListener("click", () => {
      const a = state.assignment;
      if (!a) return;
      const step = button.dataset.step;
      if (step === "cleared") {
        steps.hidden = true;
        el.clearForm.hidden = false;
        $("#mdt-resolution").focus();
        return;
      }
      act(`/assignments/${a.id}/progress`, { status: step }, step === "en_route" ? T.wentEnRoute : T.wentOnScene);
    });
  }
  $('[data-action="clear-back"]').addEventListener("click", () => {
    el.clearForm.hidden = true;
    steps.hidden = false;
  });
  el.clearForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const a = state.assignment;
    if (!a) return;
    const select = $("#mdt-resolution");
    const resolution = select.value;
    select.classList.toggle("invalid", !resolution);
    if (!resolution) {
      showMessage(T.chooseResolution);
      return;
    }
    const note = $("#mdt-note").value.trim();
    const done = await act(
      `/assignments/${a.id}/progress`,
      { status: "cleared", resolution, ...(note ? { note } : {}) },
      // With other units still on it the ticket stays open.
      (answer) => (answer && answer.ticket_status !== "closed" ? T.clearedOthers : T.cleared),
      { ends: true }
    );
    if (done) {
      el.clearForm.reset();
      el.clearForm.hidden = true;
      steps.hidden = false;
    }
  });
}

function setUpStatus() {
  for (const button of $$("[data-set-status]")) {
    button.addEventListener("click", async () => {
      if (state.busy) return;
      const status = button.dataset.setStatus;
      state.busy = true;
      render();
      let changed = false;
      try {
        state.unit = await api("PUT", "/units/me/status", { status });
        changed = true;
        showMessage(fmt(T.statusChanged, { status: T.unitStatus[status] }), "ok");
      } catch (err) {
        showMessage(errorText(err));
      }
      state.busy = false;
      render();
      if (changed && status === "available") sendFreshPosition();
    });
  }
}
