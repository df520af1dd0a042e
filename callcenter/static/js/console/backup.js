// A unit's request for backup as the console shows it: red on the board until the slots it
// added are filled (no longer short) or a dispatcher on this console marked it seen.
// "Seen" is kept per browser (localStorage), keyed by the time of the request, so a later
// request is red again.

const KEY = "cc110.backupSeen";
const KEEP = 200; // tickets remembered; the oldest tickets' marks go first
const requests = new Map(); // ticket id -> the latest ticket.backup_requested event's data

function seenMarks() {
  try {
    const marks = JSON.parse(localStorage.getItem(KEY) || "{}");
    return marks && typeof marks === "object" ? marks : {};
  } catch {
    return {};
  }
}

/** True while the ticket's backup request waits for units and nobody here has seen it. */
export function backupWaiting(ticket) {
  const flags = ticket.flags || {};
  if (!flags.backup_requested || !flags.short) return false;
  return seenMarks()[ticket.id] !== ticket.backup_requested_at;
}

/** The dispatcher has seen the ticket's current backup request. */
export function markSeen(ticket) {
  const marks = seenMarks();
  marks[ticket.id] = ticket.backup_requested_at;
  const ids = Object.keys(marks); // ticket ids, in ascending order
  for (const id of ids.slice(0, Math.max(0, ids.length - KEEP))) delete marks[id];
  try {
    localStorage.setItem(KEY, JSON.stringify(marks));
  } catch {
    /* storage full or off: it stays red until the slots are filled */
  }
}

/** Remember what a backup request said (from the stream or a ticket's timeline). */
export function noteEvent(event) {
  if (event.type === "ticket.backup_requested" && event.ticket_id) {
    requests.set(event.ticket_id, event.data || {});
  }
}

/** The latest backup request seen for a ticket: {callsign, count, added, reason, ...}. */
export function lastRequest(ticketId) {
  return requests.get(ticketId) || null;
}
