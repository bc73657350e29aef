"""待答问题: the review queue of questions the assistant could not answer, grouped; one group
with its conversations; assigning it to an intent, a new intent, or marking it as noise."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiohttp import web

from bot.console.auth import requires
from bot.console.conversations import transcript
from bot.console.web import RASA, ROOT, audit, redirect, render, run, store
from bot.resident.rasa import RasaUnavailable
from community.catalogue import DOMAINS
from community.intents import label as intent_label
from community.privacy import mask_text
from community.question_groups import group_questions
from community.training_data import TrainingData


def group_rows(rows: list[dict[str, Any]]) -> list[Any]:
    """Near-duplicate questions as groups, each with ``shown``: the text staff see (the
    representative wording, or a resident's own words when cleaning left nothing)."""
    groups = group_questions(rows)
    by_id = {row["id"]: row for row in rows}
    out = []
    for g in groups:
        first = by_id.get(g.ids[0]) if g.ids else None
        shown = g.text if (g.text or "").strip() else (first["text"] if first else "")
        out.append(
            SimpleNamespace(
                **{
                    k: getattr(g, k)
                    for k in ("key", "text", "count", "ids", "channels", "latest", "top_intents")
                },
                shown=shown or "（空白）",
                domains=domain_labels(by_id.get(i) for i in g.ids),
            )
        )
    return out


def domain_labels(rows: Any) -> list[str]:
    """The domains the assistant recognised for a group's questions (养老服务…), for staff."""
    found = {str(r["domain"]) for r in rows if r and r.get("domain")}
    return [DOMAINS.get(d, d) for d in sorted(found)]


def training_data(request: web.Request) -> TrainingData:
    return TrainingData(request.app[ROOT])


@requires("staff")
async def review_queue(request: web.Request) -> web.Response:
    rows = await run(store(request).review_queue.pending)
    groups = await run(group_rows, rows)
    return render(request, "review.html", groups=groups, total=len(rows), nav="review")


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
    """(name, label) of the intents staff may assign, service intents first."""
    from community.intents import META_INTENTS

    faqs = data.faq_intents() if hasattr(data, "faq_intents") else {}
    names = [n for n in data.intents() if n != "nlu_fallback"]
    names.sort(key=lambda n: n in META_INTENTS)  # stable: the file's order within each part
    return [(n, faqs[n]["label"] if n in faqs else intent_label(n)) for n in names]


async def find_group(request: web.Request, key: str) -> tuple[Any | None, list[dict[str, Any]]]:
    rows = await run(store(request).review_queue.pending)
    groups = await run(group_rows, rows)
    group = next((g for g in groups if g.key == key), None)
    if group is None:
        return None, []
    members = [r for r in rows if r["id"] in set(group.ids)]
    return group, members


async def review_group_page(
    request: web.Request, key: str, error: str = "", status: int = 200, form: Any = None
) -> web.StreamResponse:
    group, members = await find_group(request, key)
    if group is None:
        raise redirect("/review", done="gone")
    shown = members[:20]
    contexts = await asyncio.gather(*(context_around(request, row) for row in shown[:5]))
    data = training_data(request)
    intents = await run(intent_choices, data)
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
        training_ready=data is not None,
        form=form or {},
        nav="review",
    )


@requires("staff")
async def review_group(request: web.Request) -> web.StreamResponse:
    return await review_group_page(request, request.match_info["key"])


@requires("staff")
async def review_action(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    form = request["form"]
    user = request["user"]["username"]
    action = str(form.get("action", ""))
    try:
        ids = sorted({int(i) for i in form.getall("ids", [])})
    except ValueError:
        ids = []
    rows = [r for r in await run(store(request).review_queue.questions, ids) if r["status"] == "new"]
    if not rows:
        return await review_group_page(request, key, "请至少勾选一条还没处理的问题。", 400, form)
    texts, corrected = [], {}
    for row in rows:
        original = mask_text(row["text"])
        text = " ".join(str(form.get(f"text_{row['id']}", original)).split())[:500]
        if not text:
            return await review_group_page(request, key, "例句不能为空。", 400, form)
        texts.append(text)
        if text != original:
            corrected[row["id"]] = text
    ids = [r["id"] for r in rows]
    if action == "noise":
        n = await run(store(request).review_queue.review, ids, "noise", reviewer=user, group_key=key)
        await audit(request, "review_noise", key, {"ids": ids})
        raise redirect("/review", done="noise", n=n)
    data = training_data(request)
    try:
        if action == "assign":
            intent = str(form.get("intent", ""))
            await run(data.add_examples, intent, texts, user)
            status, shown = "assigned", intent
        elif action == "new_intent":
            name = str(form.get("new_name", "")).strip()
            label = str(form.get("new_label", "")).strip()
            answer = str(form.get("answer", "")).strip()
            if not name or not label or not answer:
                raise ValueError("新意图需要填写：英文名称、中文名称和回答。")
            await run(data.create_intent, name, label, answer, texts, user)
            status, intent, shown = "new_intent", name, label
        else:
            return await review_group_page(request, key, "请选择要做的操作。", 400, form)
    except ValueError as err:
        return await review_group_page(request, key, str(err), 400, form)
    n = 0
    for row in rows:
        n += await run(
            store(request).review_queue.review,
            [row["id"]],
            status,
            reviewer=user,
            intent=intent,
            corrected_text=corrected.get(row["id"]),
            group_key=key,
        )
    await audit(request, "review_" + status, key, {"ids": ids, "intent": intent, "examples": texts})
    raise redirect("/review", done=status, n=n, x=shown)
