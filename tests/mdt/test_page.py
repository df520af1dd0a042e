"""The unit's page as served: who may open it, its language, and its calls to the API."""

import json
import re

from tests.auth.test_pages import page_sign_in
from tests.helpers import KEPANJEN


def page_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="mdt-config">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def csrf_meta(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def test_the_unit_screen_for_a_unit_user(client, factory):
    unit_id = factory.unit(callsign="KPJ-1")
    factory.user("unit", username="kpj1", unit_id=unit_id)
    page_sign_in(client, "kpj1")
    response = client.get("/mdt/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="id"' in html
    assert "/static/js/mdt.js" in html and "/static/css/mdt.css" in html
    assert 'data-testid="decline-reason-too_far"' in html and "Terlalu jauh" in html
    assert "Pelaku diamankan" in html  # the resolutions, in Bahasa Indonesia
    config = page_config(html)
    assert config["unit"] == {"id": unit_id, "callsign": "KPJ-1", "name": "Unit test"}
    assert config["locale"] == "id" and config["api"] == "/api/v1"
    assert config["strings"]["conn"]["offline"] == "Tidak ada koneksi"
    assert config["strings"]["gps"]["waiting"] == "%(n)s menunggu dikirim"
    assert {r["code"] for r in config["resolutions"]} >= {"handled", "secured"}
    assert config["settings"]["offerTimeoutS"] == 45


def test_the_unit_screen_in_english(client, factory):
    unit_id = factory.unit()
    factory.user("unit", username="kpj1", unit_id=unit_id)
    page_sign_in(client, "kpj1")
    html = client.get("/mdt/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in html
    config = page_config(html)
    assert config["locale"] == "en"
    assert config["strings"]["conn"]["offline"] == "No connection"
    assert "Too far away" in html


def test_only_unit_users_open_the_unit_screen(client, factory):
    assert client.get("/mdt/").status_code == 302  # to the sign-in page
    factory.user("dispatcher", username="operator")
    page_sign_in(client, "operator")
    assert client.get("/mdt/").status_code == 403


def test_the_pages_api_calls_carry_the_csrf_header(client, factory):
    unit_id = factory.unit()
    factory.user("unit", username="kpj1", unit_id=unit_id)
    page_sign_in(client, "kpj1")
    token = csrf_meta(client.get("/mdt/").get_data(as_text=True))
    body = {"lat": KEPANJEN[0], "lon": KEPANJEN[1]}
    refused = client.post("/api/v1/units/me/location", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    sent = client.post("/api/v1/units/me/location", json=body, headers={"X-CSRFToken": token})
    assert sent.status_code == 201
    # The language the page asks for is the language of the answer.
    wrong = client.put(
        "/api/v1/units/me/status",
        json={"status": "nap"},
        headers={"X-CSRFToken": token, "Accept-Language": "en"},
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["error"]["message"] == "The status was not changed."


def test_the_unit_screen_carries_the_emergency_button_backup_and_found_on_patrol(client, factory):
    unit_id = factory.unit()
    factory.user("unit", username="kpj1", unit_id=unit_id)
    page_sign_in(client, "kpj1")
    html = client.get("/mdt/").get_data(as_text=True)
    # The emergency button is outside every card, so it shows in every state of the screen.
    assert re.search(r'<div class="mdt-panic-dock">\s*<button[^>]*data-testid="panic"', html)
    assert "tekan dan tahan 2 detik" in html and "DARURAT AKTIF" in html
    assert 'data-testid="backup-open"' in html and "Minta bantuan" in html
    assert "Temuan di lapangan" in html
    # Found on patrol offers the categories that send units, each with its default units.
    assert 'value="brawl" data-units="2"' in html and 'value="theft" data-units="1"' in html
    assert 'value="officer_emergency"' not in html and 'value="prank"' not in html
    config = page_config(html)
    assert config["settings"]["maxUnits"] == 10
    assert config["strings"]["emergency"]["raised"].startswith("Pusat komando sudah diberi tahu")


def test_every_string_of_the_unit_screen_is_translated(client, factory):
    unit_id = factory.unit()
    factory.user("unit", username="kpj1", unit_id=unit_id)
    page_sign_in(client, "kpj1")

    def flat(strings, prefix=""):
        for key, value in strings.items():
            if isinstance(value, dict):
                yield from flat(value, prefix + key + ".")
            else:
                yield prefix + key, value

    indonesian = dict(flat(page_config(client.get("/mdt/").get_data(as_text=True))["strings"]))
    english = dict(flat(page_config(client.get("/mdt/?lang=en").get_data(as_text=True))["strings"]))
    assert indonesian.keys() == english.keys()
    same = {k for k in english if english[k] == indonesian[k]}
    assert not same, same
