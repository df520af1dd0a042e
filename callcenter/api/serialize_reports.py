"""JSON shape of the targets report (``GET /api/v1/reports/kpis``)."""

from __future__ import annotations

from ..services import phones


def kpis(figures: dict) -> dict:
    """The report's figures as the service computed them (durations in seconds, shares as
    fractions of 1 with their ``met`` and ``of`` counts), prank numbers with their display."""
    return {
        **figures,
        "prank_numbers": [
            {**row, "phone_display": phones.display(row["phone"]) or None}
            for row in figures["prank_numbers"]
        ],
    }
