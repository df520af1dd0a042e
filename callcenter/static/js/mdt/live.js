// The unit's live stream: it says when to look again. Each time it (re)connects the page
// loads its job afresh, and while it is down the page looks every 15 s, so that an offer is
// not missed on a bad mobile network.

import { LiveStream } from "../common/stream.js";
import { announce } from "./alert.js";
import { refresh } from "./job.js";
import { loadJobs } from "./jobs.js";
import { T, cfg, el, showMessage, signedIn, state } from "./page.js";

// The stream's states as this page names them (data-state and the words in T.conn).
const SHOWN = {
  connecting: "connecting",
  live: "online",
  reconnecting: "reconnecting",
  offline: "offline",
  too_many: "too_many",
  busy: "busy",
};

let pollTimer = null;
let eventRefreshTimer = null;

function setConnection(name) {
  el.conn.dataset.state = name;
  el.conn.textContent = T.conn[name];
  if (name === "online") {
    clearInterval(pollTimer);
    pollTimer = null;
  } else if (!pollTimer) {
    pollTimer = setInterval(() => refresh(), 15000);
  }
}

function onEvent(event) {
  const data = event.data || {};
  // The stream also carries what happens to the other units on this unit's ticket: only an
  // offer to this unit is announced.
  if (event.type === "assignment.offered" && event.unit_id === cfg.unit.id) {
    announce(data.assignment_id);
    refresh();
  } else if (event.type === "ticket.updated" && state.ticket && event.ticket_id === state.ticket.id) {
    showMessage(T.ticketUpdated, "info");
  }
  if (event.type.startsWith("assignment.")) loadJobs();
  clearTimeout(eventRefreshTimer);
  eventRefreshTimer = setTimeout(refresh, 150);
}

/**
 * What the other units on a job do reaches this unit's stream while it is on the job; a look
 * every 15 s while it works a ticket that needs several units also covers a stream that was
 * down.
 */
export function watchCrew() {
  setInterval(() => {
    const ticket = state.ticket;
    if (ticket && ticket.units_needed > 1 && el.conn.dataset.state === "online") refresh();
  }, 15_000);
}

export const stream = new LiveStream(
  cfg.api + "/events/stream",
  {
    onEvent,
    onState(name) {
      // Signed out elsewhere (deactivated, password reset): asking confirms it with a 401,
      // and the page goes to sign-in at once instead of at its next call.
      if (name === "signed_out") signedIn();
      if (SHOWN[name]) setConnection(SHOWN[name]);
    },
    onOpen() {
      // Whatever happened while the stream was down (or before it first opened).
      refresh();
      loadJobs();
    },
  },
  { retryMs: [2000, 30_000], stallMs: 10_000, followNetwork: true }
);
