"""Fixtures for the worker-driven system tests (``production_stack`` is in tests/conftest.py)."""
