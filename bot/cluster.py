"""`make run-cluster` (``python -m bot.cluster``): Rasa's own scale-out model on one machine.

    residents ─ web chat, Telegram, phone ─> HAProxy :5005 ─┬─> Rasa replica :15005 ─┐
                                                            └─> Rasa replica :15006 ─┤
       Rasa ─> HAProxy :5055 ─┬─> action server :15055         PostgreSQL tracker store
                              └─> action server :15056         Redis lock store
       every Rasa replica ─> model server :5070 (GET /models/current, ETag)

* Every channel works unchanged: HAProxy listens on ``RASA_PORT`` (5005) and ``ACTION_PORT``
  (5055), where ``make run`` has its single servers. It checks each Rasa replica with
  ``GET /status`` (200 only once a model is loaded) and each action server with ``/health``
  every second, and a request that meets a dead replica (refused, or the connection dropped
  without an answer) is sent again to another one (``retry-on``, ``option redispatch``).
* Conversations are in PostgreSQL (``DATABASE_URL``; by default the ``community`` database on
  the local server, created if missing) and a turn holds a Redis lock on its conversation
  (``REDIS_URL``, :mod:`bot.lock_store`), so two replicas never work on one conversation at
  once. A lock a killed replica held expires after ``TICKET_LOCK_LIFETIME`` seconds (here
  ACTION_TIMEOUT + 5, Rasa's default is 60); the turn waiting behind it keeps its place.
* One model for every replica: the replicas load the model the model server publishes
  (:mod:`bot.model_server`), and ask for a newer one every ``MODEL_PULL_SECONDS``. The
  retrainer publishes there instead of ``PUT /model``. At start the newest trained model is
  published if nothing is yet.
* The web app (staff console, web chat), Telegram and the phone line run once, as in
  ``make run``; ``deploy/`` runs them as Deployments.

``RASA_REPLICAS`` and ``ACTION_REPLICAS`` (2 each) set the numbers. ``make run`` stays the
single-process default on SQLite.
"""

from __future__ import annotations

import logging
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot import launcher
from bot.model_server import ModelServerSettings, current, publish
from bot.supervisor import Child, StartupError, Supervisor
from community.config import environment, read_section, text
from community.settings import PROJECT_ROOT, LauncherSettings, Settings, with_api_token

log = logging.getLogger("cluster")
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/community"


@dataclass(frozen=True)
class ClusterSettings:
    rasa_replicas: int = 2
    action_replicas: int = 2
    redis_url: str = "redis://127.0.0.1:6379/1"
    # Replicas listen on these ports and up (one each); HAProxy takes RASA_PORT and ACTION_PORT.
    rasa_base_port: int = 15005
    action_base_port: int = 15055
    haproxy: str = "haproxy"
    haproxy_log_level: str = "notice"  # "info" logs every request (its timings and retries)

    def __post_init__(self) -> None:
        if self.rasa_replicas < 1 or self.action_replicas < 1:
            raise ValueError("RASA_REPLICAS and ACTION_REPLICAS must be at least 1")
        if urlsplit(self.redis_url).scheme not in ("redis", "rediss"):
            raise ValueError("REDIS_URL must be a redis:// URL")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ClusterSettings:
        return read_section(cls, environment() if env is None else env, {
            "rasa_replicas": ("RASA_REPLICAS", int),
            "action_replicas": ("ACTION_REPLICAS", int),
            "redis_url": ("REDIS_URL", text),
            "rasa_base_port": ("RASA_REPLICA_BASE_PORT", int),
            "action_base_port": ("ACTION_REPLICA_BASE_PORT", int),
            "haproxy": ("HAPROXY", text),
            "haproxy_log_level": ("HAPROXY_LOG_LEVEL", text),
        })

    def rasa_ports(self) -> list[int]:
        return [self.rasa_base_port + i for i in range(self.rasa_replicas)]

    def action_ports(self) -> list[int]:
        return [self.action_base_port + i for i in range(self.action_replicas)]


def lock_store_config(redis_url: str) -> dict:
    """The Redis lock store (:class:`bot.lock_store.ClusterLockStore`, Rasa's ``RedisLockStore``
    with atomic changes and waiters that keep their place) from a redis:// URL."""
    url = urlsplit(redis_url)
    config: dict = {"type": "bot.lock_store.ClusterLockStore", "url": url.hostname or "127.0.0.1",
                    "port": url.port or 6379,
                    "db": int(url.path.lstrip("/") or 1), "key_prefix": "community"}
    if url.password:
        config["password"] = url.password
    if url.scheme == "rediss":
        config["use_ssl"] = True
    return config


def write_endpoints(settings: Settings, cluster: ClusterSettings, models: ModelServerSettings) -> Path:
    path = settings.var_dir / "cluster" / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "action_endpoint": {"url": settings.action_url},  # HAProxy on ACTION_PORT
        "tracker_store": launcher.tracker_store_config(settings),
        "lock_store": lock_store_config(cluster.redis_url),
        "models": {"url": models.url, "wait_time_between_pulls": models.pull_seconds},
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)
    return path


def haproxy_config(settings: Settings, cluster: ClusterSettings) -> str:
    bind = settings.host
    rasa_servers = "\n".join(
        f"    server rasa{i} 127.0.0.1:{p} check "
        "observe layer4 error-limit 1 on-error mark-down"
        for i, p in enumerate(cluster.rasa_ports(), 1))
    action_servers = "\n".join(
        f"    server actions{i} 127.0.0.1:{p} check "
        "observe layer4 error-limit 1 on-error mark-down"
        for i, p in enumerate(cluster.action_ports(), 1))
    return f"""# Written by python -m bot.cluster; do not edit (it is written again at every start).
global
    maxconn 4096
    log stderr format short local0 {cluster.haproxy_log_level}

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 2s
    timeout client 120s
    # Longer than any turn (a dead replica's lock lease, 6 s, bot/lock_store.py, plus
    # ACTION_TIMEOUT): a request that gets no answer by then goes to another replica.
    timeout server 45s
    timeout queue 60s
    # A busy replica answers its check late (turns hold its event loop): only a dead one is
    # taken out. A killed replica refuses connections, which marks it down at once (observe
    # layer4); its requests meanwhile go to another replica (retry-on, redispatch).
    timeout check 10s
    default-server inter 2s fall 3 rise 2
    # A replica that refuses the connection or drops it without answering: try another one.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 503
    option http-buffer-request
    # A new connection to a replica for each request: never one to a replica that just died.
    option http-server-close

frontend rasa
    bind {bind}:{settings.rasa_port}
    default_backend rasa

backend rasa
    balance leastconn
    # 200 only once the replica has loaded a model (409 before); the token is Rasa's API token.
    # No maxconn/slowstart queueing here: requests queued for a replica that dies wait out the
    # queue timeout instead of moving on (seen in the kill test). Rasa warms itself up.
    option httpchk GET /status?token={settings.rasa_auth_token}
    http-check expect status 200
{rasa_servers}

frontend actions
    bind 127.0.0.1:{settings.action_port}
    default_backend actions

backend actions
    balance leastconn
    option httpchk GET /health
    http-check expect status 200
{action_servers}
"""


def publish_initial_model(models: ModelServerSettings, model: Path) -> None:
    assert models.publish_dir is not None
    if current(models.publish_dir) is None:
        publish(model, models.publish_dir)


def create_database(url: str) -> None:
    """The PostgreSQL database of ``url``, created when it does not exist yet."""
    import sqlalchemy as sa

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not parts.scheme.startswith("postgres") or not name:
        return
    admin = sa.create_engine(parts._replace(path="/postgres").geturl(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            query = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
            exists = connection.execute(query, {"n": name}).first()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


def children(settings: Settings, cluster: ClusterSettings, models: ModelServerSettings,
             endpoints: Path, haproxy_cfg: Path) -> list[Child]:
    python = sys.executable
    host = "127.0.0.1"
    procs = [Child("models", [python, "-m", "bot.model_server"], f"http://{host}:{models.port}/healthz")]
    for i, port in enumerate(cluster.action_ports(), 1):
        procs.append(Child(f"actions{i}", [python, "-m", "bot.action_server", "-p", str(port)],
                           f"http://{host}:{port}/health"))
    for i, port in enumerate(cluster.rasa_ports(), 1):
        command = [
            python, "-m", "bot.rasa_server", "run", "--enable-api", "-i", host, "-p", str(port),
            "-m", str(settings.model_dir), "--endpoints", str(endpoints),
            "--credentials", str(PROJECT_ROOT / "credentials.yml"),
        ]
        procs.append(Child(f"rasa{i}", command, f"http://{host}:{port}/"))
    haproxy = shutil.which(cluster.haproxy) or shutil.which("haproxy", path="/usr/sbin")
    if not haproxy:
        raise StartupError("HAProxy is not installed: apt-get install haproxy (make install does it as root)")
    procs.append(Child("haproxy", [haproxy, "-db", "-f", str(haproxy_cfg)], f"http://{host}:{settings.rasa_port}/"))
    procs.append(Child("web", [python, "-m", "bot.webchat"], f"http://{host}:{settings.web_port}/healthz"))
    if LauncherSettings.from_env().telegram:
        procs.append(Child("telegram", [python, "-m", "bot.telegram"], None, critical=False))
    procs.append(Child("phone", [python, "-m", "bot.phone"], None, critical=False))
    return procs


def cluster_env(settings: Settings, models: ModelServerSettings) -> dict[str, str]:
    env = launcher.child_env()
    lifetime = int(LauncherSettings.from_env().action_timeout) + 5
    env.update(
        DATABASE_URL=settings.database_url,
        MODEL_PUBLISH_DIR=str(models.publish_dir),
        MODEL_SERVER_PORT=str(models.port),
        TICKET_LOCK_LIFETIME=env.get("TICKET_LOCK_LIFETIME") or str(lifetime),
        VAR_DIR=str(settings.var_dir),
    )
    return env


def banner(settings: Settings, cluster: ClusterSettings, models: ModelServerSettings) -> str:
    return (
        "\n社区服务助手 cluster is running (Ctrl-C stops everything):\n"
        f"  Rasa (REST, HTTP API) via HAProxy:  http://127.0.0.1:{settings.rasa_port}/  → "
        f"{cluster.rasa_replicas} replicas on {', '.join(map(str, cluster.rasa_ports()))}\n"
        f"  Action servers via HAProxy:         http://127.0.0.1:{settings.action_port}/webhook  → "
        f"{', '.join(map(str, cluster.action_ports()))}\n"
        f"  Model server:                       {models.url}\n"
        f"  Web chat and staff console:         http://127.0.0.1:{settings.web_port}/\n"
        f"  Conversations and records: PostgreSQL; conversation locks: {cluster.redis_url}\n"
    )


def run() -> int:
    settings = with_api_token(Settings.from_env())
    if not settings.database_url:
        settings = replace(settings, database_url=DEFAULT_DATABASE)
    if not settings.tracker_url.startswith("postgres"):
        raise StartupError("make run-cluster keeps conversations in PostgreSQL: DATABASE_URL=postgresql://…")
    cluster = ClusterSettings.from_env()
    models = ModelServerSettings.from_env()
    if models.publish_dir is None:
        models = replace(models, publish_dir=settings.var_dir / "published-model")
    create_database(settings.database_url)
    model = launcher.check_prerequisites(settings)
    publish_initial_model(models, model)
    endpoints = write_endpoints(settings, cluster, models)
    haproxy_cfg = settings.var_dir / "cluster" / "haproxy.cfg"
    haproxy_cfg.write_text(haproxy_config(settings, cluster), encoding="utf-8")
    haproxy_cfg.chmod(0o600)  # holds the API token
    supervisor = Supervisor(children(settings, cluster, models, endpoints, haproxy_cfg),
                            cluster_env(settings, models), PROJECT_ROOT)
    return launcher.supervise(supervisor, banner(settings, cluster, models))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return run()
    except (StartupError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
