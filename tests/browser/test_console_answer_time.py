"""The console records when a call was answered: the moment the dispatcher starts typing it,
by the server's clock; a one-key disposition answers and logs at once; each call its own."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from callcenter.extensions import db
from callcenter.models import Ticket
from tests.browser.test_console import open_console

pytestmark = pytest.mark.browser


def tickets(factory) -> list[Ticket]:
    with factory.app.app_context():
        rows = list(db.session.scalars(db.select(Ticket).order_by(Ticket.id)))
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_the_answer_time_is_when_typing_starts(new_page, live_server, factory):
    page = open_console(new_page, live_server, factory)
    result = page.get_by_test_id("intake-result")
    page.keyboard.type("0812-3456-7890")
    page.wait_for_timeout(2500)  # the dispatcher listens before choosing
    page.keyboard.press("Alt+I")
    expect(result).to_contain_text(re.compile(r"110-\d{8}-00001"))
    page.keyboard.press("Alt+D")  # the next call: answered and logged in one key
    expect(result).to_contain_text(re.compile(r"110-\d{8}-00002"))

    first, second = tickets(factory)
    assert first.answered_at is not None and first.received_at is None
    # The page knows the server's time to within half a second (its Date headers).
    waited = first.created_at - first.answered_at
    assert timedelta(seconds=1.5) <= waited < timedelta(seconds=15), waited
    # The second call has its own answer time, not the first call's.
    assert second.answered_at - first.answered_at >= timedelta(seconds=1.5)
    assert second.answered_at <= second.created_at
    assert page.errors == []
