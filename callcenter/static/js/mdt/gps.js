// The phone's position: fixes from the GPS, thinned out (at most one report per 10 s while
// moving, a fresh one at least every 30 s), stamped in server time, and queued; and the
// line that says how sharing goes.

import { now } from "../common/clock.js";
import { wibTime } from "../common/format.js";
import { afterLoad } from "./job.js";
import { T, el, fmt, state } from "./page.js";
import { enqueuePosition, lastSent, loadQueue, onQueueChange } from "./positions.js";

const POSITION_EVERY_MS = 10000; // at most one report per 10 s while moving
const POSITION_HEARTBEAT_MS = 30000; // a fresh fix at least every 30 s, moving or not
const POSITION_MOVE_M = 30;

let gpsState = "starting";
let lastQueued = null; // {lat, lon, at}: the last report queued
let lastFixTimestamp = null;
let lastFix = null; // {lat, lon, accuracy, at}: the newest fix, queued or thinned out
let pendingFix = null; // a fix that came before the server's clock was known

onQueueChange(renderGps);
afterLoad(() => {
  if (pendingFix) {
    const fix = pendingFix;
    pendingFix = null;
    setTimeout(() => onFix(fix, true));
  }
});

/** Queue a report (see positions.js), and remember it as the last one for thinning out. */
export function queuePosition(lat, lon, accuracy, recordedAt) {
  if (!enqueuePosition(lat, lon, accuracy, recordedAt)) return false;
  lastQueued = { lat, lon, at: recordedAt };
  return true;
}

function distanceM(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

/** A fix from the GPS (a GeolocationPosition); `force` queues it even if it is too soon. */
export function onFix(position, force = false) {
  gpsState = "on";
  if (!state.loaded) {
    pendingFix = position; // stamped once the server's clock is known
    renderGps();
    return;
  }
  if (position.timestamp === lastFixTimestamp) return; // the same fix, handed out again
  lastFixTimestamp = position.timestamp;
  const { latitude, longitude, accuracy } = position.coords;
  // Reports carry the server's time: a phone whose clock is wrong would otherwise report
  // from the future (refused) or the past (ignored). The fix's age comes from the phone;
  // a nonsensical age (the fix stamped by another clock) counts as a fresh fix.
  let age = Date.now() - position.timestamp;
  if (!(age >= 0 && age <= 120000)) age = 0;
  const recordedAt = Math.round(now() - age);
  lastFix = { lat: latitude, lon: longitude, accuracy, at: recordedAt };
  if (lastQueued && !force) {
    const moved = distanceM(lastQueued.lat, lastQueued.lon, latitude, longitude);
    const elapsed = recordedAt - lastQueued.at;
    if (elapsed < POSITION_EVERY_MS && !(moved >= POSITION_MOVE_M && elapsed >= 2000)) {
      renderGps();
      return;
    }
  }
  queuePosition(latitude, longitude, accuracy, recordedAt);
}

/**
 * The newest position this phone knows: {lat, lon, accuracy, at} with `at` in server time
 * (ms), or `at` null when it came before the server's clock was known; null without a fix.
 */
export function lastPosition() {
  if (lastFix) return lastFix;
  if (pendingFix) {
    const { latitude, longitude, accuracy } = pendingFix.coords;
    return { lat: latitude, lon: longitude, accuracy, at: null };
  }
  return null;
}

function onGpsError(error) {
  gpsState = error && error.code === 1 ? "denied" : gpsState === "on" ? "on" : "unavailable";
  renderGps();
}

/** Ask the GPS for a fix now and queue it (e.g. on becoming available). */
export function sendFreshPosition() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition((p) => onFix(p, true), onGpsError, {
    enableHighAccuracy: true,
    maximumAge: 5000,
    timeout: 20000,
  });
}

export function startGps() {
  if (!navigator.geolocation) {
    gpsState = "unavailable";
    renderGps();
    return;
  }
  navigator.geolocation.watchPosition(onFix, onGpsError, {
    enableHighAccuracy: true,
    maximumAge: 5000,
    timeout: 30000,
  });
  setInterval(() => {
    if (!lastQueued || now() - lastQueued.at >= POSITION_HEARTBEAT_MS) {
      sendFreshPosition();
    }
  }, 5000);
}

export function renderGps() {
  const waiting = loadQueue().length;
  const parts = [T.gps[gpsState]];
  if (lastSent()) parts.push(fmt(T.gps.sent, { time: wibTime(lastSent()) }));
  if (waiting) parts.push(fmt(T.gps.waiting, { n: waiting }));
  el.gps.textContent = parts.join(" · ");
  el.gps.dataset.state = gpsState;
  el.gps.dataset.waiting = String(waiting);
}
