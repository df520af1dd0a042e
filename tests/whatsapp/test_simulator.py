"""``simulate-whatsapp``: its reporters reach the running app, and it needs the settings."""

from callcenter.devtools.wa_simulator import STORIES, Simulator
from tests.system.sim import wait_for
from tests.whatsapp.conftest import PHONE_ID, SECRET, TOKEN


def test_a_simulated_reporter_reaches_the_app_and_reads_the_reply(
    wa, live_server, app, monkeypatch, client, factory
):
    simulator = Simulator(
        app_url=live_server, secret=SECRET, token=TOKEN, phone_id=PHONE_ID, port=0
    )
    simulator.rng.seed(7)
    monkeypatch.setattr(simulator.rng, "choice", lambda seq: seq[0])
    monkeypatch.setattr(simulator.rng, "uniform", lambda a, b: 0.05)
    monkeypatch.setitem(app.config, "CALLCENTER_WA_GRAPH_URL", simulator.standin.start())
    try:
        simulator.play_one()
        kinds = [m.kind for m in wa.messages()]
        assert kinds[:2] == ["text", "location"]
        (thread,) = wa.threads()
        assert thread.profile_name == "Siti Rahayu"
        assert wa.messages()[0].text == STORIES[0][0]

        # The dispatcher asks for the location; the simulated reporter shares a pin.
        from callcenter.services.whatsapp import outbox

        headers = factory.headers("dispatcher")
        sent = client.post(
            f"/api/v1/wa/threads/{thread.id}/messages",
            json={"quick_reply": "share_location"},
            headers=headers,
        )
        assert factory.run(outbox.send, sent.get_json()["id"]) == "accepted"
        wait_for(lambda: len(wa.messages(kind="location")) == 2)
        wait_for(lambda: wa.messages(direction="out")[0].status == "read")
    finally:
        simulator.standin.stop()


def test_the_simulator_refuses_to_start_without_the_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALLCENTER_WA_APP_SECRET", "")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["simulate-whatsapp", "--count", "1"])
    assert result.exit_code != 0
    assert "CALLCENTER_WA_APP_SECRET" in result.output
