"""Runs the whole assistant in the foreground: the Rasa server, the action server and the web
app. A server that dies is restarted (see :mod:`bot.supervisor`); Ctrl-C (or SIGTERM) stops all
of them and leaves no process behind.

Before anything starts, the service catalogue is validated and the store is migrated, so a
broken catalogue or an unreachable database stops start-up with a clear message.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from bot.phone.settings import PhoneSettings
from bot.supervisor import Child, StartupError, Supervisor
from community.catalogue import CatalogueError, load_catalogue
from community.forms import forms_path, load_forms
from community.sealed import Sealer
from community.settings import PROJECT_ROOT, LauncherSettings, Settings, with_api_token
from community.store import Store

log = logging.getLogger("launcher")


TRACKER_STORE = "bot.tracker_store.CommunitySQLTrackerStore"


def tracker_store_config(settings: Settings) -> dict:
    """Rasa's SQL tracker store: SQLite under var/ by default, else TRACKER_DATABASE_URL or
    DATABASE_URL."""
    if not settings.tracker_url:
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": str(settings.var_dir / "tracker.db")}
    url = urlsplit(settings.tracker_url)
    scheme = url.scheme.split("+")[0]
    dialect = "postgresql" if scheme in ("postgres", "postgresql") else scheme
    if dialect == "sqlite":
        # sqlite:///var/t.db is relative to the project, sqlite:////srv/t.db absolute.
        return {"type": TRACKER_STORE, "dialect": "sqlite", "db": url.path[1:] or "tracker.db"}
    config = {"type": TRACKER_STORE, "dialect": dialect, "db": url.path.lstrip("/")}
    if url.hostname:
        config["url"] = url.hostname
    if url.port:
        config["port"] = url.port
    if url.username:
        config["username"] = unquote(url.username)
    if url.password:
        config["password"] = unquote(url.password)
    return config


def write_endpoints(settings: Settings) -> Path:
    path = settings.var_dir / "endpoints.yml"
    config = {
        "action_endpoint": {"url": settings.action_url},
        "tracker_store": tracker_store_config(settings),
    }
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    path.chmod(0o600)  # may hold the database password
    return path


def latest_model(settings: Settings) -> Path:
    models = sorted(settings.model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise StartupError(
            f"No trained model in {settings.model_dir}. Run `make train` (or `make run`, which "
            "trains when needed). 没有训练好的模型，请先运行 make train。"
        )
    return models[-1]


def check_prerequisites(settings: Settings) -> Path:
    try:
        catalogue = load_catalogue(settings.catalogue_dir)
    except CatalogueError as err:
        raise StartupError(f"{err}\n服务目录有误，请修改后再启动。") from err
    log.info("Service catalogue: %d services from %s", len(catalogue), settings.catalogue_dir)
    try:
        forms = load_forms(forms_path(settings.catalogue_dir))
    except CatalogueError as err:
        raise StartupError(f"{err}\n办事表单配置有误，请修改后再启动。") from err
    log.info("Requests residents can make: %s", ", ".join(s.title for s in forms.kinds.values()))
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        Sealer.from_env(settings.var_dir)  # created once here, before the servers read it
    except ValueError as err:
        raise StartupError(str(err)) from err
    try:
        Store.from_url(settings.store_url).migrate()
    except Exception as err:
        raise StartupError(
            f"Cannot open the database ({type(err).__name__}: {str(err).splitlines()[0]}). "
            "Check DATABASE_URL. 无法连接数据库，请检查 DATABASE_URL。"
        ) from err
    return latest_model(settings)


def children(settings: Settings, model: Path, endpoints: Path) -> list[Child]:
    python = sys.executable
    rasa = [
        python, "-m", "bot.rasa_server", "run", "--enable-api",
        "-i", settings.host, "-p", str(settings.rasa_port),
        "-m", str(model), "--endpoints", str(endpoints),
        "--credentials", str(PROJECT_ROOT / "credentials.yml"),
    ]
    # No --auth-token here (it would show in `ps`): bot.rasa_server reads it from the settings.
    host = "127.0.0.1"
    procs = [
        Child("actions", [python, "-m", "bot.action_server", "-p", str(settings.action_port)],
              f"http://{host}:{settings.action_port}/health"),
        Child("rasa", rasa, f"http://{host}:{settings.rasa_port}/"),
        Child("web", [python, "-m", "bot.webchat"], f"http://{host}:{settings.web_port}/healthz"),
    ]
    if LauncherSettings.from_env().telegram:
        procs.append(Child("telegram", [python, "-m", "bot.telegram"], None, critical=False))
    else:
        log.info("Telegram is off (set TELEGRAM_BOT_TOKEN to turn it on)")
    # The phone line (SIP on udp SIP_PORT, and the 月探访 calls); supervised like the others.
    procs.append(Child("phone", [python, "-m", "bot.phone"], None, critical=False))
    return procs


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SANIC_HOST="127.0.0.1",  # the action server is only for Rasa, on this machine
        PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
    )
    return env


def banner(settings: Settings, model: Path) -> str:
    store_kind = "DATABASE_URL" if settings.database_url else f"SQLite under {settings.var_dir}"
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return (
        "\n社区服务助手 is running (Ctrl-C stops everything):\n"
        f"  Web chat (居民网页聊天):  http://{shown}:{settings.web_port}/\n"
        f"  Staff console (工作台):   http://{shown}:{settings.web_port}/staff/  "
        "(accounts: python -m bot.console create-user NAME --role staff|admin)\n"
        f"  Rasa server (REST):      http://{shown}:{settings.rasa_port}/webhooks/rest/webhook\n"
        f"  Rasa HTTP API:           http://{shown}:{settings.rasa_port}/model/parse\n"
        f"  Action server:           http://127.0.0.1:{settings.action_port}/webhook\n"
        f"  Phone line (电话):        {PhoneSettings.from_env().local_uri} (UDP, G.711)\n"
        f"  Model: {model.name}   Store: {store_kind}\n"
    )


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def supervise(supervisor: Supervisor, ready_banner: str) -> int:
    """Start the children, print ``ready_banner`` once they are ready, keep them running until
    Ctrl-C/SIGTERM, then stop them all (also used by ``make run-cluster``, bot.cluster)."""
    # Ctrl-C stops everything even when the launcher was started with SIGINT ignored (from a
    # script, in the background: a shell without job control passes it on ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        supervisor.start()
        supervisor.wait_until_ready(LauncherSettings.from_env().ready_timeout)
        print(ready_banner, flush=True)
        supervisor.watch()  # restarts a server that dies, until Ctrl-C/SIGTERM
    except KeyboardInterrupt:
        log.info("Stopping...")
        return 0
    finally:
        supervisor.stop()
    return 0


def run(settings: Settings) -> int:
    model = check_prerequisites(settings)
    endpoints = write_endpoints(settings)
    supervisor = Supervisor(children(settings, model, endpoints), child_env(), PROJECT_ROOT)
    return supervise(supervisor, banner(settings, model))


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        # Rasa's HTTP API always needs a token: RASA_AUTH_TOKEN, or one made in var/.
        settings = with_api_token(Settings.from_env())
        return run(settings)
    except (StartupError, ValueError) as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 2
