"""The WhatsApp webhook: time to check, store and answer one signed delivery.

    .venv/bin/python -m bench.wa_webhook [--deliveries 1000] [--numbers 50] [--stack both]

Each delivery is one text message from one of ``--numbers`` reporters (a new thread for
the first message of each), signed like Meta's, posted through the WSGI app in this
process: signature, parsing, the thread lock, the insert, the events and the commit, and
the tasks handed to the broker after it. Prints median and p99 per stack, and what a
redelivered (duplicate) message costs.
"""

from __future__ import annotations

import argparse
import time

from bench.common import app_for, stack, summary_ms

SETTINGS = {
    "CALLCENTER_WA_APP_SECRET": "bench-secret",
    "CALLCENTER_WA_ACCESS_TOKEN": "bench-token",
    "CALLCENTER_WA_PHONE_NUMBER_ID": "110110110",
    "CALLCENTER_WA_FLOOD_PER_MIN": 100000,
}


def measure(app, deliveries: int, numbers: int) -> tuple[list[float], list[float]]:
    from callcenter.devtools import wa_payloads

    client = app.test_client()
    bodies = []
    for i in range(deliveries):
        wa_id = f"628120{i % numbers:07d}"
        payload = wa_payloads.text(wa_id, "Bench", f"laporan {i}", phone_number_id="110110110")
        body = wa_payloads.encode(payload)
        bodies.append((body, wa_payloads.sign(body, "bench-secret")))
    fresh, repeated = [], []
    for body, signature in bodies:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        started = time.perf_counter()
        response = client.post("/webhooks/whatsapp", data=body, headers=headers)
        fresh.append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_data(as_text=True)
    for body, signature in bodies[: max(1, deliveries // 5)]:
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        started = time.perf_counter()
        client.post("/webhooks/whatsapp", data=body, headers=headers)
        repeated.append(time.perf_counter() - started)
    return fresh, repeated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=1000)
    parser.add_argument("--numbers", type=int, default=50)
    parser.add_argument("--stack", choices=("embedded", "production", "both"), default="both")
    args = parser.parse_args()
    deliveries = min(args.deliveries, 5000)
    kinds = ("production", "embedded") if args.stack == "both" else (args.stack,)
    for kind in kinds:
        with stack(kind) as config:
            app = app_for({**config, **SETTINGS})
            fresh, repeated = measure(app, deliveries, max(1, args.numbers))
            print(f"{kind:10s} new message   {summary_ms(fresh)}")
            print(f"{kind:10s} redelivered   {summary_ms(repeated)}")


if __name__ == "__main__":
    main()
