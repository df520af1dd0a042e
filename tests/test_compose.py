"""docker-compose.yml against the app's real entry points (there is no Docker engine here),
scripts/production.sh against docker-compose.yml, and .env.example against the settings."""

from __future__ import annotations

import os
import re
import shlex

import pytest
import yaml

from callcenter import config
from tests.processes import ROOT

APP_SERVICES = ("migrate", "web", "relay", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def production_sh() -> str:
    with open(os.path.join(ROOT, "scripts", "production.sh")) as f:
        return f.read()


@pytest.fixture(scope="module")
def flask_app():
    from callcenter import create_app

    return create_app({"TESTING": True})


def test_every_service_is_there_with_a_health_check(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "pushpin", *APP_SERVICES}
    for name, service in services.items():
        if name == "migrate":  # one-shot: the others wait for it to complete
            continue
        check = service.get("healthcheck", {}).get("test")
        assert check and check[0] in ("CMD", "CMD-SHELL"), name


def test_every_dependency_waits_for_health_or_completion(compose):
    for name, service in compose["services"].items():
        for dep, how in (service.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if dep == "migrate" else "service_healthy"
            assert how == {"condition": wanted}, (name, dep)
    services = compose["services"]
    assert set(services["migrate"]["depends_on"]) == {"postgres", "redis"}
    for name in ("web", "relay", "worker", "beat"):
        assert "migrate" in services[name]["depends_on"], name
    assert "web" in services["pushpin"]["depends_on"]


def test_no_default_passwords(compose):
    with open(os.path.join(ROOT, "docker-compose.yml")) as f:
        text = f.read()
    for var in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        uses = re.findall(r"\$\{" + var + r"([^}]*)\}", text)
        assert uses, var
        assert all(u.startswith(":?") for u in uses), (var, uses)  # refuse to start without
    assert "POSTGRES_PASSWORD:-" not in text and "SECRET_KEY:-" not in text


def test_redis_keeps_the_broker_messages(compose):
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert any(
        v.endswith(":/var/lib/postgresql/data") for v in compose["services"]["postgres"]["volumes"]
    )


def test_commands_are_the_apps_real_entry_points(compose, flask_app):
    import wsgi

    services = compose["services"]
    web = services["web"]["command"]
    assert web[0] == "gunicorn"
    conf = web[web.index("--config") + 1]
    assert os.path.isfile(os.path.join(ROOT, conf))
    module, _, attr = web[-1].partition(":")
    assert (module, attr) == ("wsgi", "app") and wsgi.app is not None

    for name in ("worker", "beat"):
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "wsgi.celery_app", name]
    assert wsgi.celery_app.main == wsgi.app.name
    assert "callcenter.tasks.sweep" in wsgi.celery_app.conf.beat_schedule["sweep"]["task"]

    commands = flask_app.cli.list_commands(None)
    for name in ("migrate", "relay"):
        command = services[name]["command"]
        assert command[:3] == ["flask", "--app", "wsgi"]
        assert command[3] in commands, command
    assert services["migrate"]["command"][3:] == ["db", "upgrade"]
    assert "create-user" in commands  # the README's first admin


def test_health_checks_ask_real_routes(compose, flask_app):
    rules = {r.rule for r in flask_app.url_map.iter_rules()}
    web_check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    paths = re.findall(r"https?://[^/]+(/[\w/]*)", web_check)
    assert paths == ["/healthz"]
    assert set(paths) <= rules
    # The relay's check looks for the lock the relay renews.
    from callcenter.streams import relay

    relay_check = " ".join(compose["services"]["relay"]["healthcheck"]["test"])
    assert "cc:streams:relay" in relay_check and relay.LOCK_MS <= 15_000
    worker_check = " ".join(compose["services"]["worker"]["healthcheck"]["test"])
    assert "celery -A wsgi.celery_app inspect ping" in worker_check


def test_environment_names_only_settings_the_app_reads(compose):
    known = {k for k in vars(config.Defaults) if k.isupper()} | {
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "GUNICORN_WORKERS",
        "GUNICORN_THREADS",
        "FORWARDED_ALLOW_IPS",
        "PROMETHEUS_MULTIPROC_DIR",
    }
    for name in APP_SERVICES:
        env = compose["services"][name]["environment"]
        assert set(env) <= known, (name, set(env) - known)
        assert env["CALLCENTER_ENV"] == "production"
        assert env["CALLCENTER_STREAMS"] == "pushpin"
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["PROMETHEUS_MULTIPROC_DIR"] in {
            v.split(":")[1] for v in compose["services"][name]["volumes"]
        }


def _production_commands(text: str) -> dict:
    """``run ...`` lines of production.sh: {what: argv without the .venv/bin/ prefix}."""
    out = {}
    for line in re.findall(r"^run (.+?)(?<!\\)$", text.replace("\\\n    ", ""), re.M):
        argv = [a.removeprefix(".venv/bin/") for a in shlex.split(line)]
        key = argv[0] if argv[0] != "celery" else argv[3]
        if argv[0] == "flask":
            key = argv[3]
        out[key] = argv
    return out


def test_production_sh_runs_the_same_processes(compose, production_sh):
    services = compose["services"]
    ours = _production_commands(production_sh)
    assert set(ours) == {"gunicorn", "pushpin", "stream-relay", "worker", "beat"}

    def same(a, b, skip_values=("--bind", "--schedule", "--concurrency")):
        def strip(argv):
            out, skip = [], False
            for arg in argv:
                if skip:
                    skip = False
                    continue
                if arg in skip_values:
                    skip = True
                out.append(arg)
            return out

        return strip(a) == strip(b)

    assert same(ours["gunicorn"], services["web"]["command"])
    assert same(ours["stream-relay"], services["relay"]["command"])
    assert same(ours["worker"], services["worker"]["command"])
    assert same(ours["beat"], services["beat"]["command"])
    assert "flask --app wsgi db upgrade" in production_sh
    # The same environment as the containers' shared part.
    env = services["web"]["environment"]
    for name in ("CALLCENTER_ENV", "CALLCENTER_STREAMS"):
        assert f"export {name}={env[name]}" in production_sh
    for name in (
        "PROMETHEUS_MULTIPROC_DIR",
        "CALLCENTER_PUSHPIN_PUBLISH_URL",
        "CALLCENTER_PROXY_HOPS",
    ):
        assert f"export {name}=" in production_sh, name
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        assert f'"${{{name}:?' in production_sh, name


def test_env_example_documents_every_setting():
    with open(os.path.join(ROOT, ".env.example")) as f:
        text = f.read()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.M))
    wanted = {k for k in vars(config.Defaults) if k.startswith("CALLCENTER_")} | {
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "POSTGRES_PASSWORD",
        "GUNICORN_WORKERS",
        "GUNICORN_THREADS",
        "PROMETHEUS_MULTIPROC_DIR",
    }
    assert wanted - documented == set()
    # The required ones are there to fill in, with no value.
    assert re.search(r"^SECRET_KEY=$", text, re.M) and re.search(
        r"^POSTGRES_PASSWORD=$", text, re.M
    )
