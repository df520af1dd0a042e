// The alert for a new offer: sound and vibration where the browser allows, repeated until
// the offer is answered or gone.

import { T, cfg, el, state } from "./page.js";

let audio = null;
let alarmTimer = null;

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  if (!audio) audio = new Context();
  return audio;
}

function unlockAudio() {
  const context = audioContext();
  if (context && context.state === "suspended") context.resume().catch(() => {});
  el.soundHint.hidden = true;
}

/** Browsers keep sound off until the first tap: ask for that tap before an offer comes. */
export function setUpSound() {
  el.soundHint.addEventListener("click", unlockAudio);
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });
  const context = audioContext();
  if (context && context.state !== "running") el.soundHint.hidden = false;
}

function beep() {
  const context = audioContext();
  if (!context || context.state !== "running") {
    el.soundHint.hidden = false;
    return;
  }
  const start = context.currentTime;
  [880, 660, 880, 660].forEach((hz, i) => {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.type = "square";
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, start + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.25 + 0.22);
    osc.connect(gain).connect(context.destination);
    osc.start(start + i * 0.25);
    osc.stop(start + i * 0.25 + 0.24);
  });
}

function buzz() {
  if (navigator.vibrate) {
    try {
      navigator.vibrate([400, 150, 400, 150, 400]);
    } catch {
      /* not allowed here */
    }
  }
}

/** A new offer: sound and vibration now and every few seconds until it is answered. */
export function announce(assignmentId) {
  if (state.alerted.has(assignmentId)) return;
  state.alerted.add(assignmentId);
  document.title = "● " + T.newOffer + " · " + cfg.unit.callsign;
  el.offer.dataset.alerting = "true";
  beep();
  buzz();
  clearInterval(alarmTimer);
  alarmTimer = setInterval(() => {
    if (state.assignment && state.assignment.status === "offered") {
      beep();
      buzz();
    } else {
      stopAlarm();
    }
  }, 4000);
}

export function stopAlarm() {
  clearInterval(alarmTimer);
  alarmTimer = null;
  delete el.offer.dataset.alerting;
  document.title = document.title.replace(/^● .*? · /, "");
  if (navigator.vibrate) {
    try {
      navigator.vibrate(0);
    } catch {
      /* ignore */
    }
  }
}
