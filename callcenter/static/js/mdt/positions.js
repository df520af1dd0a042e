// Position reports waiting to be sent: queued in localStorage (they outlive a reload), sent
// oldest first, each one once.

import { api, cfg } from "./page.js";

const QUEUE_KEY = "mdt.positions." + cfg.unit.id;
const QUEUE_MAX = 2000;

let lastSentAt = null;
let flushing = false;
let flushAgain = false;
let flushTimer = null;
let flushRetryMs = 2000;
const changeListeners = [];

/** Call `fn()` whenever the queue or the time of the last report sent changes. */
export function onQueueChange(fn) {
  changeListeners.push(fn);
}

function changed() {
  changeListeners.forEach((fn) => fn());
}

/** When the server last took a report (ISO), or null. */
export function lastSent() {
  return lastSentAt;
}

export function loadQueue() {
  try {
    const queue = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
    return Array.isArray(queue) ? queue : [];
  } catch {
    return [];
  }
}

function saveQueue(queue) {
  try {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
  } catch {
    /* storage full: the oldest reports go first */
    queue.splice(0, Math.ceil(queue.length / 2));
    try {
      localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    } catch {
      /* nothing more to do */
    }
  }
}

/**
 * Queue one report and start sending; `recordedAt` (ms since the epoch, server time) is when
 * the device measured it. False (and nothing queued) when it is not newer than the last one.
 */
export function enqueuePosition(lat, lon, accuracy, recordedAt) {
  const report = { lat, lon, recorded_at: new Date(recordedAt).toISOString() };
  if (accuracy != null && Number.isFinite(accuracy)) report.accuracy_m = Math.round(accuracy * 10) / 10;
  const queue = loadQueue();
  const tail = queue.length ? queue[queue.length - 1] : null;
  if (tail && Date.parse(tail.recorded_at) >= recordedAt) return false;
  queue.push(report);
  if (queue.length > QUEUE_MAX) queue.splice(0, queue.length - QUEUE_MAX);
  saveQueue(queue);
  changed();
  flushPositions();
  return true;
}

/** Send what is queued, unless a send is already running (then it runs again after). */
export function flushPositions() {
  if (flushing) {
    flushAgain = true; // e.g. the connection came back while a send was failing
    return;
  }
  clearTimeout(flushTimer);
  flushing = true;
  flushAgain = false;
  // One sender per device, even with the page open twice (where the browser can say so).
  const run = navigator.locks
    ? navigator.locks.request(QUEUE_KEY, { ifAvailable: true }, (lock) => (lock ? drain() : null))
    : drain();
  Promise.resolve(run).finally(() => {
    flushing = false;
    changed();
    if (flushAgain && navigator.onLine) flushPositions();
  });
}

/** Send the queue oldest first. A report leaves the queue only once the server answered
 * for it (stored, a repeat, or refused as impossible); anything else stops the run and it
 * is retried, with the same recorded_at, which the server recognises. */
async function drain() {
  for (;;) {
    const queue = loadQueue();
    if (!queue.length) {
      flushRetryMs = 2000;
      return;
    }
    const head = queue[0];
    let ok = true;
    let status = null;
    try {
      await api("POST", "/units/me/location", head);
    } catch (err) {
      ok = false;
      status = err.status;
    }
    const settled = ok || status === 409 || status === 422;
    if (!settled) {
      if (status !== 401) {
        flushTimer = setTimeout(flushPositions, flushRetryMs);
        flushRetryMs = Math.min(flushRetryMs * 2, 10000);
      }
      return;
    }
    flushRetryMs = 2000;
    const now = loadQueue();
    if (now.length && now[0].recorded_at === head.recorded_at) now.shift();
    saveQueue(now);
    if (ok) lastSentAt = new Date().toISOString();
    changed();
  }
}
