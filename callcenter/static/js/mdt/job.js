// The unit's current offer or job, as the server has it: loaded whenever anything may have
// changed (loads coalesce), and changed by the officer's answers and steps.

import { noteServerTime } from "../common/clock.js";
import { announce, stopAlarm } from "./alert.js";
import { endWords, loadJobs } from "./jobs.js";
import { T, api, errorText, showMessage, state } from "./page.js";
import { render } from "./view.js";

let refreshing = null;
let refreshAgain = false;
const loadListeners = [];

/** Call `fn()` after each load (from the first one on, the server's clock is known). */
export function afterLoad(fn) {
  loadListeners.push(fn);
}

/** Load the unit, its offer or job and the server's clock; concurrent calls coalesce. */
export function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      const sent = Date.now();
      let body;
      try {
        body = await api("GET", "/units/me/assignment");
      } catch {
        break;
      }
      noteServerTime(body.server_time, sent, Date.now());
      const before = state.assignment;
      state.unit = body.unit;
      state.assignment = body.assignment;
      state.ticket = body.ticket;
      state.loaded = true;
      loadListeners.forEach((fn) => fn());
      if (before && (!state.assignment || state.assignment.id !== before.id)) {
        ended(before);
      }
      if (state.assignment && state.assignment.status === "offered") {
        announce(state.assignment.id);
      } else {
        stopAlarm();
      }
      render();
    } while (refreshAgain);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** The job on screen went away without this screen ending it: say why. */
async function ended(previous) {
  if (state.expectingEnd === previous.id) {
    state.expectingEnd = null;
    return;
  }
  const jobs = await loadJobs();
  const job = jobs && jobs.find((j) => j.id === previous.id);
  showMessage(job ? endWords(job) : T.offerWithdrawn);
}

/**
 * Send an answer or a step for the job on screen (`ends`: it ends the job). A refusal (409)
 * is shown in the server's words; the screen then shows what is true now. `success` is the
 * message on success, or a function of the server's answer that returns it. Resolves to the
 * answer (or true) when the server took it, false when not, null when another request was
 * still on its way.
 */
export async function act(path, body, success, { ends = false } = {}) {
  if (state.busy) return null;
  state.busy = true;
  render();
  const assignment = state.assignment;
  // Whatever happens to this job now, this screen says why itself.
  if (assignment) state.expectingEnd = assignment.id;
  let error = null;
  let answer = null;
  try {
    answer = await api("POST", path, body);
  } catch (err) {
    error = err;
  }
  state.busy = false;
  if (!error) {
    const words = typeof success === "function" ? success(answer) : success;
    if (words) showMessage(words, "ok");
    if (!ends) state.expectingEnd = null;
  } else {
    showMessage(errorText(error));
    if (error.status !== 409 && error.status !== 404) state.expectingEnd = null;
  }
  if (!error || error.status !== 0) await refresh();
  else render();
  loadJobs();
  return error ? false : answer || true;
}
