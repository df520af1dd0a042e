// The live feed: one EventSource on the API's event stream, for either page.
//
// Every audit event has an id; the browser sends the last one it saw as Last-Event-ID when
// it reconnects on its own, and when this code opens a new connection it asks with
// ?last_event_id=, so a dropped connection never loses an event. Events already seen are
// skipped, so a replay is harmless.
//
// The state, for the page to show: connecting, live, reconnecting, offline (only with
// followNetwork), too_many (this account has its maximum of live screens), busy (the server
// holds all the streams it may), stopped, signed_out.
//
// Each page has a key of its own (`client`): a reconnect of this page takes over its earlier
// stream instead of counting as another screen, and leaving the page gives the stream back.

const ENDED = ["stopped", "signed_out"];
const CLIENT_KEY = Math.random().toString(36).slice(2) + Date.now().toString(36);

export class LiveStream {
  /**
   * @param {string} url the stream's address
   * @param {object} handlers
   *   onEvent(event)      each audit event, once
   *   onPositions(list)   coalesced unit positions (staff streams); without it, not listened to
   *   onState(state)      the state, at start and whenever it changes
   *   onOpen({awayMs})    each time a connection opens; awayMs: how long the feed was down
   *                       (0 the first time): what the page reloads after a gap is its choice
   *   Before opening anew after an error answer, the stream asks `<url>/check` (an
   *   EventSource cannot see a refusal's status): 401 is signed out; 429 (too many screens
   *   for this account) and 503 (server full) wait as the answer's Retry-After says.
   * @param {object} options
   *   lastId         the newest event the page already reflects (0: from when the stream opens)
   *   retryMs        [first, longest] wait before opening anew after the browser gave up;
   *                  the wait doubles after each failure
   *   stallMs        open anew when the browser's own reconnecting has not worked for this
   *                  long (0: leave it to the browser)
   *   followNetwork  show "offline" while the device has no network, and open anew at once
   *                  when the network returns
   */
  constructor(url, handlers, options = {}) {
    const { lastId = 0, retryMs = [1000, 15_000], stallMs = 0, followNetwork = false } = options;
    this.url = url;
    this.handlers = handlers;
    this.lastId = Number(lastId) || 0;
    this.firstRetryMs = retryMs[0];
    this.longestRetryMs = retryMs[1];
    this.retryMs = this.firstRetryMs;
    this.stallMs = stallMs;
    this.followNetwork = followNetwork;
    this.source = null;
    this.state = "connecting";
    this.timer = null; // the next attempt, or the check that the browser's own one worked
    this.lostAt = null; // when the feed went down (Date.now()), while it is down
  }

  start() {
    this.handlers.onState?.(this.state);
    window.addEventListener("pagehide", () => this._release());
    if (this.followNetwork) {
      window.addEventListener("online", () => {
        // A stream that broke while offline may wait long before it retries: start it now.
        if (!ENDED.includes(this.state) && this.state !== "live") this._restart();
      });
      window.addEventListener("offline", () => {
        if (ENDED.includes(this.state)) return;
        this.lostAt = this.lostAt ?? Date.now();
        this._setState("offline");
      });
    }
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
    this._clearTimer();
    const query = new URLSearchParams({ client: CLIENT_KEY });
    if (this.lastId) query.set("last_event_id", this.lastId);
    const url = `${this.url}?${query}`;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    source.onopen = () => {
      if (source !== this.source) return;
      this._clearTimer();
      this.retryMs = this.firstRetryMs;
      const awayMs = this.lostAt === null ? 0 : Date.now() - this.lostAt;
      this.lostAt = null;
      this._setState("live");
      this.handlers.onOpen?.({ awayMs });
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
    if (this.handlers.onPositions) {
      source.addEventListener("positions", (message) => {
        if (source !== this.source) return;
        try {
          this.handlers.onPositions(JSON.parse(message.data).units || []);
        } catch {
          /* a malformed message is dropped; the next one carries the positions again */
        }
      });
    }
    source.onerror = () => {
      if (source !== this.source) return;
      this.lostAt = this.lostAt ?? Date.now();
      this._setState(this.followNetwork && !navigator.onLine ? "offline" : "reconnecting");
      this._clearTimer();
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an error answer): open a new connection ourselves, backing off.
        this.source = null;
        this._retryIn(this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, this.longestRetryMs);
      } else if (this.stallMs) {
        // The browser retries by itself, sending Last-Event-ID; if that does not succeed
        // soon, start afresh.
        this.timer = setTimeout(() => {
          if (this.state !== "live" && navigator.onLine) this._restart();
        }, this.stallMs);
      }
    };
  }

  /** The one place a new attempt is scheduled: after `delayMs`, if it would be let in. */
  _retryIn(delayMs) {
    this._clearTimer();
    this.timer = setTimeout(() => this._retry(), delayMs);
  }

  async _retry() {
    this.timer = null;
    const refusal = await this._admission();
    if (ENDED.includes(this.state) || this.source) return;
    if (refusal === "signed_out") {
      this._close();
      this._setState("signed_out");
      return;
    }
    if (refusal) {
      this._setState(refusal.state);
      this._retryIn(refusal.waitMs);
      return;
    }
    this._open();
  }

  /** Why a new connection would be refused now: "signed_out", {state, waitMs}, or null. */
  async _admission() {
    let response;
    try {
      response = await fetch(`${this.url}/check?client=${CLIENT_KEY}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
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

  /** Give this page's stream back at once (the page is going away). */
  _release() {
    const form = new FormData();
    form.append("client", CLIENT_KEY);
    const csrf = document.querySelector('meta[name="csrf-token"]');
    if (csrf) form.append("csrf_token", csrf.content);
    navigator.sendBeacon?.(`${this.url}/release`, form);
  }

  /** A new connection without a new state: the page keeps showing why the feed is down. */
  _restart() {
    this._close();
    this._open();
  }

  _close() {
    this._clearTimer();
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  _clearTimer() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.handlers.onState?.(state);
  }
}
