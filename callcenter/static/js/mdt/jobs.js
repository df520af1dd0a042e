// The unit's recent jobs, and the words for how one of them ended.

import { h, replaceChildren } from "../common/dom.js";
import { wibDayTime } from "../common/format.js";
import { T, api, el, fmt, label } from "./page.js";

let jobsLoading = null;

/** Draw the recent jobs; resolves to the list (or null when it could not be loaded). */
export function loadJobs() {
  if (!jobsLoading) {
    jobsLoading = api("GET", "/units/me/jobs")
      .then(
        (jobs) => {
          drawJobs(jobs);
          return jobs;
        },
        () => null
      )
      .finally(() => {
        jobsLoading = null;
      });
  }
  return jobsLoading;
}

function drawJobs(jobs) {
  if (!jobs.length) {
    replaceChildren(el.jobs, h("li", { class: "mdt-muted" }, T.noJobs));
    return;
  }
  replaceChildren(
    el.jobs,
    jobs.slice(0, 10).map((job) =>
      h(
        "li",
        { dataset: { status: job.status } },
        h(
          "div",
          { class: "mdt-job-line" },
          h("strong", {}, job.ticket.number),
          h("span", { class: "mdt-job-status" }, T.assignmentStatus[job.status] || job.status)
        ),
        h("div", {}, [label(job.ticket.category_label), job.ticket.address].filter(Boolean).join(" · ")),
        h("div", { class: "mdt-muted" }, wibDayTime(job.offered_at))
      )
    )
  );
}

/** Why a job this screen did not end itself is gone, in words. */
export function endWords(job) {
  if (job.status === "expired") return T.offerExpired;
  if (job.status === "completed") return T.closedByCenter; // not cleared from this screen
  if (job.status === "released") {
    return job.end_reason ? fmt(T.releasedWhy, { reason: job.end_reason }) : T.released;
  }
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
