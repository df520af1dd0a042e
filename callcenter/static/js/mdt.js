/* The unit's screen (MDT): the current offer or job, own status, recent jobs, and position
 * sharing. State comes from the JSON API; the unit's live stream (SSE) says when to look again.
 * Built for a phone on a bad mobile network: every request may fail, and the page says so. */
(() => {
  "use strict";

  const cfg = JSON.parse(document.getElementById("mdt-config").textContent);
  const T = cfg.strings;
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
  const BUSY = ["dispatched", "en_route", "on_scene"];
  const QUEUE_KEY = "mdt.positions." + cfg.unit.id;
  const QUEUE_MAX = 2000;
  const POSITION_EVERY_MS = 10000; // at most one report per 10 s while moving
  const POSITION_HEARTBEAT_MS = 30000; // a fresh fix at least every 30 s, moving or not
  const POSITION_MOVE_M = 30;

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const field = (root, name) => $(`[data-field="${name}"]`, root);

  const el = {
    status: $('[data-testid="unit-status"]'),
    conn: $('[data-testid="conn-state"]'),
    gps: $('[data-testid="gps-state"]'),
    message: $('[data-testid="message"]'),
    soundHint: $('[data-testid="sound-hint"]'),
    offer: $('[data-testid="offer"]'),
    countdown: $('[data-testid="countdown"]'),
    accept: $('[data-testid="accept"]'),
    decline: $('[data-testid="decline"]'),
    declineForm: $('[data-testid="decline-form"]'),
    job: $('[data-testid="job"]'),
    clearForm: $('[data-testid="clear-form"]'),
    idle: $('[data-testid="idle"]'),
    statusHint: $('[data-field="status-hint"]'),
    jobs: $('[data-testid="jobs"]'),
  };

  const state = {
    unit: null,
    assignment: null,
    ticket: null,
    clockOffsetMs: 0, // server clock minus this device's clock
    loaded: false,
    alerted: new Set(), // assignment ids already announced
    expectingEnd: null, // an assignment this screen itself just ended (no "withdrawn" notice)
    busy: false, // a request from a button is on its way
  };

  // --- words and numbers -------------------------------------------------------------------

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
  }

  const wibFormat = new Intl.DateTimeFormat(cfg.locale === "en" ? "en-GB" : "id-ID", {
    timeZone: "Asia/Jakarta",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  const wibTime = new Intl.DateTimeFormat(cfg.locale === "en" ? "en-GB" : "id-ID", {
    timeZone: "Asia/Jakarta",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const wib = (iso, short = false) =>
    iso ? (short ? wibTime : wibFormat).format(new Date(iso)) + " WIB" : "";
  const km = (m) =>
    (m / 1000).toLocaleString(cfg.locale === "en" ? "en-GB" : "id-ID", {
      maximumFractionDigits: 1,
    });
  const label = (value) => (value && typeof value === "object" ? value[cfg.locale] || value.id : value || "");
  const serverNow = () => Date.now() + state.clockOffsetMs;

  function showMessage(text, kind = "error") {
    el.message.textContent = text;
    el.message.dataset.kind = kind;
    el.message.hidden = !text;
    if (kind !== "error") {
      clearTimeout(showMessage.timer);
      showMessage.timer = setTimeout(() => {
        if (el.message.textContent === text) el.message.hidden = true;
      }, 8000);
    }
  }

  // --- the API ----------------------------------------------------------------------------

  /** A JSON request; resolves to {ok, status, data} or, when the network failed, {status: 0}. */
  async function api(method, path, body) {
    const options = {
      method,
      credentials: "same-origin",
      // The API answers (and refuses) in the page's language, whatever the browser's is.
      headers: { Accept: "application/json", "Accept-Language": cfg.locale },
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken;
    let response;
    try {
      response = await fetch(cfg.api + path, options);
    } catch (err) {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (response.status === 401) signedOut();
    return { ok: response.ok, status: response.status, data };
  }

  function signedOut() {
    showMessage(T.signedOut);
    setTimeout(() => window.location.assign(cfg.loginUrl), 1500);
  }

  function errorText(result) {
    if (result.status === 0) return T.networkError;
    const error = result.data && result.data.error;
    if (error && error.fields) {
      const details = Object.values(error.fields).join(" ");
      return details ? `${error.message} ${details}` : error.message;
    }
    return (error && error.message) || T.serverError;
  }

  // --- the current job ---------------------------------------------------------------------

  let refreshing = null;
  let refreshAgain = false;

  /** Load the unit, its offer or job and the server's clock; concurrent calls coalesce. */
  function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        const sent = Date.now();
        const result = await api("GET", "/units/me/assignment");
        const received = Date.now();
        if (!result.ok) break;
        const body = result.data;
        state.clockOffsetMs = Date.parse(body.server_time) - (sent + received) / 2;
        const before = state.assignment;
        state.unit = body.unit;
        state.assignment = body.assignment;
        state.ticket = body.ticket;
        state.loaded = true;
        if (pendingFix) {
          const fix = pendingFix;
          pendingFix = null;
          setTimeout(() => onFix(fix, true));
        }
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

  function endWords(job) {
    if (job.status === "expired") return T.offerExpired;
    if (job.status === "completed") return T.closedByCenter; // not cleared from this screen
    if (job.status === "cancelled") {
      const why = {
        ticket_cancelled: T.ticketCancelled,
        reassigned: T.reassigned,
        closed: T.closedByCenter,
      };
      return why[job.end_reason] || T.offerWithdrawn;
    }
    return T.offerWithdrawn;
  }

  let jobsLoading = null;

  /** Draw the recent jobs; resolves to the list (or null when it could not be loaded). */
  function loadJobs() {
    if (!jobsLoading) {
      jobsLoading = api("GET", "/units/me/jobs")
        .then((result) => {
          if (!result.ok) return null;
          drawJobs(result.data);
          return result.data;
        })
        .finally(() => {
          jobsLoading = null;
        });
    }
    return jobsLoading;
  }

  function drawJobs(jobs) {
    if (!jobs.length) {
      const empty = document.createElement("li");
      empty.className = "mdt-muted";
      empty.textContent = T.noJobs;
      el.jobs.replaceChildren(empty);
      return;
    }
    el.jobs.replaceChildren(
      ...jobs.slice(0, 10).map((job) => {
        const item = document.createElement("li");
        item.dataset.status = job.status;
        const head = document.createElement("div");
        head.className = "mdt-job-line";
        const number = document.createElement("strong");
        number.textContent = job.ticket.number;
        const status = document.createElement("span");
        status.className = "mdt-job-status";
        status.textContent = T.assignmentStatus[job.status] || job.status;
        head.append(number, status);
        const what = document.createElement("div");
        what.textContent = [label(job.ticket.category_label), job.ticket.address]
          .filter(Boolean)
          .join(" · ");
        const when = document.createElement("div");
        when.className = "mdt-muted";
        when.textContent = wib(job.offered_at);
        item.append(head, what, when);
        return item;
      })
    );
  }

  // --- drawing -------------------------------------------------------------------------------

  function fillTicket(root, ticket, assignment) {
    const priority = field(root, "priority");
    priority.textContent = T.priority[String(ticket.priority)] || `P${ticket.priority}`;
    priority.dataset.priority = ticket.priority;
    field(root, "category").textContent = label(ticket.category_label) || ticket.category;
    const location = ticket.location || {};
    field(root, "address").textContent = location.address || T.noAddress;
    field(root, "summary").textContent = ticket.summary || "";
    field(root, "meta").textContent = `${ticket.number} · ${wib(ticket.created_at)}`;
    const distance = field(root, "distance");
    if (distance) {
      const away = assignment.distance_m == null ? null : km(assignment.distance_m);
      const minutes = assignment.eta_s ? Math.max(1, Math.round(assignment.eta_s / 60)) : null;
      distance.textContent =
        away == null
          ? ""
          : minutes
            ? fmt(T.distance, { km: away, min: minutes })
            : fmt(T.distanceOnly, { km: away });
    }
  }

  function render() {
    const unit = state.unit;
    if (unit) {
      el.status.textContent = T.unitStatus[unit.status] || unit.status;
      el.status.dataset.status = unit.status;
      const busy = BUSY.includes(unit.status);
      for (const button of $$("[data-set-status]")) {
        const pressed = button.dataset.setStatus === unit.status;
        button.setAttribute("aria-pressed", String(pressed));
        button.disabled = busy || state.busy;
      }
      el.statusHint.hidden = !(busy || unit.status_reason === "offer_expired");
      el.statusHint.textContent = busy ? T.busyStatus : T.unavailableExpired;
    }
    const a = state.assignment;
    const offered = a && a.status === "offered";
    const working = a && a.status === "accepted";
    el.offer.hidden = !offered;
    el.job.hidden = !working;
    el.idle.hidden = Boolean(a);
    if (!a && unit) {
      field(el.idle, "idle-text").textContent =
        unit.status === "available" ? T.idleAvailable : T.idleNotAvailable;
    }
    if (offered) {
      fillTicket(el.offer, state.ticket, a);
      tick();
    } else {
      el.declineForm.hidden = true;
      field(el.offer, "answer").hidden = false;
    }
    if (working) {
      renderJob(state.ticket);
    } else {
      el.clearForm.hidden = true;
    }
    $('[data-field="steps"]', el.job).hidden = working && !el.clearForm.hidden;
    el.accept.disabled = el.decline.disabled = state.busy;
    for (const button of $$("[data-step], .mdt-reason, [data-testid=clear-submit]")) {
      button.disabled = state.busy;
    }
  }

  function renderJob(ticket) {
    fillTicket(el.job, ticket, state.assignment);
    field(el.job, "number").textContent = ticket.number;
    field(el.job, "step").textContent = T.jobStep[ticket.status] || ticket.status;
    el.job.dataset.step = ticket.status;
    const location = ticket.location || {};
    const geo = $('[data-testid="nav-geo"]', el.job);
    const route = $('[data-testid="nav-route"]', el.job);
    const map = $('[data-testid="nav-map"]', el.job);
    if (location.lat != null) {
      const ll = `${location.lat},${location.lon}`;
      const name = encodeURIComponent(location.address || ticket.number);
      geo.href = `geo:${ll}?q=${ll}(${name})`; // the phone's own navigation app
      route.href = `https://www.google.com/maps/dir/?api=1&destination=${ll}&travelmode=driving`;
      map.href =
        `https://www.openstreetmap.org/?mlat=${location.lat}&mlon=${location.lon}` +
        `#map=17/${location.lat}/${location.lon}`;
      geo.hidden = route.hidden = map.hidden = false;
    } else {
      geo.hidden = route.hidden = map.hidden = true;
    }
    const call = $('[data-testid="call-caller"]', el.job);
    const caller = ticket.caller || {};
    call.hidden = !caller.phone;
    if (caller.phone) call.href = `tel:${caller.phone}`;
    field(el.job, "caller").textContent = caller.phone
      ? `${T.caller}: ${[caller.name, caller.phone_display || caller.phone].filter(Boolean).join(" · ")}`
      : T.callerUnknown;
    const next = { acknowledged: "en_route", en_route: "on_scene", on_scene: "cleared" }[ticket.status];
    for (const button of $$("[data-step]", el.job)) {
      const step = button.dataset.step;
      const done =
        (step === "en_route" && ticket.status !== "acknowledged") ||
        (step === "on_scene" && ticket.status === "on_scene");
      button.hidden = done;
      button.classList.toggle("mdt-primary", step === next);
    }
  }

  // --- the countdown ------------------------------------------------------------------------

  function tick() {
    const a = state.assignment;
    if (!a || a.status !== "offered") return;
    const left = Math.max(0, Math.ceil((Date.parse(a.deadline_at) - serverNow()) / 1000));
    el.countdown.textContent =
      left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` : T.offerTimeUp;
    el.countdown.dataset.urgent = String(left <= 10);
    el.countdown.dataset.left = String(left);
  }
  setInterval(tick, 250);

  // --- the alert: sound and vibration where the browser allows -----------------------------

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
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });

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
      } catch (err) {
        /* not allowed here */
      }
    }
  }

  /** A new offer: sound and vibration now and every few seconds until it is answered. */
  function announce(assignmentId) {
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

  function stopAlarm() {
    clearInterval(alarmTimer);
    alarmTimer = null;
    delete el.offer.dataset.alerting;
    document.title = document.title.replace(/^● .*? · /, "");
    if (navigator.vibrate) {
      try {
        navigator.vibrate(0);
      } catch (err) {
        /* ignore */
      }
    }
  }

  // --- answering and working the job -------------------------------------------------------

  /** Send an answer or a step for the job on screen. A refusal (409) is shown in the
   * server's words; the screen then shows what is true now. */
  async function act(path, body, success, { ends = false } = {}) {
    if (state.busy) return null;
    state.busy = true;
    render();
    const assignment = state.assignment;
    // Whatever happens to this job now, this screen says why itself.
    if (assignment) state.expectingEnd = assignment.id;
    const result = await api("POST", path, body);
    state.busy = false;
    if (result.ok) {
      if (success) showMessage(success, "ok");
      if (!ends) state.expectingEnd = null;
    } else {
      showMessage(errorText(result));
      if (result.status !== 409 && result.status !== 404) state.expectingEnd = null;
    }
    if (result.status !== 0) await refresh();
    else render();
    loadJobs();
    return result;
  }

  el.accept.addEventListener("click", () => {
    const a = state.assignment;
    if (!a) return;
    stopAlarm();
    act(`/assignments/${a.id}/accept`, undefined, T.accepted);
  });

  el.decline.addEventListener("click", () => {
    field(el.offer, "answer").hidden = true;
    el.declineForm.hidden = false;
  });
  $('[data-action="decline-back"]').addEventListener("click", () => {
    el.declineForm.hidden = true;
    field(el.offer, "answer").hidden = false;
  });
  el.declineForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const a = state.assignment;
    const reason = event.submitter && event.submitter.value;
    if (!a || !reason) return;
    stopAlarm();
    act(`/assignments/${a.id}/decline`, { reason }, T.declined, { ends: true });
  });

  for (const button of $$("[data-step]")) {
    button.addEventListener("click", () => {
      const a = state.assignment;
      if (!a) return;
      const step = button.dataset.step;
      if (step === "cleared") {
        $('[data-field="steps"]', el.job).hidden = true;
        el.clearForm.hidden = false;
        $("#mdt-resolution").focus();
        return;
      }
      act(`/assignments/${a.id}/progress`, { status: step }, step === "en_route" ? T.wentEnRoute : T.wentOnScene);
    });
  }
  $('[data-action="clear-back"]').addEventListener("click", () => {
    el.clearForm.hidden = true;
    $('[data-field="steps"]', el.job).hidden = false;
  });
  el.clearForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const a = state.assignment;
    if (!a) return;
    const resolution = $("#mdt-resolution").value;
    const select = $("#mdt-resolution");
    select.classList.toggle("invalid", !resolution);
    if (!resolution) {
      showMessage(T.chooseResolution);
      return;
    }
    const note = $("#mdt-note").value.trim();
    const result = await act(
      `/assignments/${a.id}/progress`,
      { status: "cleared", resolution, ...(note ? { note } : {}) },
      T.cleared,
      { ends: true }
    );
    if (result && result.ok) {
      el.clearForm.reset();
      el.clearForm.hidden = true;
      $('[data-field="steps"]', el.job).hidden = false;
    }
  });

  for (const button of $$("[data-set-status]")) {
    button.addEventListener("click", async () => {
      if (state.busy) return;
      const status = button.dataset.setStatus;
      state.busy = true;
      render();
      const result = await api("PUT", "/units/me/status", { status });
      state.busy = false;
      if (result.ok) {
        state.unit = result.data;
        showMessage(fmt(T.statusChanged, { status: T.unitStatus[status] }), "ok");
      } else {
        showMessage(errorText(result));
      }
      render();
      if (result.ok && status === "available") sendFreshPosition();
    });
  }

  // --- the live stream ---------------------------------------------------------------------

  let source = null;
  let lastEventId = null;
  let retryMs = 2000;
  let reconnectTimer = null;
  let pollTimer = null;

  function setConnection(name) {
    el.conn.dataset.state = name;
    el.conn.textContent = T.conn[name];
    // While the stream is down, look every 15 s so an offer is not missed.
    if (name === "online") {
      clearInterval(pollTimer);
      pollTimer = null;
    } else if (!pollTimer) {
      pollTimer = setInterval(() => refresh(), 15000);
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (source) source.close();
    // The tab's key lets a reconnect take over this tab's earlier stream (not count twice).
    const query = new URLSearchParams({ client: clientKey });
    if (lastEventId) query.set("last_event_id", lastEventId);
    source = new EventSource(`${cfg.api}/events/stream?${query}`);
    source.onopen = () => {
      retryMs = 2000;
      setConnection("online");
      refresh(); // whatever happened while the stream was down
      loadJobs();
    };
    source.onmessage = (message) => {
      if (message.lastEventId) lastEventId = message.lastEventId;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      onEvent(event);
    };
    source.onerror = () => {
      setConnection(navigator.onLine ? "reconnecting" : "offline");
      clearTimeout(reconnectTimer);
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an error answer): check the session, then try again later.
        source = null;
        reconnectTimer = setTimeout(retryStream, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      } else {
        // The browser retries by itself; if that does not succeed soon, start afresh.
        reconnectTimer = setTimeout(() => {
          if (el.conn.dataset.state !== "online" && navigator.onLine) connect();
        }, 10000);
      }
    };
  }

  // This page's key: a reconnect takes over its earlier stream instead of counting as
  // another screen; leaving the page gives the stream back at once.
  const clientKey = Math.random().toString(36).slice(2) + Date.now().toString(36);
  window.addEventListener("pagehide", () => {
    const form = new FormData();
    form.append("client", clientKey);
    form.append("csrf_token", csrfToken);
    if (navigator.sendBeacon) navigator.sendBeacon(`${cfg.api}/events/stream/release`, form);
  });

  // After a refused connection: signed out (401) stops; too many screens (429) or a full
  // server (503) waits as long as the answer's Retry-After says; otherwise connect again.
  async function retryStream() {
    let response;
    try {
      response = await fetch(`${cfg.api}/events/stream/check?client=${clientKey}`, {
        credentials: "same-origin",
      });
    } catch (err) {
      connect();
      return;
    }
    if (response.status === 401) {
      signedOut();
    } else if (response.status === 429 || response.status === 503) {
      setConnection(response.status === 429 ? "too_many" : "busy");
      const seconds = Number(response.headers.get("Retry-After")) || 5;
      reconnectTimer = setTimeout(retryStream, Math.min(Math.max(seconds, 1), 60) * 1000);
    } else {
      connect();
    }
  }

  let eventRefreshTimer = null;
  function onEvent(event) {
    const data = event.data || {};
    if (event.type === "assignment.offered") {
      announce(data.assignment_id);
      refresh();
    } else if (event.type === "ticket.updated" && state.ticket && event.ticket_id === state.ticket.id) {
      showMessage(T.ticketUpdated, "info");
    }
    if (event.type.startsWith("assignment.")) loadJobs();
    clearTimeout(eventRefreshTimer);
    eventRefreshTimer = setTimeout(refresh, 150);
  }

  window.addEventListener("online", () => {
    // A stream that broke while offline may wait long before it retries: start it now.
    if (el.conn.dataset.state !== "online") connect();
    flushPositions();
  });
  window.addEventListener("offline", () => setConnection("offline"));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      refresh();
      keepAwake();
    }
  });

  // --- position sharing: queued in localStorage, sent in order, each report once ---------

  function loadQueue() {
    try {
      const queue = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(queue) ? queue : [];
    } catch (err) {
      return [];
    }
  }

  function saveQueue(queue) {
    try {
      localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    } catch (err) {
      /* storage full: the oldest reports go first */
      queue.splice(0, Math.ceil(queue.length / 2));
      try {
        localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
      } catch (err2) {
        /* nothing more to do */
      }
    }
  }

  let lastQueued = null;
  let lastSentAt = null;
  let gpsState = "starting";

  /** Queue one report; ``recordedAt`` (ms since the epoch) is when the device measured it. */
  function enqueuePosition(lat, lon, accuracy, recordedAt) {
    const report = {
      lat,
      lon,
      recorded_at: new Date(recordedAt).toISOString(),
    };
    if (accuracy != null && Number.isFinite(accuracy)) report.accuracy_m = Math.round(accuracy * 10) / 10;
    const queue = loadQueue();
    const tail = queue.length ? queue[queue.length - 1] : null;
    if (tail && Date.parse(tail.recorded_at) >= recordedAt) return false; // not newer
    queue.push(report);
    if (queue.length > QUEUE_MAX) queue.splice(0, queue.length - QUEUE_MAX);
    saveQueue(queue);
    lastQueued = { lat, lon, at: recordedAt };
    renderGps();
    flushPositions();
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

  let lastFixTimestamp = null;
  let pendingFix = null;

  function onFix(position, force = false) {
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
    const recordedAt = Math.round(serverNow() - age);
    if (lastQueued && !force) {
      const moved = distanceM(lastQueued.lat, lastQueued.lon, latitude, longitude);
      const elapsed = recordedAt - lastQueued.at;
      if (elapsed < POSITION_EVERY_MS && !(moved >= POSITION_MOVE_M && elapsed >= 2000)) {
        renderGps();
        return;
      }
    }
    enqueuePosition(latitude, longitude, accuracy, recordedAt);
  }

  function onGpsError(error) {
    gpsState = error && error.code === 1 ? "denied" : gpsState === "on" ? "on" : "unavailable";
    renderGps();
  }

  function sendFreshPosition() {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition((p) => onFix(p, true), onGpsError, {
      enableHighAccuracy: true,
      maximumAge: 5000,
      timeout: 20000,
    });
  }

  function startGps() {
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
      if (!lastQueued || Date.now() + state.clockOffsetMs - lastQueued.at >= POSITION_HEARTBEAT_MS) {
        sendFreshPosition();
      }
    }, 5000);
  }

  function renderGps() {
    const waiting = loadQueue().length;
    const parts = [T.gps[gpsState]];
    if (lastSentAt) parts.push(fmt(T.gps.sent, { time: wib(lastSentAt, true) }));
    if (waiting) parts.push(fmt(T.gps.waiting, { n: waiting }));
    el.gps.textContent = parts.join(" · ");
    el.gps.dataset.state = gpsState;
    el.gps.dataset.waiting = String(waiting);
  }

  let flushing = false;
  let flushTimer = null;
  let flushRetryMs = 2000;

  let flushAgain = false;

  function flushPositions() {
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
      renderGps();
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
      const result = await api("POST", "/units/me/location", head);
      const settled = result.ok || result.status === 409 || result.status === 422;
      if (!settled) {
        if (result.status !== 401) {
          flushTimer = setTimeout(flushPositions, flushRetryMs);
          flushRetryMs = Math.min(flushRetryMs * 2, 10000);
        }
        return;
      }
      flushRetryMs = 2000;
      const now = loadQueue();
      if (now.length && now[0].recorded_at === head.recorded_at) now.shift();
      saveQueue(now);
      if (result.ok) lastSentAt = new Date().toISOString();
      renderGps();
    }
  }

  // --- keep the screen on while the page is in front (where the browser allows) ----------

  async function keepAwake() {
    try {
      if (navigator.wakeLock && document.visibilityState === "visible") {
        await navigator.wakeLock.request("screen");
      }
    } catch (err) {
      /* not allowed: the phone's own settings decide */
    }
  }

  // --- start -------------------------------------------------------------------------------

  el.soundHint.addEventListener("click", unlockAudio);
  // Browsers keep sound off until the first tap: ask for that tap before an offer comes.
  const context = audioContext();
  if (context && context.state !== "running") el.soundHint.hidden = false;
  // A hook for tests and for checking a device by hand.
  window.mdt = {
    enqueuePosition,
    fix: (lat, lon, accuracy, timestamp) =>
      onFix({ coords: { latitude: lat, longitude: lon, accuracy }, timestamp }, true),
    flushPositions,
    queue: loadQueue,
    state,
  };

  setConnection("connecting");
  renderGps();
  refresh().then(loadJobs);
  connect();
  startGps();
  flushPositions();
  keepAwake();
})();
