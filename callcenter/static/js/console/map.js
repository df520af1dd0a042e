// The map: tickets and units as markers coloured by status, moving as positions arrive.
// Leaflet comes from our own static files. Without a tile server (or when it cannot be
// reached) the markers show on a plain background, with the Polsek stations for bearings.

import { secondsSince } from "../common/clock.js";
import { h } from "../common/dom.js";
import { categoryLabel, getSectors, page, statusLabel, t, unitStatusLabel } from "./util.js";

const KEPANJEN = [-8.1306, 112.5722];

export class ConsoleMap {
  constructor(element, { onTicket, onPick }) {
    const L = window.L;
    this.L = L;
    this.onTicket = onTicket;
    this.map = L.map(element, { zoomControl: true, attributionControl: true, keyboard: true })
      .setView(KEPANJEN, 11);
    this.map.attributionControl.setPrefix("Leaflet");
    L.control.scale({ imperial: false }).addTo(this.map);
    this.ticketLayer = L.layerGroup().addTo(this.map);
    this.unitLayer = L.layerGroup().addTo(this.map);
    this.sectorLayer = L.layerGroup().addTo(this.map);
    this.alarmLayer = L.layerGroup().addTo(this.map);
    this.alarmMarkers = new Map(); // ticket id -> the ring around an officer in danger
    this.ticketMarkers = new Map();
    this.unitMarkers = new Map();
    this.selected = null;
    this.fitted = false;

    const note = document.getElementById("map-note");
    const { tileUrl, tileAttribution } = page.settings;
    if (tileUrl) {
      let failures = 0;
      L.tileLayer(tileUrl, { attribution: tileAttribution || "", maxZoom: 19 })
        .on("tileerror", () => {
          failures += 1;
          if (failures === 4) {
            note.textContent = t("map.tiles_unreachable");
            note.hidden = false;
          }
        })
        .on("tileload", () => {
          failures = 0;
          note.hidden = true;
        })
        .addTo(this.map);
    } else {
      element.classList.add("no-tiles");
    }
    this.map.on("click", (e) => onPick([e.latlng.lat, e.latlng.lng]));
    this._loadSectors();
  }

  async _loadSectors() {
    try {
      const sectors = await getSectors();
      const L = this.L;
      const bounds = [];
      for (const s of sectors) {
        if (s.lat === null || s.lon === null) continue;
        bounds.push([s.lat, s.lon]);
        L.circleMarker([s.lat, s.lon], {
          radius: 3, color: "#7a8799", weight: 1, fillOpacity: 0.6, interactive: false,
        }).addTo(this.sectorLayer);
        L.marker([s.lat, s.lon], {
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: "sector-label", html: h("span", {}, s.name), iconSize: null }),
        }).addTo(this.sectorLayer);
      }
      if (bounds.length > 1 && !this.fitted) {
        this.fitted = true;
        this.map.fitBounds(bounds, { padding: [20, 20] });
      }
      this.landmarks = sectors;
    } catch {
      /* the map still works without the stations */
    }
  }

  /** Put the ticket markers in step with the board. */
  syncTickets(tickets) {
    const L = this.L;
    const seen = new Set();
    for (const ticket of tickets.values()) {
      const loc = ticket.location;
      if (!loc || loc.lat === null || loc.lat === undefined) continue;
      seen.add(ticket.id);
      const alert = isAlert(ticket);
      const style = {
        radius: 11 - ticket.priority,
        color: alert ? "#b71c1c" : "#ffffff",
        weight: alert ? 4 : 2,
        fillColor: STATUS_COLOURS[ticket.status] || "#555",
        fillOpacity: 0.95,
        className: "ticket-marker",
      };
      let marker = this.ticketMarkers.get(ticket.id);
      if (!marker) {
        marker = L.circleMarker([loc.lat, loc.lon], style).addTo(this.ticketLayer);
        marker.on("click", (e) => {
          L.DomEvent.stopPropagation(e);
          this.onTicket(ticket.id);
        });
        this.ticketMarkers.set(ticket.id, marker);
      } else {
        marker.setLatLng([loc.lat, loc.lon]);
        marker.setStyle(style);
      }
      marker.unbindTooltip();
      marker.bindTooltip(
        h("span", {}, `${ticket.number} · P${ticket.priority} · ${categoryLabel(ticket.category)}`,
          h("br"), statusLabel(ticket.status), ticket.unit ? " · " + ticket.unit.callsign : ""),
      );
    }
    for (const [id, marker] of this.ticketMarkers) {
      if (!seen.has(id)) {
        marker.remove();
        this.ticketMarkers.delete(id);
      }
    }
  }

  syncUnits(units) {
    const L = this.L;
    const maxAge = page.settings.positionMaxAgeS;
    const seen = new Set();
    for (const unit of units.values()) {
      const loc = unit.location;
      // An officer in danger shows whatever the unit's status, off duty too.
      const danger = Boolean(unit.emergency); // an open emergency (acknowledged or not)
      if (!loc || loc.lat === null || loc.lat === undefined) continue;
      if (unit.status === "off_duty" && !danger) continue;
      seen.add(unit.id);
      const stale = !unit.position_at || secondsSince(unit.position_at) > maxAge;
      const key = `${unit.status}|${stale}|${unit.callsign}|${danger}`;
      let marker = this.unitMarkers.get(unit.id);
      if (!marker) {
        marker = L.marker([loc.lat, loc.lon], {
          keyboard: false, icon: unitIcon(L, unit, stale, danger), zIndexOffset: danger ? 1500 : 0,
        }).addTo(this.unitLayer);
        marker.iconKey = key;
        this.unitMarkers.set(unit.id, marker);
      } else {
        marker.setLatLng([loc.lat, loc.lon]);
        if (marker.iconKey !== key) {
          marker.setIcon(unitIcon(L, unit, stale, danger));
          marker.setZIndexOffset(danger ? 1500 : 0);
          marker.iconKey = key;
        }
      }
      marker.unbindTooltip();
      marker.bindTooltip(h("span", {}, `${unit.callsign} · ${unitStatusLabel(unit.status)}`,
        stale ? " · " + t("unit.stale") : ""));
    }
    for (const [id, marker] of this.unitMarkers) {
      if (!seen.has(id)) {
        marker.remove();
        this.unitMarkers.delete(id);
      }
    }
  }

  /**
   * The point being set (`kind` "intake" or "edit"): a draggable pin; null removes it.
   * Dragging the pin calls `onDrag([lat, lon])`.
   */
  setPick(kind, point, onDrag) {
    const L = this.L;
    this.pickMarkers = this.pickMarkers || new Map();
    let marker = this.pickMarkers.get(kind);
    if (!point) {
      marker?.remove();
      this.pickMarkers.delete(kind);
      return;
    }
    if (!marker) {
      marker = L.marker(point, {
        draggable: true, keyboard: false, zIndexOffset: 1000, title: t("map.pin_" + kind),
      }).addTo(this.map);
      marker.getElement()?.classList.add("pick-" + kind);
      this.pickMarkers.set(kind, marker);
    } else {
      marker.setLatLng(point);
    }
    marker.off("dragend");
    marker.on("dragend", () => {
      const p = marker.getLatLng();
      onDrag?.([p.lat, p.lng]);
    });
    if (!this.map.getBounds().contains(point)) this.map.panTo(point);
  }

  /** Highlight a ticket (the one in the detail panel) and bring it into view. */
  select(ticket) {
    const L = this.L;
    this.selected?.remove();
    this.selected = null;
    const loc = ticket && ticket.location;
    if (!loc || loc.lat === null || loc.lat === undefined) return;
    this.selected = L.circleMarker([loc.lat, loc.lon], {
      radius: 18, color: "#f0b400", weight: 3, fill: false, interactive: false,
    }).addTo(this.map);
    if (!this.map.getBounds().pad(-0.1).contains([loc.lat, loc.lon])) {
      this.map.panTo([loc.lat, loc.lon]);
    }
  }

  /** Rings around the officers in danger (`alarms` from alarm.js), following their points. */
  setAlarms(alarms) {
    const L = this.L;
    const seen = new Set();
    for (const alarm of alarms) {
      if (!alarm.point) continue;
      seen.add(alarm.ticketId);
      const point = [alarm.point.lat, alarm.point.lon];
      let marker = this.alarmMarkers.get(alarm.ticketId);
      if (!marker) {
        marker = L.marker(point, {
          keyboard: false, interactive: false, zIndexOffset: 2000,
          icon: L.divIcon({ className: "alarm-ring", html: h("span", {}), iconSize: [64, 64] }),
        }).addTo(this.alarmLayer);
        this.alarmMarkers.set(alarm.ticketId, marker);
      } else {
        marker.setLatLng(point);
      }
      marker.getElement()?.setAttribute("data-callsign", alarm.callsign);
    }
    for (const [id, marker] of this.alarmMarkers) {
      if (!seen.has(id)) {
        marker.remove();
        this.alarmMarkers.delete(id);
      }
    }
  }

  /**
   * The pins a WhatsApp reporter shared (`pins`: [{id, lat, lon, place, at}], oldest
   * first); the newest is drawn larger and brought into view when it is new.
   */
  setChatPins(pins) {
    const L = this.L;
    this.chatLayer = this.chatLayer || L.layerGroup().addTo(this.map);
    const newest = pins.length ? pins[pins.length - 1] : null;
    const key = pins.map((p) => p.id).join(",");
    if (key === this.chatKey) return;
    this.chatKey = key;
    this.chatLayer.clearLayers();
    for (const pin of pins) {
      const latest = pin === newest;
      const marker = L.marker([pin.lat, pin.lon], {
        keyboard: false, zIndexOffset: latest ? 900 : 800, title: pin.place || t("map.wa_pin"),
        icon: L.divIcon({ className: "wa-pin" + (latest ? " latest" : ""), html: h("span", {}),
          iconSize: [24, 24], iconAnchor: [12, 24] }),
      }).addTo(this.chatLayer);
      marker.getElement()?.setAttribute("data-message-id", pin.id);
      marker.bindTooltip(h("span", {}, t("map.wa_pin"), pin.place ? ": " + pin.place : ""));
    }
    if (newest && !this.map.getBounds().pad(-0.1).contains([newest.lat, newest.lon])) {
      this.map.panTo([newest.lat, newest.lon]);
    }
  }

  /** Bring the map to `point`, at least as close as `zoom`. */
  focus(point, zoom) {
    this.map.setView(point, Math.max(this.map.getZoom(), zoom));
  }

  invalidate() {
    this.map.invalidateSize();
  }
}

export const STATUS_COLOURS = {
  new: "#7b1fa2",
  queued: "#ef6c00",
  dispatched: "#1565c0",
  acknowledged: "#0097a7",
  en_route: "#00897b",
  on_scene: "#283593",
};

/** A ticket that must stand out: an officer's alarm, escalated, or past the on-scene target
 * without a unit there. */
export function isAlert(ticket) {
  if (ticket.flags && (ticket.flags.escalated || ticket.flags.alarm)) return true;
  return isOverTarget(ticket);
}

export function isOverTarget(ticket) {
  if (ticket.on_scene_at || ticket.status === "on_scene") return false;
  return secondsSince(ticket.created_at) > page.settings.onSceneTargetS;
}

function unitIcon(L, unit, stale, danger) {
  return L.divIcon({
    className: `unit-icon u-${unit.status}${stale ? " stale" : ""}${danger ? " in-danger" : ""}`,
    html: h("span", {}, unit.callsign),
    iconSize: null,
    iconAnchor: [0, 0],
  });
}
