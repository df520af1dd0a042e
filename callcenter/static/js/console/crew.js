// The units on a ticket as the board shows them: "1/3 unit" (accepted or cleared, of those
// needed) with the offers still waiting, marked while the ticket is short; and each unit's
// callsign by how far it is.

import { h } from "../common/dom.js";
import { t } from "./util.js";

/** How far a ticket's units are: {done, needed, offered, open}. */
export function crewCount(ticket) {
  return {
    done: (ticket.units_accepted || 0) + (ticket.units_cleared || 0),
    needed: ticket.units_needed || 1,
    offered: ticket.units_offered || 0,
    open: ticket.slots_open || 0,
  };
}

/** "1/3 unit", and "· 2 offered" while offers wait; `short` while fewer have accepted. */
export function crewBadge(ticket) {
  const c = crewCount(ticket);
  const short = Boolean(ticket.flags && ticket.flags.short);
  return h("span", {
    class: "crew " + (short ? "short" : "full"),
    "data-testid": "row-units",
    "data-done": c.done,
    "data-needed": c.needed,
    title: t("crew.title", c),
  },
  h("b", {}, t("crew.count", c)),
  c.offered ? h("span", { class: "crew-offers" }, " · " + t("crew.offered", { n: c.offered })) : null);
}

/** The callsigns on the ticket, each marked with its unit's step (offered ones in italics). */
export function crewCallsigns(ticket) {
  return (ticket.units || []).map((m) =>
    h("span", { class: "unit step-" + m.step, title: t("step." + m.step) }, m.unit ? m.unit.callsign : "?"));
}

/** A unit's step in words ("offered", "accepted", "en route", "on scene"). */
export function stepLabel(member) {
  return t("step." + member.step);
}
