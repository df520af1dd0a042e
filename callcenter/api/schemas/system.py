"""How dispatch is doing, as this web process sees it."""

from __future__ import annotations

from pydantic import Field

from .common import Out, Time


class Broker(Out):
    ok: bool
    since: Time | None = Field(None, description="Down since (when not ok).")
    error: str | None = Field(None, description="The last error (when not ok).")


class Worker(Out):
    ok: bool
    age_s: float | None = Field(None, description="Seconds since the workers' last heartbeat.")
    max_age_s: float | None = Field(None, description="Older than this: the workers are down.")
    error: str | None = None
    ms: float = Field(description="How long the check took.")


class DispatchStatus(Out):
    """For the console's "dispatch degraded" banner."""

    degraded: bool
    broker: Broker
    worker: Worker
    fallback: bool = Field(description="The web process routes when the workers cannot.")
