"""aiohttp application for the resident web chat.

Routes (all assets are served by the app itself; no CDN):

* ``GET /`` — the page; sets the anonymous resident id cookie.
* ``POST /api/chat`` ``{"message": …}`` — forwarded to Rasa's REST channel with channel
  metadata and the resident id; answers ``{"messages": [...]}`` where each message also lists
  the request reference numbers (``SQ-YYYYMMDD-NNNN``) found in its text. The resident never
  gets an empty reply: while Rasa is down (being restarted) or answers nothing (an action
  failed), the answer is :func:`community.recovery.recovery_reply` (an emergency gets
  119/110/120 first) with ``"recovering": true``; while staff hold the conversation the
  assistant is silent and ``"notice"`` says staff will answer. ``"asking"``: a form waits for the
  resident's answer to its question; the one message of a reply that is a final answer (not a
  question, a menu, a summary to confirm) has ``"rate": true`` and gets the 👍/👎 buttons.
* ``GET /api/history`` — the resident's own conversation so far (by the cookie only), read from
  Rasa's tracker through the resident service, so a reload keeps it (reference numbers included).
* ``POST /api/rate`` ``{"question", "answer", "rating": "up"|"down"}`` — 好差评, stored with
  :meth:`community.records.ratings.Ratings.record` (a 👎 puts the question in the staff review queue).
* ``GET /api/events`` — server-sent events: messages pushed to this resident, including the
  notifications the staff console queued for them (staff replies, request status changes;
  see :mod:`bot.webchat.delivery`), delivered when the page is open or at its next visit.
* ``/staff/…`` — the staff console (:mod:`bot.console.app`), mounted as a sub-application.
* ``POST /api/ack`` ``{"ids": [...]}`` — the page showed these notifications (then, and only
  then, they count as delivered).
* ``GET /api/voice`` — whether voice input is installed; ``POST /api/voice`` (the recording as
  the body) — decoded with ffmpeg, recognised with Vosk, then answered like ``/api/chat``.
* ``GET|POST /api/speech`` ``text=…&rate=normal|slow`` — the text read aloud, as WAV.

Every response carries a Content-Security-Policy (only this server's own scripts, styles and
connections; no framing) and the other security headers in :data:`SECURITY_HEADERS`; the staff
console sets its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.console.app import install_console
from bot.resident.rasa import RasaClient, RasaUnavailable
from bot.resident.service import Answer, ResidentService, rated_message
from bot.webchat.delivery import PREFIX, Delivery
from bot.webchat.hub import PushHub
from community.records.ratings import RATINGS
from community.settings import Settings
from community.store import Store
from voice.asr import Recognizer, load_recognizer
from voice.errors import VoiceError
from voice.settings import VoiceSettings
from voice.tts import MAX_TEXT_CHARS, Pyttsx3Synthesizer, SpeechRate, Synthesizer

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
COOKIE = "sqa_rid"
MAX_BODY = 64 * 1024
MAX_MESSAGE_CHARS = 2000
MAX_RATED_CHARS = 5000
MAX_AUDIO_BYTES = 2 * 1024 * 1024
MAX_AUDIO_SECONDS = 60.0
KEEPALIVE_SECONDS = 15.0

EMPTY = "请先输入您的问题。"
TOO_LONG = f"您输入的内容太长了（最多{MAX_MESSAGE_CHARS}字），请分几次说。"
BAD_REQUEST = "请求格式不对，请刷新页面后再试。"
NO_VOICE_MODEL = "语音输入还没有安装（缺少中文语音识别模型），请用文字输入，或请工作人员安装。"
NO_VOICE_HERE = "这里暂时不能用语音，请打字提问；想说话的话，请打社区电话 {phone}。"
NO_HISTORY = "暂时读不到之前的对话，您可以直接接着问。"
# A message that waits for the resident (a question, a menu, a summary to confirm, "did you
# mean A or B") is not an answer to rate.
VOICE_ERRORS = {
    "bad-audio": (400, "这段录音无法识别（不是能播放的声音文件），请重新录一次，或用文字输入。"),
    "too-long": (413, f"录音太长了（最多{MAX_AUDIO_SECONDS:.0f}秒、2MB），请说短一点再试。"),
    "timeout": (503, "处理录音超时了，请稍后再试，或用文字输入。"),
    "no-engine": (503, "服务器缺少声音处理组件，语音暂时用不了，请用文字输入。"),
    "no-model": (503, NO_VOICE_MODEL),
    "asr-failed": (503, "语音识别出错了，请再说一遍，或用文字输入。"),
    "silent": (422, "没有听到声音，请靠近一点再说，或用文字输入。"),
    "not-heard": (422, "没有听清您说的话，请再说一遍，或用文字输入。"),
}
SPEECH_UNAVAILABLE = "朗读功能暂时用不了，请看文字。"
HELD = "您的消息已经转给社区工作人员，请稍等，他们会在这里回复您。"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

SETTINGS = web.AppKey("settings", Settings)
VOICE_SETTINGS = web.AppKey("voice_settings", VoiceSettings)
HTTP = web.AppKey("http", aiohttp.ClientSession)
STORE = web.AppKey("store", Store)
HUB = web.AppKey("hub", PushHub)
RECOGNIZER = web.AppKey("recognizer", object)  # a Recognizer, or None without a Chinese model
SYNTHESIZER = web.AppKey("synthesizer", Synthesizer)
KEEPALIVE = web.AppKey("keepalive", float)
STREAMS = web.AppKey("streams", set)  # the tasks serving open event streams
DELIVERY = web.AppKey("delivery", Delivery)
SERVICE = web.AppKey("service", ResidentService)


def error(message: str, status: int, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def resident_id(request: web.Request) -> tuple[str, bool]:
    """The resident's anonymous id from the cookie, or a new one (and whether it is new)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) == 32 and all(c in "0123456789abcdef" for c in value):
        return value, False
    return secrets.token_hex(16), True


def remember(response: web.StreamResponse, rid: str, is_new: bool) -> web.StreamResponse:
    if is_new:
        response.set_cookie(COOKIE, rid, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")
    return response


async def index(request: web.Request) -> web.StreamResponse:
    rid, is_new = resident_id(request)
    response = web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
    return remember(response, rid, is_new)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Just before any response's headers go out (pages, API, event streams, static files,
    errors); what a handler or the console's middleware set is kept."""
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)


async def read_json(request: web.Request) -> dict[str, Any] | None:
    """The JSON object in the body, or None when it is not one (malformed, nested too deep)."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def check_message(message: object) -> str | None:
    """A Chinese message saying what is wrong with a resident's text, or None if it can be sent."""
    if message is not None and not isinstance(message, str):
        return BAD_REQUEST
    if not message or not message.strip():
        return EMPTY
    if len(message) > MAX_MESSAGE_CHARS:
        return TOO_LONG
    return None


async def chat(request: web.Request) -> web.Response:
    body = await read_json(request)
    if body is None:
        return error(BAD_REQUEST, 400)
    message = body.get("message")
    problem = check_message(message)
    if problem:
        return error(problem, 413 if problem == TOO_LONG else 400)
    rid, is_new = resident_id(request)
    service: ResidentService = request.app[SERVICE]
    answer = await service.ask(PREFIX + rid, message, "web")
    asking = await service.asking(PREFIX + rid, answer)
    return remember(web.json_response(as_json(answer, asking)), rid, is_new)


def as_json(answer: Answer, asking: bool | None = None) -> dict[str, Any]:
    """What the page shows for an answer: the messages; ``notice`` while staff hold the
    conversation (the assistant is silent then); ``recovering`` while it can't answer;
    ``asking`` while a form waits for an answer. The last final answer of the reply is marked
    ``rate`` (only it gets 👍/👎: not questions, menus, summaries or recovery replies)."""
    messages = [dict(m) for m in answer.messages]
    rated = rated_message(answer, asking)
    if rated is not None:
        messages[rated]["rate"] = True
    body: dict[str, Any] = {"messages": messages}
    if answer.held:
        body["notice"] = HELD
    if answer.recovering:
        body["recovering"] = True
    if asking is not None:
        body["asking"] = asking
    return body


async def history(request: web.Request) -> web.Response:
    """The resident's own conversation (by their cookie; nothing in the request names another)."""
    rid, is_new = resident_id(request)
    if is_new:
        return remember(web.json_response({"messages": [], "asking": False}), rid, is_new)
    try:
        past = await request.app[SERVICE].history(PREFIX + rid)
    except RasaUnavailable as err:
        log.warning("history not read: %s", err.code)
        return error(NO_HISTORY, 503)
    return web.json_response({"messages": past.messages, "asking": past.asking})


async def rate(request: web.Request) -> web.Response:
    body = await read_json(request)
    if body is None:
        return error(BAD_REQUEST, 400)
    rating, question, answer = body.get("rating"), body.get("question", ""), body.get("answer")
    if rating not in RATINGS or not isinstance(question, str) or not isinstance(answer, str):
        return error(BAD_REQUEST, 400)
    if not answer.strip() or len(answer) > MAX_RATED_CHARS or len(question) > MAX_RATED_CHARS:
        return error(BAD_REQUEST, 400)
    rid, is_new = resident_id(request)
    try:
        row = await request.app[SERVICE].rate(
            PREFIX + rid, "web", question=question, answer=answer, rating=rating
        )
    except Exception as err:  # the database is down or refused the row
        log.warning("rating not stored: %s", type(err).__name__)
        return error("评价没有保存成功，请稍后再试。", 503)
    thanks = "谢谢您的评价！" if rating == "up" else "谢谢您的评价，我们会请工作人员改进这个回答。"
    return remember(web.json_response({"id": row, "message": thanks}), rid, is_new)


async def events(request: web.Request) -> web.StreamResponse:
    rid, is_new = resident_id(request)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    remember(response, rid, is_new)
    await response.prepare(request)
    hub = request.app[HUB]
    queue = hub.subscribe(rid)
    keepalive = request.app[KEEPALIVE]
    task = asyncio.current_task()
    streams = request.app[STREAMS]
    if task is not None:
        streams.add(task)
    try:
        await response.write(b"retry: 5000\n: connected\n\n")
        try:  # what staff sent while this resident was away
            await request.app[DELIVERY].deliver(rid)
        except Exception as err:
            log.warning("notifications not delivered: %s", type(err).__name__)
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), keepalive)
            except asyncio.TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            data = json.dumps(message.as_json(), ensure_ascii=False)
            try:
                await response.write(f"event: push\ndata: {data}\n\n".encode())
            except BaseException:
                request.app[DELIVERY].not_written(message)
                raise
    except ConnectionError:
        pass
    finally:
        hub.unsubscribe(rid, queue)
        streams.discard(task)
        while not queue.empty():  # queued for this page, never written: retried later
            request.app[DELIVERY].not_written(queue.get_nowait())
    return response


async def ack(request: web.Request) -> web.Response:
    """The page showed these pushed notifications (``{"ids": [...]}``)."""
    if request.content_type != "application/json":
        return error("send JSON", 415)
    body = await read_json(request)
    ids = body.get("ids") if body else None
    if not isinstance(ids, list) or not ids or len(ids) > 100 or not all(isinstance(i, int) for i in ids):
        return error(BAD_REQUEST, 400)
    rid, is_new = resident_id(request)
    if is_new:
        return web.json_response({"acknowledged": 0})
    try:
        done = await request.app[DELIVERY].acknowledge(rid, ids)
    except Exception as err:  # the store is away: the notification will simply come again
        log.warning("acknowledgement not stored: %s", type(err).__name__)
        return error("稍后再试。", 503)
    return web.json_response({"acknowledged": done})


async def voice_status(request: web.Request) -> web.Response:
    available = request.app[SERVICE].can_hear
    phone = request.app[SETTINGS].community_phone
    message = "" if available else NO_VOICE_HERE.format(phone=phone)
    return web.json_response({"available": available, "message": message})


async def read_audio(request: web.Request) -> bytes | None:
    """The request body, or None once it is over MAX_AUDIO_BYTES (read no further)."""
    if request.content_length is not None and request.content_length > MAX_AUDIO_BYTES:
        return None
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data.extend(chunk)
        if len(data) > MAX_AUDIO_BYTES:
            return None
    return bytes(data)


async def voice(request: web.Request) -> web.Response:
    audio = await read_audio(request)
    if audio is None:
        return error(VOICE_ERRORS["too-long"][1], 413, code="too-long")
    if not audio:
        return error("没有收到录音，请点“说话”开始，说完再点一次。", 400, code="bad-audio")
    service: ResidentService = request.app[SERVICE]
    try:
        heard = await service.hear(
            audio, max_seconds=MAX_AUDIO_SECONDS, max_bytes=MAX_AUDIO_BYTES,
            timeout=request.app[VOICE_SETTINGS].timeout_seconds,
        )
    except VoiceError as err:
        log.info("voice input rejected: %s", err.code)
        status, message = VOICE_ERRORS.get(err.code, (400, VOICE_ERRORS["bad-audio"][1]))
        extra = {"seconds": err.seconds} if err.seconds is not None else {}
        return error(message, status, code=err.code, **extra)
    rid, is_new = resident_id(request)
    answer = await service.ask(PREFIX + rid, heard.text[:MAX_MESSAGE_CHARS], "web", input="voice")
    asking = await service.asking(PREFIX + rid, answer)
    reply = web.json_response({"heard": heard.text, "seconds": heard.seconds, **as_json(answer, asking)})
    return remember(reply, rid, is_new)


async def speech(request: web.Request) -> web.Response:
    if request.method == "POST":
        body = await read_json(request)
        if body is None:
            return error(BAD_REQUEST, 400)
        text, rate_name = body.get("text"), body.get("rate", "normal")
    else:
        text, rate_name = request.query.get("text"), request.query.get("rate", "normal")
    if not isinstance(text, str) or rate_name not in ("normal", "slow"):
        return error(BAD_REQUEST, 400)
    if len(text) > MAX_TEXT_CHARS:
        return error("这段文字太长，无法朗读。", 413)
    try:
        wav = await request.app[SERVICE].speak(text, SpeechRate(rate_name))
    except VoiceError as err:
        if err.code == "empty-text":
            return error("没有可以朗读的文字。", 400)
        log.warning("speech synthesis failed: %s", err.code)
        return error(SPEECH_UNAVAILABLE, 503, code=err.code)
    cache = {"Cache-Control": "private, max-age=3600"}
    return web.Response(body=wav, content_type="audio/wav", headers=cache)


async def _open_resources(app: web.Application) -> None:
    app[HTTP] = aiohttp.ClientSession()
    if STORE not in app:
        app[STORE] = await asyncio.to_thread(Store.from_url, app[SETTINGS].store_url)
    if RECOGNIZER not in app:
        app[RECOGNIZER] = await asyncio.to_thread(load_recognizer, app[VOICE_SETTINGS].vosk_model_path)
    if SYNTHESIZER not in app:
        app[SYNTHESIZER] = Pyttsx3Synthesizer.from_settings(app[VOICE_SETTINGS])
    app[SERVICE] = ResidentService(
        app[SETTINGS],
        RasaClient.from_settings(app[SETTINGS], app[HTTP]),
        app[STORE],
        recognizer=app[RECOGNIZER],  # type: ignore[arg-type]
        synthesizer=app[SYNTHESIZER],
    )


async def _start_delivery(app: web.Application) -> None:
    app[DELIVERY].start()


async def _end_streams(app: web.Application) -> None:
    """Close open event streams at shutdown, so stopping the server does not wait for pages."""
    await app[DELIVERY].stop()
    for task in list(app[STREAMS]):
        task.cancel()


async def _close_resources(app: web.Application) -> None:
    await app[HTTP].close()
    with contextlib.suppress(Exception):
        await asyncio.to_thread(app[SYNTHESIZER].close)
    with contextlib.suppress(Exception):
        app[STORE].engine.dispose()


def create_app(
    settings: Settings,
    *,
    voice_settings: VoiceSettings | None = None,
    store: Store | None = None,
    recognizer: Recognizer | None | bool = False,
    synthesizer: Synthesizer | None = None,
    keepalive: float = KEEPALIVE_SECONDS,
    console: dict[str, Any] | bool = True,
    delivery_interval: float = 2.0,
) -> web.Application:
    """The web chat. ``store``, ``recognizer`` (``None``: no voice input) and ``synthesizer``
    are opened at start-up from the settings unless given (tests give fakes);
    ``recognizer=False`` means "look for the model". ``console``: install the staff console
    under ``/staff`` (``True``, or a dict of :func:`bot.console.app.install_console` options;
    ``False``: no console)."""
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[VOICE_SETTINGS] = voice_settings or VoiceSettings.from_env()
    app[HUB] = PushHub()
    app[KEEPALIVE] = keepalive
    app[STREAMS] = set()
    app[DELIVERY] = Delivery(lambda: app[STORE], app[HUB], interval=delivery_interval)
    if store is not None:
        app[STORE] = store
    if recognizer is not False:
        app[RECOGNIZER] = recognizer
    if synthesizer is not None:
        app[SYNTHESIZER] = synthesizer
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/rate", rate)
    app.router.add_get("/api/history", history)
    app.router.add_get("/api/events", events)
    app.router.add_post("/api/ack", ack)
    app.router.add_get("/api/voice", voice_status)
    app.router.add_post("/api/voice", voice)
    app.router.add_get("/api/speech", speech)
    app.router.add_post("/api/speech", speech)
    app.router.add_static("/static/", STATIC)
    app.on_response_prepare.append(security_headers)
    app.on_startup.append(_open_resources)
    app.on_startup.append(_start_delivery)
    app.on_shutdown.append(_end_streams)
    app.on_cleanup.append(_close_resources)
    if console is not False:
        options = {"store_getter": lambda: app[STORE], "on_notify": app[DELIVERY].wake,
                   **(console if isinstance(console, dict) else {})}
        install_console(app, settings, **options)
    return app
