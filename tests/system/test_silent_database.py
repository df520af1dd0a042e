"""A database host that accepts the connection and then says nothing (a half-dead
failover, a cut link behind a proxy) fails a request in seconds with the API's 503,
instead of holding it until the client gives up."""

import socket

from callcenter import create_app


def test_a_silent_database_host_fails_the_request_instead_of_holding_it(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever answers
    try:
        port = silent.getsockname()[1]
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/callcenter",
                "CALLCENTER_BROKER_URL": f"sqla+sqlite:///{tmp_path}/broker.sqlite",
            }
        )
        response = app.test_client().get(
            "/api/v1/auth/me", headers={"Authorization": "Bearer not-checked-yet"}
        )
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "database_unavailable"
    finally:
        silent.close()
