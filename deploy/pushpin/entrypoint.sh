#!/bin/sh
# Write Pushpin's configuration from the environment and start it in the foreground.
# ORIGIN: the web part (host:port); SECRET_KEY: the app's, from which the Grip-Sig key is
# derived exactly as callcenter/streams/grip.py does (or CALLCENTER_GRIP_KEY, when set).
set -eu
: "${ORIGIN:=web:8000}"
key=${CALLCENTER_GRIP_KEY:-$(python3 -c 'import hashlib, hmac, os; print(hmac.new(os.environ["SECRET_KEY"].encode(), b"callcenter-grip-sig", hashlib.sha256).hexdigest())')}
dir=/var/lib/pushpin-cc
mkdir -p "$dir/run" "$dir/log"
echo "* $ORIGIN" > "$dir/routes"
cat > "$dir/pushpin.conf" <<CONF
[global]
include={libdir}/internal.conf
rundir=$dir/run
ipc_prefix=cc-
[runner]
services=condure,zurl,pushpin-proxy,pushpin-handler
http_port=7999
logdir=$dir/log
log_level=1
client_maxconn=50000
[proxy]
routesfile=$dir/routes
zurl_out_specs=ipc://{rundir}/{ipc_prefix}zurl-in
zurl_out_stream_specs=ipc://{rundir}/{ipc_prefix}zurl-in-stream
zurl_in_specs=ipc://{rundir}/{ipc_prefix}zurl-out
x_forwarded_for=append
sig_iss=pushpin
sig_key=$key
updates_check=off
[handler]
push_in_spec=ipc://{rundir}/{ipc_prefix}push-in
push_in_sub_specs=ipc://{rundir}/{ipc_prefix}push-in-sub
push_in_http_addr=0.0.0.0
push_in_http_port=5561
push_in_http_max_body_size=10000000
stats_spec=ipc://{rundir}/{ipc_prefix}stats
command_spec=ipc://{rundir}/{ipc_prefix}command
message_rate=200000
message_hwm=200000
message_wait=1000
id_cache_ttl=60
connection_subscription_max=20
CONF
exec pushpin --config "$dir/pushpin.conf" --merge-output
