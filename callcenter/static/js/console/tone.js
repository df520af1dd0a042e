// The alarm's repeating tone (Web Audio). Browsers start audio only after the person has
// interacted with the page: the context is made and resumed on the first click or key, and
// until it runs, `blocked` is true and the page offers a button to turn the sound on.

const EVERY_MS = 1600;

export class Tone {
  /** `onChange()` is called whenever `blocked` may have changed. */
  constructor(onChange) {
    this.onChange = onChange;
    this.context = null;
    this.timer = null;
    const prime = () => this.enable();
    document.addEventListener("pointerdown", prime, { capture: true });
    document.addEventListener("keydown", prime, { capture: true });
  }

  get blocked() {
    return !this.context || this.context.state !== "running";
  }

  get sounding() {
    return this.timer !== null;
  }

  _make() {
    if (this.context) return this.context;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    this.context = new Context();
    this.context.addEventListener?.("statechange", () => this.onChange());
    return this.context;
  }

  /** In a click or key handler: make and resume the context (the browser allows it then). */
  enable() {
    const context = this._make();
    if (!context || context.state === "running") return Promise.resolve();
    return context.resume().catch(() => {}).finally(() => {
      this.onChange();
      if (this.sounding && !this.blocked) this._beep();
    });
  }

  start() {
    if (this.timer !== null) return;
    this._beep();
    this.timer = setInterval(() => this._beep(), EVERY_MS);
    this.onChange();
  }

  stop() {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.onChange();
  }

  _beep() {
    const context = this._make();
    if (!context) return;
    if (context.state !== "running") {
      // Allowed if the page has had a click or key; if not, the button says so.
      context.resume().catch(() => {}).finally(() => this.onChange());
      return;
    }
    const start = context.currentTime;
    // A two-tone siren, unlike the unit screen's offer alert.
    [1046, 784, 1046, 784].forEach((hz, i) => {
      const osc = context.createOscillator();
      const gain = context.createGain();
      const at = start + i * 0.2;
      osc.type = "sawtooth";
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      osc.connect(gain).connect(context.destination);
      osc.start(at);
      osc.stop(at + 0.19);
    });
  }
}
