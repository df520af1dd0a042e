"""The targets report: what a Kapolres reads for any day, week or month.

- ``filters``: the WIB date range and the Polsek, category, priority and channel asked for;
- ``timing``: the SQL for durations, WIB hours and days, and the one percentile method;
- ``kpis``: every figure, aggregated in the database;
- ``export``: the tickets behind any figure, as CSV rows streamed from the database.
"""

from .filters import Filters, parse_filters
from .kpis import kpis

__all__ = ["Filters", "kpis", "parse_filters"]
