"""The page modules both screens share, driven directly in headless Chromium against the live
server: the API client with a bearer token (no session, no CSRF), its error shape, and its
word for a network failure."""

import pytest

from tests.helpers import ticket_payload

pytestmark = pytest.mark.browser

DEVICE_PAGE = '<!doctype html><html lang="id"><head><title>device</title></head></html>'

CALLS = """
async ([token, payload]) => {
  const { ApiError, createApi } = await import("/static/js/common/api.js");
  const messages = { network: "no network", generic: "no words" };
  const device = createApi({ messages, token });
  const anonymous = createApi({ messages });
  let ended = 0;
  anonymous.onSessionEnded(() => (ended += 1));
  const failure = (err) => ({
    isApiError: err instanceof ApiError,
    status: err.status, code: err.code, message: err.message, fields: err.fields,
  });
  return {
    me: await device.api("GET", "/auth/me"),
    created: await device.api("POST", "/tickets", payload),
    refused: await device.api("POST", "/tickets", { ...payload, priority: 9 }).catch(failure),
    deviceSignedIn: await device.signedIn(),
    anonymousSignedIn: await anonymous.signedIn(),
    ended,
    offline: await device.api("GET", "/units").catch(failure),
  };
}
"""


def test_the_shared_api_client_with_a_bearer_token(new_page, live_server, factory, client):
    headers = factory.headers("dispatcher", username="perangkat")
    token = headers["Authorization"].removeprefix("Bearer ")
    page = new_page()
    # A device's page that holds its token and no session cookie (any page of the app's own
    # would set one): only the token signs these calls in.
    page.route(
        live_server + "/device",
        lambda route: route.fulfill(content_type="text/html", body=DEVICE_PAGE),
    )
    page.route("**/favicon.ico", lambda route: route.fulfill(status=404, body=""))
    page.route("**/api/v1/units", lambda route: route.abort())
    page.goto(live_server + "/device")
    payload = ticket_payload()
    result = page.evaluate(CALLS, [token, payload])

    assert result["me"]["username"] == "perangkat"
    # A write with the token alone: a session would need the CSRF token here.
    created = factory.ticket(result["created"]["id"])
    assert created.summary == payload["summary"]
    # A refusal is the API's error shape, in the page's language (Bahasa Indonesia).
    expected = client.post(
        "/api/v1/tickets",
        json={**payload, "priority": 9},
        headers={**headers, "Accept-Language": "id"},
    ).get_json()["error"]
    refused = result["refused"]
    assert refused["isApiError"] and refused["status"] == 422
    assert refused["code"] == expected["code"] and refused["message"] == expected["message"]
    assert refused["fields"] == expected["fields"] and "priority" in refused["fields"]
    # Without a session or token: signed out, and the page is told once.
    assert result["deviceSignedIn"] is True
    assert result["anonymousSignedIn"] is False and result["ended"] == 1
    # No answer at all: status 0, in the page's words.
    offline = result["offline"]
    assert offline["isApiError"] and offline["status"] == 0
    assert offline["message"] == "no network"
