"""Units (create, edit, retire, the crew on duty), Polsek sectors and the catalogs' local
settings (category defaults, agencies' numbers)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.decorators import roles_required
from ..models.unit import UNIT_KINDS
from ..services import accounts, agencies, catalog, catalog_settings, clock, fleet, units
from ..services.errors import ServiceError
from . import bp
from .common import READERS, attempt, flash_error, number, text

CREW_ROWS = 4


@bp.get("/units")
@roles_required(*READERS)
def units_page():
    rows = fleet.list_units()
    return render_template(
        "admin/units.html",
        units=rows,
        crews=fleet.current_crews(),
        sectors=units.list_sectors(),
        kinds=UNIT_KINDS,
        now=clock.now(),
    )


@bp.post("/units")
@roles_required(*READERS)
def create_unit():
    form = request.form
    data = {
        "callsign": text(form, "callsign") or "",
        "name": text(form, "name"),
        "kind": text(form, "kind") or "car",
    }
    if text(form, "sector"):
        data["sector"] = text(form, "sector")
    try:
        unit = fleet.create_unit(data, actor=current_user)
    except ServiceError as exc:
        flash_error(exc)
        return redirect(url_for("admin.units_page"))
    flash(_("Unit %(callsign)s created.", callsign=unit.callsign))
    return redirect(url_for("admin.unit", unit_id=unit.id))


@bp.get("/units/<int:unit_id>")
@roles_required(*READERS)
def unit(unit_id: int):
    row = units.get(unit_id)
    return render_template(
        "admin/unit.html",
        unit=row,
        crew=fleet.current_crews([row.id]).get(row.id),
        shifts=fleet.shifts(row.id),
        members=[u for u in accounts.list_users() if u.unit_id == row.id],
        sectors=units.list_sectors(),
        kinds=UNIT_KINDS,
        crew_rows=range(CREW_ROWS),
        now=clock.now(),
    )


@bp.post("/units/<int:unit_id>/edit")
@roles_required("admin")
def edit_unit(unit_id: int):
    form = request.form
    data = {
        "callsign": text(form, "callsign") or "",
        "name": text(form, "name"),
        "kind": text(form, "kind"),
        "sector": number(form, "sector"),
    }
    row = units.get(unit_id)
    return attempt(
        lambda: fleet.update_unit(row, data, actor=current_user),
        _("Saved."),
        url_for("admin.unit", unit_id=unit_id),
    )


@bp.post("/units/<int:unit_id>/retire")
@roles_required("admin")
def retire_unit(unit_id: int):
    return attempt(
        lambda: fleet.retire_unit(unit_id, actor=current_user),
        _("The unit is retired; its sign-ins are deactivated."),
        url_for("admin.unit", unit_id=unit_id),
    )


@bp.post("/units/<int:unit_id>/crew")
@roles_required(*READERS)
def set_crew(unit_id: int):
    form = request.form
    officers = []
    for n in range(CREW_ROWS):
        name, nrp = text(form, f"name{n}"), text(form, f"nrp{n}")
        if name or nrp:
            officers.append({"name": name, "nrp": nrp or ""})
    data = {"officers": officers, "hours": number(form, "hours") or 12}
    row = units.get(unit_id)
    return attempt(
        lambda: fleet.set_crew(row, data, actor=current_user),
        _("The crew on duty is saved."),
        url_for("admin.unit", unit_id=unit_id),
    )


@bp.get("/sectors")
@roles_required(*READERS)
def sectors():
    return render_template("admin/sectors.html", sectors=units.list_sectors())


def _sector_form(form) -> dict:
    data = {"name": text(form, "name"), "phone": text(form, "phone")}
    lat, lon = text(form, "lat"), text(form, "lon")
    if lat is None and lon is None:
        data["lat"] = data["lon"] = None
    else:
        data["lat"], data["lon"] = _float(lat), _float(lon)
    return data


def _float(value):
    try:
        return float(value.replace(",", ".")) if value is not None else None
    except ValueError:
        return value  # refused by the service, with the field named


@bp.post("/sectors")
@roles_required("admin")
def create_sector():
    data = _sector_form(request.form) | {"code": text(request.form, "code") or ""}
    return attempt(
        lambda: fleet.create_sector(data, actor=current_user),
        _("Saved."),
        url_for("admin.sectors"),
    )


@bp.post("/sectors/<int:sector_id>")
@roles_required("admin")
def edit_sector(sector_id: int):
    data = _sector_form(request.form)
    return attempt(
        lambda: fleet.update_sector(sector_id, data, actor=current_user),
        _("Saved."),
        url_for("admin.sectors"),
    )


@bp.get("/categories")
@roles_required(*READERS)
def categories():
    local = catalog_settings.categories()
    rows = [
        (c, catalog.get(c.code)) for c in local if catalog_settings.editable(catalog.get(c.code))
    ]
    return render_template("admin/categories.html", rows=rows)


@bp.post("/categories/<code>")
@roles_required("admin")
def edit_category(code: str):
    data = {
        "default_priority": number(request.form, "default_priority"),
        "default_units": number(request.form, "default_units"),
    }
    return attempt(
        lambda: catalog_settings.update(code, data, actor=current_user),
        _("Saved."),
        url_for("admin.categories"),
    )


@bp.get("/agencies")
@roles_required(*READERS)
def agencies_page():
    return render_template("admin/agencies.html", agencies=agencies.all_agencies())


@bp.post("/agencies/<code>")
@roles_required("admin")
def edit_agency(code: str):
    data = {"phone": text(request.form, "phone"), "active": request.form.get("active") == "1"}
    return attempt(
        lambda: agencies.update(code, data, actor=current_user),
        _("Saved."),
        url_for("admin.agencies_page"),
    )
