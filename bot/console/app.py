"""The staff console: routes installed into the web app under ``/staff``.

(Installed as routes of the web app, not with ``add_subapp``: aiohttp 3.9's prefixed
sub-application resolver builds ``request.url``, which the installed yarl rejects for a Host
header with a port.)

Pages (all server-rendered with Jinja2 autoescaping; every POST carries the session's CSRF
token; every route names the role it needs):

* ``/staff/login`` · ``/staff/logout``
* ``/staff/review`` 待答问题 (grouped by meaning; 不在服务范围 its own tab; search, filters,
  bulk actions at ``/staff/review/bulk``), ``/staff/review/{key}`` one group: assign an intent
  (the assistant's guess first), create a new FAQ named in Chinese with its answer (previewed),
  correct the text, or mark it as noise; ``/staff/try`` 试一试: what the assistant answers now
* ``/staff/retrain`` (admin) retrain, with progress from ``/staff/retrain/status``
* ``/staff/handoffs`` 人工接管 inbox (emergencies first, then newest; filters by status, channel
  and who took it; ``/staff/handoffs/close`` closes stale ones in bulk with a note),
  ``/staff/handoffs/{id}`` take, transcript, reply, release
* ``/staff/requests`` 工单 list (masked) and CSV export, ``/staff/requests/{ref}`` in full,
  status change with a note
* ``/staff/stats`` 统计, charts drawn as inline SVG
* ``/staff/outreach`` 月探访: enrolment (with consent), the month's coverage and follow-ups
* ``/staff/users`` and ``/staff/audit`` (admin)
* ``/staff/api/…`` the JSON API for all of the above (``api_pages``, ``docs/openapi.yaml``)

Each page lives in a module named for it (``review_pages``, ``retrain_pages``, ``handoff_pages``,
``request_pages``, ``stats_pages``, ``admin_pages``; login and role checks in ``auth``); this
module only wires them into the web app.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import aiohttp
import jinja2
import sqlalchemy as sa
from aiohttp import web

from bot.console.admin_pages import audit_page, users_action, users_page
from bot.console.api_pages import API_ROUTES
from bot.console.auth import login, login_page, logout, requires, security
from bot.console.conversations import ConversationControl
from bot.console.formatting import DOMAIN_LABELS, localtime, masker, percent, waited
from bot.console.handoff_pages import (
    handoff_close,
    handoff_inbox,
    handoff_page,
    handoff_release,
    handoff_reply,
    handoff_take,
    handoff_transcript,
)
from bot.console.labels import CHANNEL_LABELS, action_label, audit_detail, channel_label, field_labels
from bot.console.outreach_pages import outreach_action, outreach_page
from bot.console.request_pages import request_detail, request_export, request_list, request_status
from bot.console.retrain_pages import retrain_page, retrain_start, retrain_status_json
from bot.console.review_pages import (
    review_action,
    review_bulk,
    review_group,
    review_queue,
    try_page,
)
from bot.console.settings import ConsoleSettings
from bot.console.stats_pages import stats_page
from bot.console.web import (
    CSETTINGS,
    HOOKS,
    HTTP,
    JINJA,
    PREFIX,
    RASA,
    ROOT,
    SETTINGS,
    STORE,
    TRACKER,
    Handler,
    redirect,
    run,
)
from bot.resident.rasa import RasaClient
from community.catalogue import CatalogueError
from community.db import make_engine
from community.forms import forms_path, load_forms
from community.intents import label as intent_label
from community.records.accounts import ROLE_LABELS
from community.records.handoffs import HANDOFF_REASON_LABELS
from community.records.requests import REFERENCE_PATTERN
from community.records.review_queue import UNANSWERED_REASON_LABELS
from community.settings import Settings
from community.store import Store

__all__ = ["PREFIX", "ROUTES", "create_console_app", "install_console"]

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
MAX_FORM_BYTES = 256 * 1024


def make_jinja(
    fields: dict[str, str] | None = None, public_numbers: tuple[str, ...] = ()
) -> jinja2.Environment:
    """``fields``: form field name → label (``person_name`` → 姓名), see :func:`load_field_labels`;
    ``public_numbers``: the community's own phone numbers, never masked."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every variable is escaped, whatever the template's name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        localtime=localtime,
        waited=waited,
        percent=percent,
        mask=masker(public_numbers),
        intent_label=intent_label,
        channel_label=channel_label,
        action_label=action_label,
        audit_detail=audit_detail,
    )
    env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        HANDOFF_REASON_LABELS=HANDOFF_REASON_LABELS,
        UNANSWERED_REASON_LABELS=UNANSWERED_REASON_LABELS,
        DOMAIN_LABELS=DOMAIN_LABELS,
        PREFIX=PREFIX,
        CHANNEL_LABELS=CHANNEL_LABELS,
        FIELD_LABELS=fields or {},
    )
    return env


def load_field_labels(settings: Settings) -> dict[str, str]:
    """The request forms' field labels; none (field names shown) if the forms file is unreadable."""
    try:
        return field_labels(load_forms(forms_path(settings.catalogue_dir)))
    except (CatalogueError, OSError, ValueError) as err:
        log.warning("request form labels not readable: %s", err)
        return {}


@requires("staff")
async def home(request: web.Request) -> web.StreamResponse:
    raise redirect("/handoffs")


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/", home),
    ("POST", "/logout", logout),
    ("GET", "/review", review_queue),
    ("POST", "/review/bulk", review_bulk),
    ("GET", "/try", try_page),
    ("GET", "/review/{key:[A-Za-z0-9_-]{1,64}}", review_group),
    ("POST", "/review/{key:[A-Za-z0-9_-]{1,64}}", review_action),
    ("GET", "/retrain", retrain_page),
    ("POST", "/retrain", retrain_start),
    ("GET", "/retrain/status", retrain_status_json),
    ("GET", "/handoffs", handoff_inbox),
    ("POST", "/handoffs/close", handoff_close),
    ("GET", "/handoffs/{id:\\d+}", handoff_page),
    ("GET", "/handoffs/{id:\\d+}/transcript", handoff_transcript),
    ("POST", "/handoffs/{id:\\d+}/take", handoff_take),
    ("POST", "/handoffs/{id:\\d+}/reply", handoff_reply),
    ("POST", "/handoffs/{id:\\d+}/release", handoff_release),
    ("GET", "/requests", request_list),
    ("GET", "/requests/export.csv", request_export),
    ("GET", "/requests/{ref:" + REFERENCE_PATTERN + "}", request_detail),
    ("POST", "/requests/{ref:" + REFERENCE_PATTERN + "}/status", request_status),
    ("GET", "/stats", stats_page),
    ("GET", "/outreach", outreach_page),
    ("POST", "/outreach", outreach_action),
    ("GET", "/users", users_page),
    ("POST", "/users", users_action),
    ("GET", "/audit", audit_page),
]


def tracker_engine(settings: Settings) -> sa.engine.Engine | None:
    """Rasa's tracker store, read-only here (for conversation counts)."""
    if settings.tracker_url:
        return make_engine(settings.tracker_url)
    # Rasa makes var/tracker.db at its first conversation, often after the console started:
    # open it read-only when asked (never creating it), not only if it existed at start.
    path = settings.var_dir / "tracker.db"
    return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", future=True, hide_parameters=True)


async def _startup(app: web.Application) -> None:
    if STORE not in app and app[HOOKS].get("store_getter") is None:
        app[STORE] = await run(Store.from_url, app[SETTINGS].store_url)
    app[HTTP] = aiohttp.ClientSession()
    app[RASA] = ConversationControl(RasaClient.from_settings(app[SETTINGS], app[HTTP], timeout=10))
    if TRACKER not in app:
        try:
            app[TRACKER] = tracker_engine(app[SETTINGS])
        except Exception as err:  # statistics fall back to the store's own counts
            log.warning("tracker store not readable: %s", type(err).__name__)
            app[TRACKER] = None


async def _cleanup(app: web.Application) -> None:
    await app[HTTP].close()
    engine = app.get(TRACKER)
    if engine is not None:
        engine.dispose()  # type: ignore[attr-defined]


def create_console_app(settings: Settings, **kwargs: Any) -> web.Application:
    """The console alone, as an application serving ``/staff/…`` (tests, a separate process)."""
    app = web.Application(client_max_size=MAX_FORM_BYTES)
    install_console(app, settings, **kwargs)
    return app


def install_console(
    app: web.Application,
    settings: Settings,
    *,
    console_settings: ConsoleSettings | None = None,
    store: Store | None = None,
    store_getter: Callable[[], Store] | None = None,
    root: Path | None = None,
    on_notify: Callable[[], None] | None = None,
    retrainer: Any = None,
    retrainer_factory: Callable[[], Any] | None = None,
    tracker: sa.engine.Engine | None | bool = False,
) -> None:
    """Add the console's routes (under ``/staff``), state and security middleware to ``app``.

    ``store`` (or ``store_getter``, called on first use) shares the web app's store;
    ``on_notify`` is called after anything is queued for a resident; ``root`` is where the
    training data lives (default ``CONSOLE_TRAINING_ROOT``, else this project); ``tracker`` is
    Rasa's tracker store engine (default: from the settings).
    """
    app.middlewares.append(security)
    app[SETTINGS] = settings
    app[CSETTINGS] = console_settings or ConsoleSettings.from_env()
    app[JINJA] = make_jinja(load_field_labels(settings), (settings.community_phone,))
    app[ROOT] = root or app[CSETTINGS].training_root
    app[HOOKS] = {
        "store_getter": store_getter,
        "on_notify": on_notify,
        "retrainer": retrainer,
        "retrainer_factory": retrainer_factory,
    }
    if store is not None:
        app[STORE] = store
    if tracker is not False:
        app[TRACKER] = tracker
    app.router.add_get(PREFIX, home)
    app.router.add_get(PREFIX + "/login", login_page)
    app.router.add_post(PREFIX + "/login", login)
    for method, path, handler in ROUTES + API_ROUTES:  # pages, then the JSON API (api_pages)
        app.router.add_route(method, PREFIX + path, handler)
    app.router.add_static(PREFIX + "/static/", HERE / "static")
    app.on_startup.append(_startup)
    app.on_cleanup.append(_cleanup)
