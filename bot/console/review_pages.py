"""待答问题: the review queue of questions the assistant could not answer, grouped by meaning
(largest and newest first; search, filters by reason, domain and channel; 不在服务范围 in a tab of
its own; bulk "not a question" and "put in this group"); one group with its conversations,
taught to an intent (the assistant's best guess preselected, with its confidence), taught as a
new FAQ named in Chinese (the identifier is made from the name with pypinyin), the answer
previewed as a resident will see it; and 试一试: what the assistant answers to any wording now.

The work is done by plain functions (:func:`queue_view`, :func:`annotate`, :func:`bulk`,
:func:`try_wording`) that the pages here and the JSON API (``api_pages``) both call.
"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any, Mapping

from aiohttp import web

from bot.console.auth import requires
from bot.console.conversations import transcript
from bot.console.formatting import DOMAIN_LABELS
from bot.console.labels import CHANNEL_LABELS
from bot.console.web import RASA, ROOT, audit, redirect, render, run, store
from bot.resident.rasa import RasaUnavailable
from community.catalogue import DOMAINS
from community.intents import META_INTENTS
from community.intents import label as intent_label
from community.privacy import mask_text
from community.question_groups import group_questions
from community.records.review_queue import RECHECK_LABELS, UNANSWERED_REASON_LABELS
from community.training_data import TrainingData, faq_identifier

OUT_OF_SCOPE = "out_of_scope"
TABS = {"main": "待答问题", "out_of_scope": "不在服务范围"}
# Asked in 试一试, these would reach staff for real: the assistant's understanding is shown instead.
NOT_SENT_INTENTS = {
    "human_handoff": "助手会把居民转给工作人员（试一试不会真的转）。",
    "emergency_help": "助手会先告诉居民拨打 110/119/120，并通知值班人员（试一试不会真的通知）。",
}
MAX_TRY_CHARS = 200


def training_data(request: web.Request) -> TrainingData:
    return TrainingData(request.app[ROOT])


def intent_labels(data: TrainingData) -> dict[str, str]:
    """Every intent's Chinese name, staff-made FAQs included (by their own names)."""
    faqs = data.faq_intents()
    return {n: faqs[n]["label"] if n in faqs else intent_label(n) for n in data.intents()}


def group_rows(rows: list[dict[str, Any]]) -> list[Any]:
    """Questions grouped by meaning, each with ``shown``: the text staff see (the
    representative wording, or a resident's own words when cleaning left nothing)."""
    groups = group_questions(rows)
    by_id = {row["id"]: row for row in rows}
    out = []
    for g in groups:
        first = by_id.get(g.ids[0]) if g.ids else None
        shown = g.text if (g.text or "").strip() else (first["text"] if first else "")
        members = [by_id[i] for i in g.ids if i in by_id]
        out.append(
            SimpleNamespace(
                **{
                    k: getattr(g, k)
                    for k in ("key", "text", "count", "ids", "channels", "latest", "top_intents", "reasons")
                },
                shown=shown or "（空白）",
                domains=domain_labels(members),
                still_failing=sum(1 for r in members if r.get("recheck") == "still_failing"),
            )
        )
    return out


def domain_labels(rows: Any) -> list[str]:
    """The domains the assistant recognised for a group's questions (养老服务…), for staff."""
    found = {str(r["domain"]) for r in rows if r and r.get("domain")}
    return [DOMAINS.get(d, d) for d in sorted(found)]


def filters_from(query: Mapping[str, str]) -> dict[str, str]:
    """The queue's filters from a query string, checked: unknown values are dropped."""
    tab = query.get("tab", "main")
    reason = query.get("reason", "")
    domain = query.get("domain", "")
    channel = query.get("channel", "")
    return {
        "tab": tab if tab in TABS else "main",
        "reason": reason if reason in UNANSWERED_REASON_LABELS else "",
        "domain": domain if domain in DOMAINS or domain == "none" else "",
        "channel": channel if channel in CHANNEL_LABELS else "",
        "q": " ".join(str(query.get("q", "")).split())[:50],
    }


def queue_view(request: web.Request, filters: dict[str, str]) -> dict[str, Any]:
    """The groups the filters select, largest and newest first, with the counts per reason."""
    queue = store(request).review_queue
    kwargs: dict[str, Any] = {
        "domain": filters["domain"] or None,
        "channel": filters["channel"] or None,
        "search": filters["q"] or None,
    }
    if filters["tab"] == OUT_OF_SCOPE:
        kwargs["reasons"] = [OUT_OF_SCOPE]
    elif filters["reason"]:
        kwargs["reasons"] = [filters["reason"]]
    else:
        kwargs["exclude_reasons"] = [OUT_OF_SCOPE]
    rows = queue.pending(**kwargs)
    counts = queue.counts()
    return {
        "groups": group_rows(rows),
        "total": len(rows),
        "counts": counts,
        "tab_counts": {
            "main": sum(n for r, n in counts.items() if r != OUT_OF_SCOPE),
            "out_of_scope": counts.get(OUT_OF_SCOPE, 0),
        },
    }


@requires("staff")
async def review_queue(request: web.Request) -> web.Response:
    filters = filters_from(request.query)
    view = await run(queue_view, request, filters)
    data = training_data(request)
    return render(
        request,
        "review.html",
        **view,
        filters=filters,
        tabs=TABS,
        labels=await run(intent_labels, data),
        reason_labels={k: v for k, v in UNANSWERED_REASON_LABELS.items() if k != OUT_OF_SCOPE},
        domain_choices=DOMAINS,
        nav="review",
    )


async def context_around(
    request: web.Request, row: dict[str, Any], before: int = 3, after: int = 3
) -> list[dict] | None:
    """The lines of the conversation around a queued question (None if Rasa cannot say)."""
    try:
        tracker = await request.app[RASA].tracker(row["conversation_id"])
    except RasaUnavailable:
        return None
    lines = transcript(tracker)
    created = row["created_at"].timestamp() if row.get("created_at") else None
    best = None
    for i, line in enumerate(lines):
        if line["who"] == "resident" and line["text"].strip() == row["text"].strip():
            if best is None or created is None or (line["at"] or 0) <= created + 5:
                best = i
    if best is None:
        return lines[-(before + after) :]
    out = lines[max(0, best - before) : best + after + 1]
    for line in out:
        line["current"] = line is lines[best]
    return out


def intent_choices(data: Any) -> list[tuple[str, str]]:
    """(name, Chinese name) of the intents staff may assign, service intents first."""
    labels = intent_labels(data)
    names = [n for n in data.intents() if n != "nlu_fallback"]
    names.sort(key=lambda n: n in META_INTENTS)  # stable: the file's order within each part
    return [(n, labels[n]) for n in names]


def best_guess(group: Any, choices: list[tuple[str, str]]) -> tuple[str, float] | None:
    """The assistant's own best guess for a group (an intent staff may assign), and how sure."""
    allowed = {n for n, _ in choices}
    for item in group.top_intents or []:
        if item.get("name") in allowed:
            return str(item["name"]), float(item.get("confidence") or 0.0)
    return None


async def find_group(request: web.Request, key: str) -> tuple[Any | None, list[dict[str, Any]]]:
    rows = await run(store(request).review_queue.pending)
    groups = await run(group_rows, rows)
    group = next((g for g in groups if g.key == key), None)
    if group is None:
        return None, []
    members = [r for r in rows if r["id"] in set(group.ids)]
    return group, members


async def review_group_page(
    request: web.Request,
    key: str,
    error: str = "",
    status: int = 200,
    form: Any = None,
    preview: str = "",
    tried: dict[str, Any] | None = None,
) -> web.StreamResponse:
    group, members = await find_group(request, key)
    if group is None:
        raise redirect("/review", done="gone")
    shown = members[:20]
    contexts = await asyncio.gather(*(context_around(request, row) for row in shown[:5]))
    data = training_data(request)
    intents = await run(intent_choices, data)
    guess = best_guess(group, intents)
    form = form or {}
    return render(
        request,
        "review_group.html",
        status=status,
        error=error,
        group=group,
        members=shown,
        more=len(members) - len(shown),
        contexts=list(contexts) + [None] * (len(shown) - len(contexts)),
        intents=intents,
        labels=dict(intents),
        guess=guess,
        chosen=str(form.get("intent", "")) or (guess[0] if guess else ""),
        preview=preview,
        tried=tried,
        picked=form_ids(form) if hasattr(form, "getall") else [],
        RECHECK_LABELS=RECHECK_LABELS,
        form=form,
        nav="review",
    )


@requires("staff")
async def review_group(request: web.Request) -> web.StreamResponse:
    return await review_group_page(request, request.match_info["key"])


class ReviewRefused(ValueError):
    """What staff asked cannot be done; the message says why, in Chinese."""


async def annotate(
    request: web.Request,
    key: str,
    *,
    ids: list[int],
    action: str,
    texts: Mapping[int, str] | None = None,
    intent: str = "",
    label: str = "",
    answer: str = "",
) -> dict[str, Any]:
    """Close the chosen questions of a group: ``noise``, ``assign`` (to ``intent``) or
    ``new_intent`` (a new FAQ called ``label`` answering ``answer``). ``texts``: corrected
    wordings by id. Returns {"status", "count", "intent", "label"}; raises ReviewRefused."""
    user = request["user"]["username"]
    queue = store(request).review_queue
    rows = [r for r in await run(queue.questions, ids) if r["status"] == "new"]
    if not rows:
        raise ReviewRefused("请至少勾选一条还没处理的问题。")
    wordings, corrected = [], {}
    for row in rows:
        original = mask_text(row["text"])
        text = " ".join(str((texts or {}).get(row["id"], original)).split())[:500]
        if not text:
            raise ReviewRefused("例句不能为空。")
        wordings.append(text)
        if text != original:
            corrected[row["id"]] = text
    ids = [r["id"] for r in rows]
    if action == "noise":
        n = await run(queue.review, ids, "noise", reviewer=user, group_key=key)
        await audit(request, "review_noise", key, {"ids": ids})
        return {"status": "noise", "count": n, "intent": None, "label": None}
    data = training_data(request)
    try:
        if action == "assign":
            labels = await run(intent_labels, data)
            if intent not in labels:
                raise ReviewRefused("请选择一个意图。")
            await run(data.add_examples, intent, wordings, user)
            status, shown = "assigned", labels[intent]
        elif action == "new_intent":
            label, answer = label.strip(), answer.strip()
            if not label or not answer:
                raise ReviewRefused("新问题需要填写：问题名称和回答。")
            intent = faq_identifier(label, await run(data.intents))
            await run(data.create_intent, intent, label, answer, wordings, user)
            status, shown = "new_intent", label
        else:
            raise ReviewRefused("请选择要做的操作。")
    except ReviewRefused:
        raise
    except ValueError as err:
        raise ReviewRefused(chinese(err)) from err
    n = 0
    for row in rows:
        n += await run(
            queue.review, [row["id"]], status, reviewer=user, intent=intent,
            corrected_text=corrected.get(row["id"]), group_key=key,
        )
    # In the audit log as staff read it: the intent's Chinese name (the identifier is on the rows).
    await audit(request, "review_" + status, key, {"ids": ids, "intent": shown, "examples": wordings})
    return {"status": status, "count": n, "intent": intent, "label": shown}


def chinese(err: Exception) -> str:
    """The Chinese half of a training-data refusal ("English (中文)")."""
    text = str(err)
    if text.endswith(")") and " (" in text:
        return text[text.rindex(" (") + 2 : -1]
    return text


def form_ids(form: Any) -> list[int]:
    try:
        return sorted({i for i in (int(v) for v in form.getall("ids", [])) if 0 < i < 2**31})
    except ValueError:
        return []


@requires("staff")
async def review_action(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    form = request["form"]
    action = str(form.get("action", ""))
    ids = form_ids(form)
    texts = {i: str(form.get(f"text_{i}")) for i in ids if form.get(f"text_{i}") is not None}
    if action == "preview":
        answer = str(form.get("answer", "")).strip()
        return await review_group_page(
            request, key, form=form, preview=answer or "（还没有写回答）"
        )
    if action == "try":
        tried = await try_wording(request, str(form.get("try_text", "")))
        return await review_group_page(request, key, form=form, tried=tried)
    try:
        done = await annotate(
            request, key, ids=ids, action=action, texts=texts, intent=str(form.get("intent", "")),
            label=str(form.get("new_label", "")), answer=str(form.get("answer", "")),
        )
    except ReviewRefused as err:
        return await review_group_page(request, key, str(err), 400, form)
    raise redirect("/review", done=done["status"], n=done["count"], x=done["label"])


async def bulk(request: web.Request, keys: list[str], action: str, target: str = "") -> dict[str, Any]:
    """Whole groups at once: ``noise`` (not questions), or ``group``: put them in the group
    ``target`` (its key). Returns {"action", "count"}; raises ReviewRefused."""
    queue = store(request).review_queue
    rows = await run(queue.pending)
    groups = {g.key: g for g in await run(group_rows, rows)}
    chosen = [groups[k] for k in keys if k in groups]
    if not chosen:
        raise ReviewRefused("请至少勾选一组问题。")
    ids = [i for g in chosen for i in g.ids]
    user = request["user"]["username"]
    if action == "noise":
        n = 0
        for g in chosen:
            n += await run(queue.review, g.ids, "noise", reviewer=user, group_key=g.key)
        await audit(request, "review_noise", ",".join(k for k in keys if k in groups)[:128], {"ids": ids})
        return {"action": "noise", "count": n}
    if action == "group":
        if target not in groups:
            raise ReviewRefused("请选择要并入的那一组。")
        n = await run(queue.set_group, [i for i in ids if i not in groups[target].ids], target)
        await audit(request, "review_group", target, {"ids": ids})
        return {"action": "group", "count": n}
    raise ReviewRefused("请选择要做的操作。")


@requires("staff")
async def review_bulk(request: web.Request) -> web.StreamResponse:
    form = request["form"]
    keys = [str(k) for k in form.getall("keys", [])]
    back = {k: str(form.get(k, "")) for k in ("tab", "reason", "domain", "channel", "q") if form.get(k)}
    try:
        done = await bulk(request, keys, str(form.get("action", "")), str(form.get("target", "")))
    except ReviewRefused as err:
        raise redirect("/review", done="bulk_none", **back) from err
    raise redirect("/review", done="bulk_" + done["action"], n=done["count"], **back)


async def try_wording(request: web.Request, text: str) -> dict[str, Any]:
    """What the assistant answers to ``text`` now (the running model, through the one Rasa
    client): its understanding (the intent's Chinese name and how sure), a staff-approved
    question it matched, and its replies as a resident sees them. Nothing is recorded for
    review; asking for a person or reporting an emergency is not sent on."""
    text = " ".join(str(text).split())[:MAX_TRY_CHARS]
    if not text:
        return {"text": "", "error": "请输入要试的问法。"}
    rasa = request.app[RASA].rasa
    labels = await run(intent_labels, training_data(request))
    try:
        parsed = await rasa.parse(text)
    except RasaUnavailable:
        return {"text": text, "error": "现在连不上助手，请稍后再试。"}
    intent = parsed.get("intent") or {}
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    name = str(intent.get("name") or "")
    found = parsed.get("faq_retrieval") or {}
    result: dict[str, Any] = {
        "text": text,
        "intent": name,
        "label": labels.get(name) or intent_label(name),
        "confidence": round(float(intent.get("confidence") or 0.0), 4),
        "ranking": [
            {"intent": r["name"], "label": labels.get(r["name"]) or intent_label(r["name"]),
             "confidence": round(float(r.get("confidence") or 0.0), 4)}
            for r in ranking[:3]
        ],
        "approved_question": found.get("question") if found.get("used") else None,
        "replies": [],
        "note": "",
    }
    top = ranking[0]["name"] if ranking else name
    if top in NOT_SENT_INTENTS or name in NOT_SENT_INTENTS:
        result["note"] = NOT_SENT_INTENTS.get(name) or NOT_SENT_INTENTS[top]
        return result
    try:
        messages = await rasa.send(f"staff-try-{uuid.uuid4().hex[:12]}", text, {"channel": "console"})
    except RasaUnavailable:
        result["note"] = "助手的回答现在取不到，上面是它的理解。"
        return result
    result["replies"] = [
        {"text": str(m.get("text") or ""),
         "buttons": [str(b.get("title") or "") for b in m.get("buttons") or [] if isinstance(b, dict)]}
        for m in messages
        if m.get("text") or m.get("buttons")
    ]
    return result


@requires("staff")
async def try_page(request: web.Request) -> web.Response:
    text = request.query.get("q", "")
    tried = await try_wording(request, text) if text else None
    return render(request, "try.html", tried=tried, nav="try")


__all__ = [
    "DOMAIN_LABELS", "ReviewRefused", "annotate", "bulk", "group_rows", "queue_view", "review_action",
    "review_bulk", "review_group", "review_queue", "try_page", "try_wording",
]
