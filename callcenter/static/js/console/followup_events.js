// Hand-off, agency and call-back events as people read them (the activity feed and the timeline).

import { t } from "./util.js";

const OUTCOME_KEYS = { no_answer: "callback.no_answer", prank: "callback.prank",
  wrong_number: "callback.wrong_number", genuine: "callback.genuine" };

/** One line about a hand-off or call-back event, or null for other events. */
export function describeFollowup(event, no) {
  const d = event.data || {};
  const agency = d.agency_name || d.agency || "";
  switch (event.type) {
    case "handoff.created":
      return no + t("ev.handoff_created", { agency }) + (d.note ? " · " + d.note : "");
    case "handoff.acknowledged":
      return no + t("ev.handoff_acknowledged", { agency, by: d.by || "" })
        + (d.reference ? " · " + t("handoff.reference", { reference: d.reference }) : "");
    case "handoff.escalated":
      return no + t("ev.handoff_escalated", { agency });
    case "callback.created":
      return no + t("ev.callback_created", { phone: d.phone || t("callback.no_number") });
    case "callback.attempted":
      return no + t("ev.callback_attempted", { outcome: t(OUTCOME_KEYS[d.outcome] || d.outcome) })
        + (d.result_number ? " → " + d.result_number : "") + (d.note ? " · " + d.note : "");
    case "callback.closed":
      return no + t("ev.callback_closed", { reason: t("cbreason." + d.reason) });
    case "callback.overdue":
      return no + t("ev.callback_overdue", { phone: d.phone || "" });
    case "agency.updated":
      return t("ev.agency_updated", { agency });
    case "eido.received":
    case "eido.updated": {
      const key = event.type === "eido.received" ? "ev.eido_received" : "ev.eido_updated";
      const units = (d.units || []).map((u) => u.name || u.id).join(", ");
      return no + t(key, { source: d.source || "?" })
        + (units ? " · " + t("ev.eido_units", { units }) : "");
    }
    default:
      return null;
  }
}
