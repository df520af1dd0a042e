"""Celery beat's scheduler, creating the folder of its schedule file first (a fresh
checkout has no ``instance/``; a database elsewhere keeps its schedule beside it)."""

from __future__ import annotations

import os

from celery.beat import PersistentScheduler


class Scheduler(PersistentScheduler):
    def _open_schedule(self):
        folder = os.path.dirname(os.path.abspath(self.schedule_filename))
        os.makedirs(folder, exist_ok=True)
        return super()._open_schedule()
