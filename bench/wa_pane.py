"""The console's WhatsApp pane: what each console asks after a wa.* event.

    .venv/bin/python -m bench.wa_pane [--threads 200] [--messages 10] [--stack both]

``--threads`` reporters each send ``--messages`` messages (signed deliveries through the
webhook, every fourth a pin), so that many conversations are open. Then, as a console
does after each wa.* event on the stream: the list of open conversations (``GET
/api/v1/wa/threads?status=open&limit=200``: unread counts, the newest message, the
number's calls and pranks) and one conversation with its messages (``GET
/api/v1/wa/threads/<id>``). Prints median and p99 per stack.
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


def fill(app, threads: int, messages: int) -> None:
    from callcenter.devtools import wa_payloads

    client = app.test_client()
    for m in range(messages):
        for n in range(threads):
            wa_id = f"628130{n:07d}"
            if m % 4 == 3:
                payload = wa_payloads.location(
                    wa_id,
                    f"Pelapor {n}",
                    -8.13 + n / 10000,
                    112.57,
                    "Pasar",
                    None,
                    phone_number_id="110110110",
                )
            else:
                payload = wa_payloads.text(
                    wa_id, f"Pelapor {n}", f"laporan {m}", phone_number_id="110110110"
                )
            body = wa_payloads.encode(payload)
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": wa_payloads.sign(body, "bench-secret"),
            }
            response = client.post("/webhooks/whatsapp", data=body, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)


def token_for(app) -> str:
    from callcenter.extensions import db
    from callcenter.models import User
    from callcenter.services import credentials, sessions

    with app.app_context():
        user = User(
            username="bench", password_hash=credentials.hash_password("x" * 12), role="dispatcher"
        )
        db.session.add(user)
        db.session.commit()
        token, _ = sessions.issue_token(user)
        db.session.remove()
    return token


def measure(app, token: str, rounds: int) -> tuple[list[float], list[float]]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listed, opened = [], []
    first = client.get("/api/v1/wa/threads?status=open&limit=200", headers=headers).get_json()
    ids = [t["id"] for t in first]
    for i in range(rounds):
        started = time.perf_counter()
        response = client.get("/api/v1/wa/threads?status=open&limit=200", headers=headers)
        listed.append(time.perf_counter() - started)
        assert response.status_code == 200
        started = time.perf_counter()
        response = client.get(f"/api/v1/wa/threads/{ids[i % len(ids)]}", headers=headers)
        opened.append(time.perf_counter() - started)
        assert response.status_code == 200
    return listed, opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--stack", choices=("embedded", "production", "both"), default="both")
    args = parser.parse_args()
    kinds = ("production", "embedded") if args.stack == "both" else (args.stack,)
    for kind in kinds:
        with stack(kind) as config:
            app = app_for({**config, **SETTINGS})
            fill(app, min(args.threads, 1000), min(args.messages, 100))
            listed, opened = measure(app, token_for(app), args.rounds)
            print(f"{kind:10s} list of {args.threads} open   {summary_ms(listed)}")
            print(f"{kind:10s} one with {args.messages} messages {summary_ms(opened)}")


if __name__ == "__main__":
    main()
