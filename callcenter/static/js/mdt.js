// The unit's screen (MDT): the current offer or job, own status, recent jobs, and position
// sharing. State comes from the JSON API; the unit's live stream (SSE) says when to look
// again. Built for a phone on a bad mobile network: every request may fail, and the page
// says so. Plain modules, no build step.

import { setUpActions } from "./mdt/actions.js";
import { setUpSound } from "./mdt/alert.js";
import { setUpBackup } from "./mdt/backup.js";
import { onFix, queuePosition, renderGps, startGps } from "./mdt/gps.js";
import { refresh } from "./mdt/job.js";
import { loadJobs } from "./mdt/jobs.js";
import { stream, watchCrew } from "./mdt/live.js";
import { setUpNotes } from "./mdt/notes.js";
import { setUpOnView } from "./mdt/onview.js";
import { T, cfg, onSessionEnded, showMessage, state } from "./mdt/page.js";
import { panicState, setUpPanic } from "./mdt/panic.js";
import { flushPositions, loadQueue } from "./mdt/positions.js";
import { tick } from "./mdt/view.js";

onSessionEnded(() => {
  showMessage(T.signedOut);
  setTimeout(() => window.location.assign(cfg.loginUrl), 1500);
});
setUpActions();
setUpBackup();
setUpNotes({ refresh });
setUpOnView();
setUpPanic();
setUpSound();
watchCrew();
setInterval(tick, 250);

window.addEventListener("online", flushPositions); // reports queued while offline go now
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") {
    refresh();
    keepAwake();
  }
});

/** Keep the screen on while the page is in front (where the browser allows). */
async function keepAwake() {
  try {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      await navigator.wakeLock.request("screen");
    }
  } catch {
    /* not allowed: the phone's own settings decide */
  }
}

// A hook for tests and for checking a device by hand.
window.mdt = {
  enqueuePosition: queuePosition,
  fix: (lat, lon, accuracy, timestamp) =>
    onFix({ coords: { latitude: lat, longitude: lon, accuracy }, timestamp }, true),
  flushPositions,
  queue: loadQueue,
  panic: panicState,
  state,
  stream,
};

renderGps();
refresh().then(loadJobs);
stream.start();
startGps();
flushPositions();
keepAwake();
