"""Position reports while clients fail to sign in, on the embedded default (SQLite).

One unit reports its position in a loop; then the same while 4 clients fail sign-in in a
loop (a wrong password for names that change, so each attempt runs argon2). Prints the
position report latency p50/p99 of both. ``--root`` runs another checkout of the project
(its own code and .venv), for a before/after comparison.

    .venv/bin/python -m bench.signin_contention [--seconds 15] [--clients 4] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import tempfile
import threading
import time

from bench.common import cli, http, serve, stack, staff, stop, summary_ms
from tests.processes import ROOT, free_port


def reports(base_url: str, headers: dict, seconds: float) -> tuple[list, int]:
    took, errors = [], 0
    rng = random.Random(1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _, elapsed = http(
            "POST",
            base_url + "/api/v1/units/me/location",
            {"lat": -8.15 + rng.uniform(-0.01, 0.01), "lon": 112.57 + rng.uniform(-0.01, 0.01)},
            headers,
        )
        took.append(elapsed)
        errors += status not in (200, 201, 202)
        time.sleep(0.02)
    return took, errors


def fail_sign_in(base_url: str, stop_event: threading.Event, counts: list, seed: int) -> None:
    rng = random.Random(seed)
    while not stop_event.is_set():
        http(
            "POST",
            base_url + "/api/v1/auth/tokens",
            {"username": f"nobody{rng.randrange(10**9)}", "password": "wrong-password"},
        )
        counts[seed] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--root", default=ROOT, help="the checkout to run (default: this one)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    commit = subprocess.run(
        ["git", "-C", root, "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    print(f"checkout: {root} ({commit[:70]})")
    with stack("embedded") as config, tempfile.TemporaryDirectory() as logs:
        config.pop("_TMP")
        config.pop("CALLCENTER_RESULT_BACKEND", None)
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("CALLCENTER_") or k in ("DATABASE_URL", "REDIS_URL"))
        }
        env.update({k: str(v) for k, v in config.items()})
        cli(root, env, "db", "upgrade")
        port = free_port()
        web = serve(root, env, port, os.path.join(logs, "web.log"))
        base_url = f"http://127.0.0.1:{port}"
        try:
            headers = staff(base_url, root, env)
            alone, errors_alone = reports(base_url, headers["unit"], args.seconds)
            stop_event = threading.Event()
            counts = [0] * args.clients
            clients = [
                threading.Thread(target=fail_sign_in, args=(base_url, stop_event, counts, i))
                for i in range(args.clients)
            ]
            for client in clients:
                client.start()
            time.sleep(1)
            contended, errors_contended = reports(base_url, headers["unit"], args.seconds)
            stop_event.set()
            for client in clients:
                client.join(60)
        finally:
            stop(web)
    print(f"position reports alone:             {summary_ms(alone)}   errors: {errors_alone}")
    print(
        f"with {args.clients} clients failing sign-in:  {summary_ms(contended)}   "
        f"errors: {errors_contended}   failed sign-ins: {sum(counts)}"
    )


if __name__ == "__main__":
    main()
