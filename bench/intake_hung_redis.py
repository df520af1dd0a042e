"""Intake and sign-in with a hung Redis: its address accepts connections and never answers
(a hung host, a black-holed route), for the broker, the wake-ups and the sign-in limits.

The same calls are made with Redis answering, then hung, on the production stack
(PostgreSQL, gunicorn as configured). ``--root`` runs another checkout of the project (its
own code and .venv), for a before/after comparison.

    .venv/bin/python -m bench.intake_hung_redis [--calls 20] [--signins 5] [--root DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile

from bench.common import http, serve, stack, staff, stop, summary_ms
from tests.faults import HangingProxy
from tests.helpers import ticket_payload
from tests.processes import ROOT, free_port


def measure(base_url: str, headers: dict, calls: int, signins: int) -> tuple[list, list, list]:
    sign_in, intake, errors = [], [], []
    for _ in range(4):  # warm the web processes up (imports, connections), untimed
        http("GET", base_url + "/api/v1/categories", None, headers["dispatcher"])
    for _ in range(signins):
        status, _, took = http(
            "POST",
            base_url + "/api/v1/auth/tokens",
            {"username": "benchdisp", "password": "bench-password-1"},
        )
        sign_in.append(took)
        if status != 201:
            errors.append(("sign-in", status))
    for i in range(calls):
        status, _, took = http(
            "POST",
            base_url + "/api/v1/tickets",
            ticket_payload(summary=f"hung redis {i}"),
            headers["dispatcher"],
        )
        intake.append(took)
        if status != 201:
            errors.append(("intake", status))
    return sign_in, intake, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--signins", type=int, default=5)
    parser.add_argument("--root", default=ROOT, help="the checkout to run (default: this one)")
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    commit = subprocess.run(
        ["git", "-C", root, "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    print(f"checkout: {root} ({commit[:70]})")
    hung = HangingProxy(hung=True)
    with stack("production") as config, tempfile.TemporaryDirectory() as logs:
        config.pop("_TMP")
        config.pop("CALLCENTER_RESULT_BACKEND", None)
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("CALLCENTER_") or k in ("DATABASE_URL", "REDIS_URL"))
        }
        env.update({k: str(v) for k, v in config.items()})
        env["PYTHONUNBUFFERED"] = "1"
        from bench.common import cli

        cli(root, env, "db", "upgrade")
        headers = None
        for phase, url in (("Redis answering", config["REDIS_URL"]), ("Redis hung", hung.url)):
            phase_env = {**env, "REDIS_URL": url, "CALLCENTER_BROKER_URL": url}
            port = free_port()
            web = serve(root, phase_env, port, os.path.join(logs, "web.log"))
            base_url = f"http://127.0.0.1:{port}"
            try:
                if headers is None:
                    headers = staff(base_url, root, phase_env)
                sign_in, intake, errors = measure(base_url, headers, args.calls, args.signins)
            finally:
                stop(web)
            print(f"{phase:16s} sign-in  {summary_ms(sign_in)}")
            print(f"{phase:16s} intake   {summary_ms(intake)}   errors: {len(errors)} {errors[:3]}")
    hung.close()


if __name__ == "__main__":
    main()
