"""账号 and 操作记录 (admin): create, disable, enable staff accounts and set passwords; read
the audit log."""

from __future__ import annotations

from aiohttp import web

from bot.console.auth import requires
from bot.console.web import accounts, audit, redirect, render, run, store
from community.records import ConsoleError
from community.records.accounts import ROLES


@requires("admin")
async def users_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    users = await run(accounts(request).list_users)
    return render(request, "users.html", status=status, error=error, users=users, ROLES=ROLES, nav="users")


@requires("admin")
async def users_action(request: web.Request) -> web.StreamResponse:
    form = request["form"]
    action, username = str(form.get("action", "")), str(form.get("username", "")).strip()
    me = request["user"]["username"]
    try:
        if action == "create":
            await run(
                accounts(request).create_user,
                username,
                str(form.get("password", "")),
                str(form.get("role", "")),
            )
            await audit(request, "user_create", username, {"role": form.get("role")})
            raise redirect("/users", done="user_created", x=username)
        if action in ("disable", "enable"):
            await run(accounts(request).set_active, username, action == "enable", actor=me)
        elif action == "password":
            await run(accounts(request).set_password, username, str(form.get("password", "")))
        else:
            raise ConsoleError("bad-action", "请选择要做的操作。")
    except ConsoleError as err:
        return await users_page.__wrapped__(request, str(err), 400)  # type: ignore[attr-defined]
    await audit(request, "user_" + action, username)
    raise redirect("/users", done="user_changed", x=username)


@requires("admin")
async def audit_page(request: web.Request) -> web.Response:
    rows = await run(store(request).audit.list, 300, request.query.get("actor") or None)
    return render(request, "audit.html", rows=rows, nav="audit")
