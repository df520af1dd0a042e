"""EIDO exchange (NENA-STA-021): the documents are NENA's, checked against NENA's schema by
the EIDO service (``services/eido/schema.py``); here they are declared as JSON objects
with a pointer to that schema, and the answer to a received document as a ticket."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, RootModel

from .tickets import Ticket

NENA = (
    "An Emergency Incident Data Object (NENA-STA-021, JSON): NENA's "
    "`EmergencyIncidentDataObjectType`, checked against NENA's schema; a failure is a 422 "
    "naming each failing path (`callComponent.0.direction`)."
)


class EidoDocument(RootModel[dict]):
    model_config = ConfigDict(json_schema_extra={"description": NENA})


class EidoReceived(Ticket):
    """The ticket made or updated from a received EIDO document."""

    eido: Literal["created", "updated", "replayed"] = Field(
        description="`created` (201), `updated` (200), or `replayed`: this version was "
        "received already and nothing changed (200, `Idempotent-Replayed: true`)."
    )
