// The server's clock, as this browser can know it. Ages, countdowns and the times stamped on
// position reports must not depend on the device's own clock, which may be minutes off.

let skewMs = 0; // server clock minus this browser's clock
let measured = false; // a measurement better than the Date header has been made

/** Now, in milliseconds since the epoch, by the server's clock. */
export function now() {
  return Date.now() + skewMs;
}

export function secondsSince(iso) {
  return (now() - Date.parse(iso)) / 1000;
}

/** Learn from a response's Date header (whole seconds), unless a better measure is known. */
export function noteDateHeader(response) {
  if (measured) return;
  const date = Date.parse(response.headers.get("Date") || "");
  if (!Number.isNaN(date)) {
    // The header has whole seconds: add half a second, and smooth over responses.
    const sample = date + 500 - Date.now();
    skewMs = Math.abs(sample - skewMs) > 5000 ? sample : skewMs * 0.8 + sample * 0.2;
  }
}

/**
 * Learn from a server time in a response body (`serverIso`), measured between `sentMs` and
 * `receivedMs` on this browser's clock; from then on the Date header is not used.
 */
export function noteServerTime(serverIso, sentMs, receivedMs) {
  const server = Date.parse(serverIso);
  if (Number.isNaN(server)) return;
  skewMs = server - (sentMs + receivedMs) / 2;
  measured = true;
}
