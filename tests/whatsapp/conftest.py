"""WhatsApp fixtures: the Graph API stand-in (the same one ``simulate-whatsapp`` runs) and
signed webhook deliveries, on both stacks."""

from __future__ import annotations

import pytest

from callcenter.devtools import wa_payloads
from callcenter.devtools.graph_standin import GraphStandIn
from callcenter.extensions import db
from callcenter.models import WaMessage, WaThread

SECRET = "wa-app-secret-test"
TOKEN = "wa-access-token-test"
PHONE_ID = "1100220033"
VERIFY = "verify-token-test"
REPORTER = "6281234567890"  # as WhatsApp writes it: digits, no plus
REPORTER_E164 = "+6281234567890"


@pytest.fixture(scope="session")
def standin(live_server):
    server = GraphStandIn(
        token=TOKEN,
        phone_number_id=PHONE_ID,
        app_secret=SECRET,
        webhook_url=live_server + "/webhooks/whatsapp",
        hang_s=2.5,
    )
    server.start()
    yield server
    server.stop()


class WA:
    """Deliveries to the webhook and reading back what was stored."""

    def __init__(self, app, client, standin, env):
        self.app = app
        self.client = client
        self.standin = standin
        self.env = env  # the settings, for workers started by the test

    def post(self, payload, *, secret=SECRET, headers=None, raw: bytes | None = None):
        body = raw if raw is not None else wa_payloads.encode(payload)
        sent = {"Content-Type": "application/json"}
        if secret is not None:
            sent["X-Hub-Signature-256"] = wa_payloads.sign(body, secret)
        sent.update(headers or {})
        return self.client.post("/webhooks/whatsapp", data=body, headers=sent)

    def text(self, body="Tolong, ada kecelakaan di depan pasar", wa_id=REPORTER, **kw):
        name = kw.pop("name", "Siti Rahayu")
        return self.post(wa_payloads.text(wa_id, name, body, phone_number_id=PHONE_ID, **kw))

    def location(self, lat=-8.1306, lon=112.5722, wa_id=REPORTER, **kw):
        name = kw.pop("name", "Siti Rahayu")
        return self.post(
            wa_payloads.location(
                wa_id,
                name,
                lat,
                lon,
                kw.pop("place", "Pasar Kepanjen"),
                kw.pop("address", None),
                phone_number_id=PHONE_ID,
                **kw,
            )
        )

    def photo(self, data=None, mime="image/png", wa_id=REPORTER, **kw):
        data = data if data is not None else wa_payloads.png()
        media_id = self.standin.add_media(data, mime, declared_size=kw.pop("declared_size", None))
        response = self.post(
            wa_payloads.media(
                wa_id,
                "Siti Rahayu",
                "image",
                media_id,
                mime,
                caption=kw.pop("caption", None),
                phone_number_id=PHONE_ID,
                **kw,
            )
        )
        return response, media_id

    def status(self, wamid, status, wa_id=REPORTER, **kw):
        return self.post(wa_payloads.status(wamid, status, wa_id, phone_number_id=PHONE_ID, **kw))

    # --- reading back ----------------------------------------------------------------------

    def threads(self) -> list[WaThread]:
        with self.app.app_context():
            rows = list(db.session.scalars(db.select(WaThread).order_by(WaThread.id)))
            db.session.expunge_all()
            db.session.remove()
            return rows

    def messages(self, **where) -> list[WaMessage]:
        with self.app.app_context():
            query = db.select(WaMessage).order_by(WaMessage.id)
            for name, value in where.items():
                query = query.where(getattr(WaMessage, name) == value)
            rows = list(db.session.scalars(query))
            db.session.expunge_all()
            db.session.remove()
            return rows

    def update(self, model, row_id: int, **values) -> None:
        with self.app.app_context():
            db.session.execute(db.update(model).where(model.id == row_id).values(**values))
            db.session.commit()
            db.session.remove()


@pytest.fixture
def wa(app, client, standin, monkeypatch, tmp_path):
    settings = {
        "CALLCENTER_WA_VERIFY_TOKEN": VERIFY,
        "CALLCENTER_WA_APP_SECRET": SECRET,
        "CALLCENTER_WA_ACCESS_TOKEN": TOKEN,
        "CALLCENTER_WA_PHONE_NUMBER_ID": PHONE_ID,
        "CALLCENTER_WA_GRAPH_URL": standin.url,
        "CALLCENTER_WA_HTTP_TIMEOUT_S": 1.0,
        "CALLCENTER_WA_RETRY_BASE_S": 0.2,
        "CALLCENTER_WA_SWEEP_S": 0.5,
        "CALLCENTER_WA_MEDIA_DIR": str(tmp_path / "wa-media"),
        "CALLCENTER_WA_TEMPLATE_NAME": "",
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    standin.reset()
    standin.report_statuses = True
    standin.on_message = None
    return WA(app, client, standin, settings)
