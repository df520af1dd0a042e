// One WhatsApp message as the dispatcher reads it: the reporter's text, pin, photo (inline,
// from our own server), voice note, video or document, or "unsupported" with its WhatsApp
// type; our answers with their delivery status, and a failed send in red with its reason.

import { h } from "../common/dom.js";
import { wib } from "../common/format.js";
import { formatPoint, t } from "./util.js";

// Outgoing statuses that are still on their way, done, or a failure to show.
const PENDING = ["queued", "sending", "retrying"];
const FAILED = ["failed", "refused"];

function media(m) {
  const md = m.media;
  if (!md) return null;
  if (md.status !== "stored") {
    const failed = md.status === "rejected" || md.status === "failed";
    return h("p", { class: "media-state" + (failed ? " bad" : ""), "data-testid": "media-state" },
      t("wa.media_" + md.status), md.error ? " · " + md.error : "");
  }
  if (m.kind === "image" || m.kind === "sticker") {
    return h("a", { href: md.url, target: "_blank", rel: "noopener" },
      h("img", { class: "wa-photo", src: md.url, alt: m.text || t("wa.photo"), loading: "lazy",
        "data-testid": "wa-photo" }));
  }
  if (m.kind === "audio") return h("audio", { controls: true, preload: "none", src: md.url });
  if (m.kind === "video") return h("video", { class: "wa-video", controls: true, preload: "metadata", src: md.url });
  return h("a", { href: md.url, target: "_blank", rel: "noopener", "data-testid": "wa-document" },
    md.filename || t("wa.document"));
}

function deliveryLine(m) {
  const failed = FAILED.includes(m.status);
  const parts = [t("wa.status_" + m.status)];
  if (m.status === "retrying" && m.attempts) parts.push(t("wa.attempt", { n: m.attempts }));
  return h("p", { class: "delivery" + (failed ? " bad" : PENDING.includes(m.status) ? " pending" : ""),
    "data-testid": "delivery", "data-status": m.status },
  parts.join(" · "),
  failed && m.error ? h("span", { class: "reason" }, " — " + (m.error.message || m.error.code)) : null);
}

/**
 * A message as a list item. `actions.pin(m)` adds the buttons of a pin (show it on the
 * map, make it the ticket's point); it returns the nodes to add or null.
 */
export function bubble(m, actions = {}) {
  const out = m.direction === "out";
  const who = out
    ? (m.sender ? m.sender.name : m.auto ? t("wa.auto") : t("actor.system"))
    : null;
  let body;
  if (m.kind === "location" && m.location) {
    body = h("p", { class: "pin-line" }, h("span", { class: "pin-mark", "aria-hidden": "true" }),
      m.location.place ? [h("b", {}, m.location.place), " · "] : null,
      formatPoint(m.location.lat, m.location.lon), actions.pin ? actions.pin(m) : null);
  } else if (m.kind === "unsupported") {
    body = h("p", { class: "unsupported", "data-testid": "wa-unsupported" },
      t("wa.unsupported", { type: m.raw_type || "?" }));
  } else {
    body = [media(m), m.text ? h("p", { class: "text" }, m.text) : null];
  }
  const classes = ["bubble", out ? "out" : "in", "k-" + m.kind];
  if (out && FAILED.includes(m.status)) classes.push("failed");
  if (m.throttled) classes.push("throttled");
  return h("li", { class: classes.join(" "), "data-message-id": m.id, "data-kind": m.kind,
    "data-testid": "wa-message", "data-direction": m.direction },
  h("div", { class: "meta" },
    h("time", { datetime: m.created_at }, wib(m.created_at)),
    who ? h("span", { class: "who" }, who) : null,
    out && m.quick_reply ? h("span", { class: "tag" }, t("wa.quick")) : null,
    out && m.kind === "template" ? h("span", { class: "tag" }, t("wa.template")) : null,
    m.throttled ? h("span", { class: "tag warn" }, t("wa.throttled")) : null),
  body,
  out ? deliveryLine(m) : null);
}
