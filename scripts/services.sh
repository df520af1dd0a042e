#!/usr/bin/env bash
# Make sure the services the tests need answer on this machine: PostgreSQL on
# 127.0.0.1:5432 (trust auth, user postgres), Redis on 127.0.0.1:6379, Debian's
# Chromium for the browser tests and Pushpin (the push engine) for the stream tests.
# Starts them when installed but stopped, installs them with apt-get (as root) when
# missing. Exits non-zero when one still does not answer.
set -uo pipefail

pg_host=127.0.0.1 pg_port=5432 redis_port=6379

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
say() { echo "services: $*" >&2; }
apt_updated=""
apt_install() {
    if [ "$(id -u)" != 0 ]; then say "not root: cannot install $*"; return 1; fi
    [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}

start_postgres() {
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
    [ -n "$version" ] || return 1
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
}

trust_local_postgres() {
    # A freshly installed server asks for passwords on TCP; the tests use trust on loopback.
    local version hba
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
}

start_redis() {
    command -v redis-server > /dev/null || return 1
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

wait_for() {  # port, seconds
    for _ in $(seq 1 "$2"); do answers "$1" && return 0; sleep 1; done
    return 1
}

if ! answers "$pg_port"; then
    if ! command -v pg_ctlcluster > /dev/null; then
        say "PostgreSQL is not installed: installing"
        apt_install postgresql postgresql-client && start_postgres && wait_for "$pg_port" 30 \
            && trust_local_postgres
    else
        say "PostgreSQL is stopped: starting"
        start_postgres
    fi
    wait_for "$pg_port" 30 || { say "PostgreSQL does not answer on $pg_host:$pg_port"; exit 1; }
fi

if ! answers "$redis_port"; then
    if ! command -v redis-server > /dev/null; then
        say "Redis is not installed: installing"
        apt_install redis-server
    fi
    say "Redis is stopped: starting"
    start_redis
    wait_for "$redis_port" 15 || { say "Redis does not answer on 127.0.0.1:$redis_port"; exit 1; }
fi

if ! command -v redis-server > /dev/null; then
    # The fault tests run a private Redis of their own.
    apt_install redis-server || { say "redis-server is missing"; exit 1; }
fi

if ! command -v pushpin > /dev/null; then
    # The push engine of the production stack; the tests start their own instances.
    say "Pushpin is not installed: installing"
    apt_install pushpin || { say "Pushpin could not be installed"; exit 1; }
fi

if [ ! -x /usr/bin/chromium ]; then
    say "Chromium is not installed: installing"
    apt_install chromium chromium-driver || { say "Chromium could not be installed"; exit 1; }
fi
exit 0
