"""Sectors (Polsek), patrol units and their position breadcrumbs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import JSONType, UTCDateTime, utcnow

UNIT_STATUSES = ("off_duty", "available", "dispatched", "en_route", "on_scene", "unavailable")
UNIT_KINDS = ("car", "motorcycle", "foot", "boat")
# The statuses a unit may set for itself; the others follow from its assignments.
SELF_STATUSES = ("available", "unavailable", "off_duty")
BUSY_STATUSES = ("dispatched", "en_route", "on_scene")


class Sector(db.Model):
    """A Polsek sector of the Polres, with its station's position."""

    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    phone: Mapped[str | None] = mapped_column(String(40))


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    callsign: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16), default="car")
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"))
    status: Mapped[str] = mapped_column(String(16), default="off_duty")
    status_reason: Mapped[str | None] = mapped_column(String(200))
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    # When the device measured the last applied position (the freshness that routing uses).
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the server applied it: screens fetch the positions that moved since they last looked.
    position_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A retired unit keeps its history but is never routed, listed for dispatch or signed in.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sector: Mapped[Sector | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_units_status_lat_lon", "status", "lat", "lon"),)


class UnitShift(db.Model):
    """The crew on duty in a unit for one shift: officer names and NRP numbers."""

    __tablename__ = "unit_shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    officers: Mapped[list] = mapped_column(JSONType, default=list)  # [{name, nrp}]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_unit_shifts_unit_starts", "unit_id", "starts_at"),)


class UnitPosition(db.Model):
    """Every position report a unit sent, applied or not (late reports are kept, not applied)."""

    __tablename__ = "unit_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy_m: Mapped[float | None]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        # A report retried by the device is one report.
        UniqueConstraint("unit_id", "recorded_at", name="uq_unit_positions_unit_recorded"),
        Index("ix_unit_positions_received", "received_at"),  # retention
    )
