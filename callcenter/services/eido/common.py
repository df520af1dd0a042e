"""Ids, times and texts that export and intake share."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from flask import current_app

EIDO_VERSION = "1.0"
CONTEXT = {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"}
# The incident's first note, when it is the ticket's summary (how our documents mark it).
SUMMARY_KIND = "summary"
# Role words written into the documents (NENA's registries of roles and types).
CALLER_ROLE = "Caller"


def agency_id() -> str:
    """This center's agency id (``CALLCENTER_EIDO_AGENCY_ID``)."""
    return current_app.config["CALLCENTER_EIDO_AGENCY_ID"]


def uid(kind: str, local) -> str:
    """A globally unique id of one of our components, in NENA's form
    ``urn:emergency:uid:<kind>:<string>:<our agency id>``."""
    return f"urn:emergency:uid:{kind}:{local}:{agency_id()}"


def local_part(value: str, kind: str) -> str | None:
    """The ``<string>`` of an id ``uid(kind, string)`` issued by any agency, else None."""
    prefix = f"urn:emergency:uid:{kind}:"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    local, sep, _agency = value[len(prefix) :].partition(":")
    return local if sep and local else None


def iso(moment: datetime) -> str:
    """A UTC timestamp as EIDO writes it (RFC 3339, with its offset)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def ref(target: str) -> dict:
    return {"$ref": target}


def prologue(id_: str, at: datetime) -> dict:
    """The fields every data component starts with."""
    return {
        "$id": id_,
        "lastUpdateTimeStamp": iso(at),
        "updatedByAgencyReference": ref(agency_id()),
    }


def to_html(text: str) -> str:
    """Plain text as the HTML5 fragment a note's ``notesActionComments`` holds."""
    return html.escape(text, quote=False).replace("\r\n", "\n").replace("\n", "<br>")


_BREAK = re.compile(r"<br\s*/?>|</p\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def from_html(fragment: str) -> str:
    """The text of an HTML5 fragment: line breaks kept, tags dropped, entities decoded."""
    text = _TAG.sub("", _BREAK.sub("\n", fragment))
    return html.unescape(text).strip()
