"""The words the unit's screen shows from its script, translated for the request's language."""

from __future__ import annotations

from flask_babel import gettext as _


def for_script() -> dict[str, str | dict[str, str]]:
    """Every text ``mdt.js`` shows, keyed by name; call inside a request."""
    return {
        "loading": _("Loading…"),
        "conn": {
            "connecting": _("Connecting…"),
            "online": _("Connected"),
            "reconnecting": _("Reconnecting…"),
            "offline": _("No connection"),
            "too_many": _("Too many screens open"),
            "busy": _("Server busy"),
        },
        "gps": {
            "starting": _("GPS: starting…"),
            "on": _("GPS on"),
            "denied": _("GPS blocked: allow location for this site"),
            "unavailable": _("GPS unavailable"),
            "waiting": _("%(n)s waiting to send"),
            "sent": _("last sent %(time)s"),
        },
        "unitStatus": {
            "available": _("Available"),
            "unavailable": _("Unavailable"),
            "off_duty": _("Off duty"),
            "dispatched": _("Dispatched"),
            "en_route": _("En route"),
            "on_scene": _("On scene"),
        },
        "jobStep": {
            "acknowledged": _("Accepted: not moving yet"),
            "en_route": _("En route to the scene"),
            "on_scene": _("At the scene"),
        },
        "assignmentStatus": {
            "offered": _("Offered"),
            "accepted": _("Accepted"),
            "completed": _("Cleared"),
            "declined": _("Declined"),
            "expired": _("Not answered"),
            "cancelled": _("Withdrawn"),
            "released": _("Released"),
        },
        "priority": {
            "1": _("P1 · life at risk"),
            "2": _("P2 · urgent"),
            "3": _("P3 · normal"),
            "4": _("P4 · not urgent"),
        },
        "newOffer": _("New job offer"),
        "offerTitle": _("NEW JOB · answer now"),
        "timeLeft": _("Time left to answer"),
        "offerTimeUp": _("Time is up"),
        "distance": _("%(km)s km away · about %(min)s min"),
        "distanceOnly": _("%(km)s km away"),
        "noAddress": _("No address given: use the map"),
        "accepting": _("Sending…"),
        "accepted": _("Accepted. Good luck, stay safe."),
        "declined": _("Declined. The command center offers the job to another unit."),
        "declineReasonTitle": _("Why are you declining?"),
        "offerExpired": _("The offer expired before it was answered."),
        "offerWithdrawn": _("The command center withdrew the offer."),
        "ticketCancelled": _("The command center cancelled the ticket."),
        "reassigned": _("The command center gave the job to another unit."),
        "closedByCenter": _("The command center closed the job."),
        "ticketUpdated": _("The command center updated the job details."),
        "wentEnRoute": _("Status sent: en route."),
        "wentOnScene": _("Status sent: at the scene."),
        "cleared": _("Job cleared. The ticket is closed."),
        "clearedOthers": _("Your part is done. The ticket stays open for the other units."),
        "released": _("The command center released you from this job."),
        "releasedWhy": _("The command center released you from this job: %(reason)s"),
        "statusChanged": _("Your status is now: %(status)s."),
        "busyStatus": _("You have a job: your status follows the job until it is cleared."),
        "unavailableExpired": _(
            "You did not answer the last offer, so you were set to unavailable. "
            "Choose Available to get offers again."
        ),
        "networkError": _("No connection: nothing was sent. Try again."),
        "serverError": _("The server could not do this. Try again."),
        "chooseResolution": _("Choose how the job ended."),
        "idleAvailable": _("No job. You get an offer here as soon as there is one."),
        "idleNotAvailable": _("No job. Choose Available to get offers."),
        "noJobs": _("No jobs yet."),
        "soundHint": _("Tap here to turn on the alert sound"),
        "signedOut": _("Your session ended. Sign in again."),
        "emergency": {
            "hold": _("press and hold 2 seconds"),
            "holdAgain": _("hold again to send your position again"),
            "sending": _("Sending the emergency signal…"),
            "retrying": _("Not sent yet: no answer from the server. Trying again (%(n)s)…"),
            "raised": _("The command center has been alerted. Help is being sent."),
            "acknowledged": _(
                "The command center acknowledged it at %(time)s. Help is on its way."
            ),
            "since": _("Since %(time)s"),
            "sent": _("The command center has your emergency signal."),
            "ended": _("The emergency has ended."),
            "closedByCenter": _("The command center closed your emergency."),
            "reasonNeeded": _("Choose or write why you end the emergency."),
            "neverSent": _(
                "The emergency press at %(time)s could not be sent. "
                "Press and hold again if you still need help."
            ),
        },
        "backup": {
            "sent": _("Backup requested: %(n)s more. The ticket now needs %(needed)s units."),
            "reasonNeeded": _("Choose or write why you need backup."),
        },
        "notes": {
            "sent": _("Note sent."),
            "none": _("No notes yet."),
            "center": _("Command center"),
        },
        "onview": {
            "logged": _("Ticket %(number)s logged. You are on it, at the scene."),
        },
        "crew": {
            "count": _("Units on this ticket: %(done)s/%(needed)s"),
            "waiting": _("%(n)s still waiting for a unit"),
            "alone": _("No other unit yet."),
            "step": {
                "offered": _("offered"),
                "accepted": _("accepted"),
                "en_route": _("en route"),
                "on_scene": _("at the scene"),
            },
        },
        "caller": _("Caller"),
        "callerUnknown": _("Caller's number not known"),
    }
