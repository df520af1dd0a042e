// The JSON API (/api/v1) as both pages call it: the session cookie with the page's CSRF
// token, or a bearer token; answers in the page's language; refusals as ApiError, read from
// the API's error shape {"error": {"code", "message", "fields"?}}.

import { noteDateHeader } from "./clock.js";

/** A refused or failed call. `status` is 0 when no answer came (the network). */
export class ApiError extends Error {
  constructor(status, error, fallback) {
    super(error.message || fallback);
    this.status = status;
    this.code = error.code;
    this.fields = error.fields || {};
  }
}

const SAFE = ["GET", "HEAD", "OPTIONS"];

/**
 * A client for one page.
 *   base      where the API is ("/api/v1", or under the application's script root)
 *   messages  {network, generic}: the words for no answer, and for a refusal without words
 *   token     a bearer token to send instead of the session's CSRF token (for a device)
 * Returns {api, onSessionEnded, signedIn}:
 *   api(method, path, body?, headers?)  resolves to the answer's JSON (null when it has
 *                                       none); rejects with ApiError
 *   onSessionEnded(fn)                  calls `fn` on every 401 answer
 *   signedIn()                          true, false (a 401), or null when it cannot be told
 */
export function createApi({ base = "/api/v1", messages, token = null }) {
  const locale = document.documentElement.lang;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : null;
  const sessionListeners = [];

  async function api(method, path, body, headers = {}) {
    const init = {
      method,
      credentials: "same-origin",
      // The API answers, and refuses, in the page's language, whatever the browser's is.
      headers: { Accept: "application/json", "Accept-Language": locale, ...headers },
    };
    if (token) init.headers.Authorization = "Bearer " + token;
    // A token is not a cookie a browser sends by itself: only the session needs CSRF.
    else if (csrfToken && !SAFE.includes(method)) init.headers["X-CSRFToken"] = csrfToken;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(base + path, init);
    } catch {
      throw new ApiError(0, { code: "network", message: messages.network });
    }
    noteDateHeader(response);
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      if (response.status === 401) sessionListeners.forEach((fn) => fn());
      throw new ApiError(response.status, (data && data.error) || { code: "error" }, messages.generic);
    }
    return data;
  }

  function onSessionEnded(fn) {
    sessionListeners.push(fn);
  }

  async function signedIn() {
    try {
      await api("GET", "/auth/me");
      return true;
    } catch (err) {
      return err.status === 401 ? false : null;
    }
  }

  return { api, onSessionEnded, signedIn };
}

/** A random key for `Idempotency-Key` (works on plain http too, unlike randomUUID). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
