// What the screen knows: the open tickets and the units, kept current from the API.
//
// The stream says *that* something changed; the store fetches the thing again (the
// database decides). Fetches are coalesced per ticket and unit, and each answer carries a
// sequence number so that an older answer never overwrites a newer one.

import { OPEN_STATUSES, api } from "./util.js";

export const tickets = new Map(); // id -> ticket (open ones only)
export const units = new Map(); // id -> unit (in service)

const listeners = new Set();
let seq = 0;
const appliedTicket = new Map(); // id -> sequence of the answer shown
const appliedUnit = new Map();
const dirtyTickets = new Set();
const dirtyUnits = new Set();
let flushTimer = null;
const BULK = 15; // more changed rows than this: reload the whole list instead

/** `fn(kind, id, object)` after each change; kind is "ticket", "unit", "positions" or "all". */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(kind, id, object) {
  for (const fn of listeners) {
    try {
      fn(kind, id, object);
    } catch (err) {
      console.error(err);
    }
  }
}

/** Draw a ticket again: something this screen keeps about it (not the server) changed. */
export function redraw(id) {
  emit("ticket", id, tickets.get(id) ?? null);
}

/** Show a ticket (from any answer), unless a newer answer about it was already shown. */
export function applyTicket(ticket, answerSeq = ++seq) {
  if ((appliedTicket.get(ticket.id) ?? -1) > answerSeq) return;
  appliedTicket.set(ticket.id, answerSeq);
  if (OPEN_STATUSES.includes(ticket.status)) tickets.set(ticket.id, ticket);
  else tickets.delete(ticket.id);
  emit("ticket", ticket.id, ticket);
}

export function applyUnit(unit, answerSeq = ++seq) {
  if ((appliedUnit.get(unit.id) ?? -1) > answerSeq) return;
  appliedUnit.set(unit.id, answerSeq);
  const known = units.get(unit.id);
  // A position from the stream may be newer than the one in this answer.
  if (known && later(known.position_at, unit.position_at)) {
    unit.location = known.location;
    unit.position_at = known.position_at;
  }
  // A retired unit is out of service for good: it leaves the board and the map.
  if (unit.retired) units.delete(unit.id);
  else units.set(unit.id, unit);
  emit("unit", unit.id, unit);
}

function later(a, b) {
  return Boolean(a && b && Date.parse(a) > Date.parse(b));
}

async function fetchAll(path) {
  const rows = [];
  let after = null;
  for (;;) {
    const page = await api("GET", path + "&limit=500" + (after ? "&after=" + after : ""));
    rows.push(...page);
    if (page.length < 500) return rows;
    after = page[page.length - 1].id;
  }
}

export async function loadTickets() {
  const answerSeq = ++seq;
  const rows = await fetchAll("/tickets?status=open");
  const seen = new Set();
  for (const ticket of rows) {
    seen.add(ticket.id);
    applyTicket(ticket, answerSeq);
  }
  for (const id of [...tickets.keys()]) {
    if (!seen.has(id) && (appliedTicket.get(id) ?? -1) < answerSeq) {
      tickets.delete(id);
      appliedTicket.set(id, answerSeq);
    }
  }
  emit("all");
}

export async function loadUnits() {
  const answerSeq = ++seq;
  const rows = await api("GET", "/units");
  for (const unit of rows) applyUnit(unit, answerSeq);
  emit("all");
}

/** One ticket with its timeline and assignments (the detail panel's view of it). */
export async function fetchTicket(id) {
  const answerSeq = ++seq;
  try {
    const ticket = await api("GET", "/tickets/" + id);
    applyTicket(ticket, answerSeq);
    return ticket;
  } catch (err) {
    if (err.status === 404) {
      tickets.delete(id);
      emit("ticket", id, null);
      return null;
    }
    throw err;
  }
}

async function fetchUnit(id) {
  const answerSeq = ++seq;
  try {
    applyUnit(await api("GET", "/units/" + id), answerSeq);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
}

export function ticketChanged(id) {
  if (id) dirtyTickets.add(id);
  scheduleFlush();
}

export function unitChanged(id) {
  if (id) dirtyUnits.add(id);
  scheduleFlush();
}

function scheduleFlush() {
  if (flushTimer === null) flushTimer = setTimeout(flush, 120);
}

async function flush() {
  flushTimer = null;
  const ticketIds = [...dirtyTickets];
  const unitIds = [...dirtyUnits];
  dirtyTickets.clear();
  dirtyUnits.clear();
  const work = [];
  if (ticketIds.length > BULK) work.push(loadTickets());
  else work.push(...ticketIds.map(fetchTicket));
  if (unitIds.length > BULK) work.push(loadUnits());
  else work.push(...unitIds.map(fetchUnit));
  const results = await Promise.allSettled(work);
  if (results.some((r) => r.status === "rejected")) {
    // Try again shortly (the network hiccupped); the rows stay marked as changed.
    ticketIds.forEach((id) => dirtyTickets.add(id));
    unitIds.forEach((id) => dirtyUnits.add(id));
    if (flushTimer === null) flushTimer = setTimeout(flush, 2000);
  }
}

/** Coalesced positions from the stream: move the units at once, no fetch. */
export function applyPositions(list) {
  for (const p of list) {
    const unit = units.get(p.id);
    if (!unit) {
      unitChanged(p.id);
      continue;
    }
    if (later(unit.position_at, p.position_at)) continue;
    unit.location = { ...(unit.location || {}), lat: p.lat, lon: p.lon };
    unit.position_at = p.position_at;
  }
  emit("positions", null, list);
}
