"""Locations in EIDO: PIDF-LO (RFC 4119, RFC 5491) inside ``locationByValue``.

We write a geodetic point (WGS 84, ``lat lon``); we read a point (``gml:Point``, or the
centre of a ``gs:Circle`` and the like: the first ``gml:pos``) and a civic address
(RFC 5139), whichever the document has. The XML comes from other systems: it is parsed
with defusedxml, which refuses entity expansion and external references.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element  # only the type: parsing is defusedxml's
from xml.sax.saxutils import escape

from defusedxml import ElementTree

GML = "http://www.opengis.net/gml"
CIVIC = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
# RFC 5139's elements, in the order an address is read aloud.
STREET = ("HNO", "HNS", "PRD", "RD", "STS", "POD")
PLACE = ("LOC", "A6", "A5", "A4", "A3", "A2", "A1", "PC", "country")


def point_pidf(lat: float, lon: float, entity: str) -> str:
    """A PIDF-LO document with one geodetic point."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<presence xmlns="urn:ietf:params:xml:ns:pidf"'
        ' xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"'
        ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"'
        f' xmlns:gml="{GML}" entity="{escape(entity, {chr(34): "&quot;"})}">'
        "<dm:device><gp:geopriv><gp:location-info>"
        '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
        f"<gml:pos>{float(lat)!r} {float(lon)!r}</gml:pos>"
        "</gml:Point></gp:location-info>"
        "<gp:usage-rules/><gp:method>Manual</gp:method>"
        "</gp:geopriv></dm:device></presence>"
    )


def _text(element: Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _point(root: Element) -> tuple[float, float] | None:
    pos = root.find(f".//{{{GML}}}pos")
    if pos is None:
        return None
    parts = _text(pos).split()
    if len(parts) < 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _address(root: Element) -> str | None:
    civic = root.find(f".//{{{CIVIC}}}civicAddress")
    if civic is None:
        return None

    def part(name: str) -> str:
        return _text(civic.find(f"{{{CIVIC}}}{name}"))

    street = " ".join(p for p in (part(n) for n in STREET) if p)
    parts = [part("NAM"), part("LMK"), street, *(part(n) for n in PLACE)]
    text = ", ".join(p for p in parts if p)
    return text or None


def read(value: str) -> tuple[tuple[float, float] | None, str | None]:
    """``(point, civic address)`` found in a PIDF-LO document (each None when absent).
    Text that is not well-formed XML, or that declares entities, yields nothing."""
    try:
        root = ElementTree.fromstring(value.strip().encode("utf-8"))
    except Exception:  # defusedxml raises ParseError, DTDForbidden, EntitiesForbidden, ...
        return None, None
    return _point(root), _address(root)
