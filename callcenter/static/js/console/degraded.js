// The "dispatch degraded" line: shown while the broker does not answer or no worker has
// reported lately (GET /dispatch/status), cleared when both are back.

import { api, page, t } from "./util.js";

const line = document.getElementById("dispatch-degraded");

function describe(status) {
  const parts = [t("dispatch.degraded")];
  if (!status.broker.ok) parts.push(t("dispatch.broker"));
  if (!status.worker.ok) {
    const age = status.worker.age_s;
    parts.push(age === null || age === undefined
      ? t("dispatch.worker_never") : t("dispatch.worker_late", { s: Math.round(age) }));
  }
  parts.push(status.fallback ? t("dispatch.fallback") : t("dispatch.no_fallback"));
  return parts.join(" ");
}

async function look() {
  try {
    const status = await api("GET", "/dispatch/status");
    line.hidden = !status.degraded;
    if (status.degraded) line.textContent = describe(status);
  } catch {
    // No answer at all is the stream indicator's to show; keep the last state.
  }
}

/** Ask now and every `page.dispatchPollS` seconds. */
export function watchDispatch() {
  if (!line) return;
  look();
  setInterval(look, page.dispatchPollS * 1000);
}
