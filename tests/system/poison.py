"""A poison task for the drills: it kills the worker process that runs it, every time.
Loaded into a test's worker with ``--include tests.system.poison``."""

import os
import signal

from celery import shared_task


@shared_task(name="tests.poison")
def poison(path: str) -> None:
    with open(path, "a") as f:
        f.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)
