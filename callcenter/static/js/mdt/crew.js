// The other units on the job: on a ticket that needs several, the unit sees who else is on
// it and how far each one is, and how many are still missing.

import { h, replaceChildren } from "../common/dom.js";
import { T, el, field, fmt } from "./page.js";

export function renderCrew(ticket, assignment) {
  const members = ticket.units || [];
  const others = members.filter((m) => m.assignment_id !== assignment.id);
  const needed = ticket.units_needed || 1;
  el.crew.hidden = needed <= 1 && others.length === 0;
  if (el.crew.hidden) return;
  const done = (ticket.units_accepted || 0) + (ticket.units_cleared || 0);
  field(el.crew, "crew-count").textContent = fmt(T.crew.count, { done, needed });
  const items = others.map((m) =>
    h("li", { dataset: { step: m.step, callsign: m.unit ? m.unit.callsign : "" } },
      h("strong", {}, m.unit ? m.unit.callsign : "?"), " · ", T.crew.step[m.step] || m.step));
  if (ticket.slots_open) items.push(h("li", { class: "mdt-muted" }, fmt(T.crew.waiting, { n: ticket.slots_open })));
  if (!items.length) items.push(h("li", { class: "mdt-muted" }, T.crew.alone));
  replaceChildren(field(el.crew, "crew-list"), items);
}
