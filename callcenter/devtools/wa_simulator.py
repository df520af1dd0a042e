"""``flask --app wsgi simulate-whatsapp``: reporters chatting with the WhatsApp Center, and the
Graph API stand-in that the app sends to, without Meta.

Each simulated reporter writes what happened, shares a pin and sometimes a photo, all as
signed webhook deliveries to the running app. The stand-in records what the app sends,
reports it sent, delivered and read, and the reporter answers a request for their location
with a pin and "Apakah Anda aman?" with a reassurance.
"""

from __future__ import annotations

import random
import threading
import time

import click

from . import wa_payloads
from .graph_standin import GraphStandIn

KEPANJEN = (-8.1306, 112.5722)
NAMES = ("Siti Rahayu", "Agus Setiawan", "Dewi Lestari", "Bambang Sutrisno", "Rina Wati", "Joko")
STORIES = (
    ("Tolong, ada kecelakaan motor di depan pasar, korbannya luka.", "Depan Pasar Kepanjen"),
    ("Rumah tetangga saya kemalingan, pelakunya kabur naik motor.", "Jl. Kawi"),
    ("Ada orang mabuk bikin ribut di warung, bawa senjata tajam.", "Warung dekat alun-alun"),
    ("Ada tawuran pelajar di dekat jembatan.", "Jembatan Kali Metro"),
    ("Selamat malam, mau tanya syarat bikin SKCK.", None),
)


class Simulator:
    def __init__(self, *, app_url: str, secret: str, token: str, phone_id: str, port: int):
        self.phone_id = phone_id
        self.rng = random.Random()
        self.standin = GraphStandIn(
            token=token,
            phone_number_id=phone_id,
            app_secret=secret,
            webhook_url=app_url.rstrip("/") + "/webhooks/whatsapp",
            port=port,
        )
        self.standin.on_message = self._answer
        self.reporters: dict[str, str] = {}  # wa_id -> name

    def _point(self) -> tuple[float, float]:
        return (
            round(KEPANJEN[0] + self.rng.uniform(-0.06, 0.06), 6),
            round(KEPANJEN[1] + self.rng.uniform(-0.06, 0.06), 6),
        )

    def _send(self, payload: dict, what: str) -> None:
        status = self.standin.deliver(payload)
        click.echo(f"  reporter -> app: {what} ({status or 'unreachable'})")

    def _answer(self, item: dict) -> None:
        """The reporter reads what the app sent and, sometimes, answers."""
        wa_id = item["to"]
        payload = item["payload"]
        text = payload.get("text", {}).get("body", "") if payload.get("type") == "text" else ""
        click.echo(f"  app -> +{wa_id}: {text or payload.get('type')}")
        name = self.reporters.get(wa_id)
        time.sleep(self.rng.uniform(2, 5))
        if "lokasi Anda" in text:
            lat, lon = self._point()
            self._send(
                wa_payloads.location(
                    wa_id, name, lat, lon, "Lokasi saya", phone_number_id=self.phone_id
                ),
                f"pin {lat}, {lon}",
            )
        elif "aman?" in text:
            self._send(
                wa_payloads.text(
                    wa_id, name, "Saya aman, terima kasih.", phone_number_id=self.phone_id
                ),
                "text",
            )

    def play_one(self) -> None:
        wa_id = "62812" + "".join(self.rng.choice("0123456789") for _ in range(7))
        name = self.rng.choice(NAMES)
        self.reporters[wa_id] = name
        story, place = self.rng.choice(STORIES)
        click.echo(f"reporter +{wa_id} ({name})")
        self._send(wa_payloads.text(wa_id, name, story, phone_number_id=self.phone_id), "text")
        if place is None:
            return
        time.sleep(self.rng.uniform(2, 6))
        lat, lon = self._point()
        self._send(
            wa_payloads.location(wa_id, name, lat, lon, place, phone_number_id=self.phone_id),
            f"pin {lat}, {lon}",
        )
        if self.rng.random() < 0.6:
            time.sleep(self.rng.uniform(1, 4))
            colour = tuple(self.rng.randrange(256) for _ in range(3))
            media_id = self.standin.add_media(wa_payloads.png(64, 48, colour), "image/png")
            self._send(
                wa_payloads.media(
                    wa_id,
                    name,
                    "image",
                    media_id,
                    "image/png",
                    caption="Ini fotonya",
                    phone_number_id=self.phone_id,
                ),
                "photo",
            )


def _wait_for_app(app_url: str, timeout: float = 60.0) -> None:
    """Wait until the app answers (it may still be starting beside us)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(app_url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(1)
    click.echo(f"{app_url} does not answer yet; sending anyway")


def run(*, app_url, secret, token, phone_id, port, interval, count) -> None:
    simulator = Simulator(app_url=app_url, secret=secret, token=token, phone_id=phone_id, port=port)
    url = simulator.standin.start()
    click.echo(f"Graph API stand-in at {url} (the app's CALLCENTER_WA_GRAPH_URL)")
    click.echo(f"reporters write to {simulator.standin.webhook_url} every {interval:g} s")
    _wait_for_app(app_url)
    played = 0
    try:
        while not count or played < count:
            threading.Thread(target=simulator.play_one, daemon=True).start()
            played += 1
            time.sleep(interval)
        time.sleep(10)  # let the last answers arrive
    finally:
        simulator.standin.stop()
