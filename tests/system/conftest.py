"""Fixtures for the worker-driven system tests."""

import pytest


@pytest.fixture
def production_stack(app):
    """The app on PostgreSQL and Redis; these tests are about that stack."""
    if not app.config["REDIS_URL"]:
        pytest.skip("runs on the production stack (PostgreSQL + Redis)")
    return app
