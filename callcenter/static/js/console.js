// The dispatcher console: intake, the live board, the map and ticket detail on one screen,
// kept current by the event stream. Plain modules, no build step.

import { clockText } from "./common/format.js";
import { LiveStream } from "./common/stream.js";
import { Alarms } from "./console/alarm.js";
import { noteEvent } from "./console/backup.js";
import { Board } from "./console/board.js";
import { CallbackList } from "./console/callbacks.js";
import { watchDispatch } from "./console/degraded.js";
import { Detail } from "./console/detail.js";
import { Intake } from "./console/intake.js";
import { ConsoleMap } from "./console/map.js";
import { SearchBox } from "./console/search.js";
import * as store from "./console/store.js";
import { api, onSessionEnded, page, t } from "./console/util.js";
import { WhatsAppPane } from "./console/whatsapp.js";

const mapView = new ConsoleMap(document.getElementById("map"), {
  onTicket: (id) => openTicket(id),
  onPick: (point) => (detail.picking ? detail.setPoint(point) : intake.setPoint(point)),
});
const board = new Board({ onOpen: (id) => openTicket(id) });
const detail = new Detail({
  map: mapView,
  onClose: () => {
    if (location.hash.startsWith("#ticket-")) history.replaceState(null, "", location.pathname + location.search);
    const row = lastRow;
    lastRow = null;
    if (row && row.isConnected) row.focus();
  },
});
const intake = new Intake({ map: mapView, onThreadLinked: () => wa.load().catch(() => {}) });
const wa = new WhatsAppPane({ map: mapView, intake });
const alarms = new Alarms({ map: mapView, onOpen: (id) => openTicket(id) });
const search = new SearchBox({ onOpen: (id) => openTicket(id) });
const callbacks = new CallbackList({
  onOpen: (id) => openTicket(id),
  onGenuine: (task) => intake.startCallback(task),
});
let lastRow = null;

function openTicket(id) {
  const active = document.activeElement;
  lastRow = active && active.closest ? active.closest("li[data-ticket-id]") : null;
  if (location.hash !== "#ticket-" + id) history.replaceState(null, "", "#ticket-" + id);
  detail.open(id);
}

function openFromHash() {
  const match = /^#ticket-(\d+)$/.exec(location.hash);
  if (match) detail.open(Number(match[1]));
}
window.addEventListener("hashchange", openFromHash);

// --- drawing, at most once a frame ----------------------------------------------------------------

let drawTickets = false;
let drawUnits = false;
let frame = null;

function schedule(tickets, units) {
  drawTickets ||= tickets;
  drawUnits ||= units;
  if (frame === null) {
    frame = requestAnimationFrame(() => {
      frame = null;
      if (drawTickets) {
        board.render();
        mapView.syncTickets(store.tickets);
      }
      if (drawUnits) {
        board.renderUnits();
        mapView.syncUnits(store.units);
      }
      alarms.render(); // the officer's point may come from either
      drawTickets = drawUnits = false;
    });
  }
}

store.subscribe((kind, id, object) => {
  if (kind === "ticket") {
    schedule(true, false);
    detail.storeChanged(id, object);
  } else if (kind === "unit" || kind === "positions") {
    schedule(false, true);
  } else {
    schedule(true, true);
  }
});

// --- the stream -----------------------------------------------------------------------------------

const streamState = document.getElementById("stream-state");

function showState(state) {
  streamState.dataset.state = state;
  streamState.querySelector(".label").textContent = t("stream." + state);
  document.body.dataset.stream = state;
}

// Events the activity list leaves out (the WhatsApp pane and the timeline show them).
const QUIET = ["wa.thread_read", "wa.status", "wa.message_sent"];

const stream = new LiveStream("/api/v1/events/stream", {
  onEvent(event) {
    noteEvent(event); // before the board draws the ticket again
    alarms.onEvent(event);
    if (!QUIET.includes(event.type)) board.addActivity(event);
    if (event.type.startsWith("callback.")) callbacks.changed();
    if (event.type === "agency.updated") detail.handoffs.catalogChanged();
    wa.onEvent(event);
    if (event.ticket_id) store.ticketChanged(event.ticket_id);
    if (event.unit_id) store.unitChanged(event.unit_id);
  },
  onPositions: (list) => store.applyPositions(list),
  onState: showState,
  // After a long gap, reload the lists too (the replay covers it; this is belt and braces).
  onOpen({ awayMs }) {
    if (awayMs > 60_000) Promise.allSettled([store.loadTickets(), store.loadUnits(), wa.load()]);
  },
}, { lastId: page.lastEventId, retryMs: [1000, 15_000] });
streamState.addEventListener("click", () => stream.reconnect());
onSessionEnded(() => {
  stream.stop();
  showState("signed_out");
});

// --- keys -----------------------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (e.target.closest && e.target.closest("dialog")) return;
  if (e.key === "F2") {
    e.preventDefault();
    intake.focus();
  } else if (e.key === "F3") {
    e.preventDefault();
    wa.show(false);
    board.focusFirst();
  } else if (e.key === "F4") {
    e.preventDefault();
    search.focus();
  } else if (e.key === "F6") {
    e.preventDefault();
    if (detail.isOpen) detail.close();
    wa.show(true);
  } else if (e.key === "Escape" && detail.isOpen && !e.defaultPrevented) {
    e.preventDefault();
    detail.close();
  } else if (
    e.altKey && !e.ctrlKey && !e.metaKey && e.target.closest && e.target.closest("#wa")
  ) {
    // In the WhatsApp pane, Alt+I closes the conversation as iseng (not the intake's call).
    if (wa.chat.shortcut(e)) e.preventDefault();
  } else if (
    e.altKey && !e.ctrlKey && !e.metaKey && intake.enabled
    // Typing in the detail panel never logs a call by a stray Alt+key.
    && !(e.target.closest && e.target.closest("#detail"))
    && intake.shortcut(e)
  ) {
    e.preventDefault();
  }
});

// --- the clock and the tick -----------------------------------------------------------------------

const clock = document.getElementById("clock");
setInterval(() => {
  clock.textContent = clockText();
  if (board.tick()) schedule(true, false);
  wa.tick();
}, 1000);
clock.textContent = clockText();

/** The last events before the page opened, so the activity list does not start empty. */
async function loadRecentActivity() {
  if (!page.lastEventId) return;
  const after = Math.max(0, page.lastEventId - 40);
  const recent = await api("GET", `/events?after=${after}&limit=40`);
  for (const event of recent.filter((e) => e.id <= page.lastEventId).reverse()) {
    noteEvent(event);
    board.addActivity(event, { older: true });
  }
}

// --- start ------------------------------------------------------------------------------------------

stream.start();
watchDispatch();
Promise.allSettled([store.loadTickets(), store.loadUnits(), loadRecentActivity(), callbacks.load(), wa.load()]).then(() => {
  document.body.classList.add("console-ready");
  openFromHash();
});
intake.focus();
window.addEventListener("resize", () => mapView.invalidate());

// For the operations team (and the browser tests): the live parts, from the devtools console.
window.cc110 = { stream, store, detail, intake, map: mapView, alarms, search, callbacks, wa };
