// The live feed: one EventSource on /api/v1/events/stream.
//
// Every audit event has an id; the browser sends the last one it saw as Last-Event-ID when
// it reconnects on its own, and when this code opens a new connection it asks with
// ?last_event_id=, so a dropped connection never loses an event. Events already seen are
// skipped, so a replay is harmless.

const URL_PATH = "/api/v1/events/stream";
// Says whether a stream would be let in now (EventSource hides a refusal's status).
const CHECK_PATH = "/api/v1/events/stream/check";

/** This page's key: a reconnect of this page takes over its earlier stream instead of
 * counting as another screen; leaving the page gives the stream back at once. */
const CLIENT_KEY = Math.random().toString(36).slice(2) + Date.now().toString(36);

addEventListener("pagehide", () => {
  const form = new FormData();
  form.append("client", CLIENT_KEY);
  const csrf = document.querySelector('meta[name="csrf-token"]');
  if (csrf) form.append("csrf_token", csrf.content);
  navigator.sendBeacon?.(`${URL_PATH}/release`, form);
});

export class LiveStream {
  /**
   * @param {number} lastId   the newest event the page already reflects
   * @param {object} handlers onEvent(event), onPositions(list), onState(state), onResync()
   *   (states: connecting, live, reconnecting, too_many, busy, signed_out, stopped)
   */
  constructor(lastId, handlers) {
    this.lastId = lastId || 0;
    this.handlers = handlers;
    this.source = null;
    this.state = "connecting";
    this.retryMs = 1000;
    this.retryTimer = null;
    this.lostAt = null;
  }

  start() {
    this._open();
  }

  /** Drop the connection and open a new one at once (resuming after the last event). */
  reconnect() {
    this._close();
    this._setState("reconnecting");
    this.lostAt = this.lostAt ?? Date.now();
    this._open();
  }

  stop() {
    this._close();
    this._setState("stopped");
  }

  _open() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const query = new URLSearchParams({ client: CLIENT_KEY });
    if (this.lastId) query.set("last_event_id", this.lastId);
    const url = `${URL_PATH}?${query}`;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    source.onopen = () => {
      if (source !== this.source) return;
      this.retryMs = 1000;
      const away = this.lostAt === null ? 0 : Date.now() - this.lostAt;
      this.lostAt = null;
      this._setState("live");
      // After a long gap, reload the lists too (the replay covers it; this is belt and braces).
      if (away > 60_000) this.handlers.onResync?.();
    };
    source.onmessage = (message) => {
      if (source !== this.source) return;
      const id = Number(message.lastEventId);
      if (id && id <= this.lastId) return; // seen already (a replay)
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (id) this.lastId = id;
      this.handlers.onEvent(event);
    };
    source.addEventListener("positions", (message) => {
      if (source !== this.source) return;
      try {
        this.handlers.onPositions(JSON.parse(message.data).units || []);
      } catch {
        /* a malformed message is dropped; the next one carries the positions again */
      }
    });
    source.onerror = () => {
      if (source !== this.source) return;
      this.lostAt = this.lostAt ?? Date.now();
      this._setState("reconnecting");
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an error answer): open a new connection ourselves, backing off.
        this.source = null;
        this.retryTimer = setTimeout(() => this._retry(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 15_000);
      }
      // Otherwise the browser reconnects by itself, sending Last-Event-ID.
    };
  }

  async _retry() {
    const refusal = await this._admission();
    if (refusal === "signed_out") {
      this._setState("signed_out");
      return;
    }
    if (refusal) {
      // Too many screens for this account (429) or the server is full (503): wait as told.
      this._setState(refusal.state);
      this.retryTimer = setTimeout(() => this._retry(), refusal.waitMs);
      return;
    }
    this._open();
  }

  /** Why a new connection would be refused now: "signed_out", {state, waitMs}, or null. */
  async _admission() {
    let response;
    try {
      response = await fetch(`${CHECK_PATH}?client=${CLIENT_KEY}`, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
    } catch {
      return null; // no answer: try the stream itself
    }
    if (response.status === 401) return "signed_out";
    if (response.status === 429 || response.status === 503) {
      const seconds = Number(response.headers.get("Retry-After")) || 5;
      return {
        state: response.status === 429 ? "too_many" : "busy",
        waitMs: Math.min(Math.max(seconds, 1), 60) * 1000,
      };
    }
    return null;
  }

  _close() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.handlers.onState?.(state);
  }
}
