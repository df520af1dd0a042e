"""A Pushpin configuration of our own, for scripts/production.sh and the tests.

Debian's /etc/pushpin/pushpin.conf expects a system-wide zurl service; this one runs
Pushpin's own zurl and keeps every internal socket in ``folder``, so several instances
(test runs from different work trees) never meet. Two TCP ports: the clients' and the
publish endpoint the relay posts to.
"""

from __future__ import annotations

import os

TEMPLATE = """\
# Written by `flask --app wsgi pushpin-config`; Pushpin {version_note}
[global]
include={{libdir}}/internal.conf
rundir={rundir}
ipc_prefix=cc-
port_offset=0
stats_connection_ttl=120

[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port={http}
logdir={logdir}
log_level={log_level}
client_buffer_size=8192
client_maxconn=50000

[proxy]
routesfile={routes}
zurl_out_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in
zurl_out_stream_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream
zurl_in_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-out
debug=false
auto_cross_origin=false
accept_x_forwarded_protocol=false
set_x_forwarded_protocol=proto-only
x_forwarded_for=append
x_forwarded_for_trusted=
orig_headers_need_mark=
accept_pushpin_route=false
log_from=false
log_user_agent=false
# The web checks Grip-Sig with this key: requests that did not come through here get no
# stream, and the signed links are only answered for this engine.
sig_iss=pushpin
sig_key={sig_key}
upstream_key=
updates_check=off

[handler]
push_in_spec=ipc://{{rundir}}/{{ipc_prefix}}push-in
push_in_sub_specs=ipc://{{rundir}}/{{ipc_prefix}}push-in-sub
push_in_sub_connect=false
push_in_http_addr=127.0.0.1
push_in_http_port={publish_port}
push_in_http_max_headers_size=10000
push_in_http_max_body_size=10000000
stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats
command_spec=ipc://{{rundir}}/{{ipc_prefix}}command
# Messages delivered per second across all connections: one event reaches every staff
# screen, so 10 calls/s x ~8 events x 50 consoles already needs 4,000/s.
message_rate=200000
message_hwm=200000
# How long an item whose prev-id is not the channel's last id waits for the missing one.
message_wait=1000
# Items with an id seen in the last minute are dropped (a second relay, a retry).
id_cache_ttl=60
connection_subscription_max=20
subscription_linger=60
stats_subscription_ttl=60
stats_report_interval=10
stats_format=tnetstring
"""


def write(
    folder: str,
    *,
    http_host: str,
    http_port: int,
    origin: str,
    publish_port: int,
    sig_key: str,
    log_level: int = 1,
) -> str:
    """Write ``pushpin.conf`` and ``routes`` into ``folder`` (made if missing); returns the
    configuration's path. Start it with ``pushpin --config PATH``."""
    folder = os.path.abspath(folder)
    rundir = os.path.join(folder, "run")
    logdir = os.path.join(folder, "log")
    os.makedirs(rundir, exist_ok=True)
    os.makedirs(logdir, exist_ok=True)
    routes = os.path.join(folder, "routes")
    with open(routes, "w") as f:
        # Every path goes to the web part; only the stream answers with GRIP instructions.
        f.write(f"* {origin}\n")
    path = os.path.join(folder, "pushpin.conf")
    everywhere = http_host in ("", "0.0.0.0")  # noqa: S104  (the operator's choice)
    http = str(http_port) if everywhere else f"{http_host}:{http_port}"
    with open(path, "w") as f:
        f.write(
            TEMPLATE.format(
                version_note="1.36 (Debian)",
                rundir=rundir,
                logdir=logdir,
                routes=routes,
                http=http,
                publish_port=publish_port,
                sig_key=sig_key,
                log_level=log_level,
            )
        )
    return path
