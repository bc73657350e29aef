"""Account commands for the staff console.

    python -m bot.console create-user NAME --role staff|admin [--password PW]
    python -m bot.console set-password NAME [--password PW]
    python -m bot.console disable-user NAME | enable-user NAME
    python -m bot.console list-users

Without ``--password`` the password is read from stdin (asked twice, hidden, on a terminal).
The database is the one the assistant uses (``DATABASE_URL``, else ``var/community.db``).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from community.records import ConsoleError
from community.records.accounts import ROLES
from community.settings import Settings
from community.store import Store


def read_password(given: str | None) -> str:
    if given is not None:
        return given
    if sys.stdin.isatty():
        first = getpass.getpass("密码 / password: ")
        if getpass.getpass("再输入一次 / again: ") != first:
            raise ConsoleError("mismatch", "两次输入的密码不一样 (passwords differ)")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot.console", description="Staff console accounts (工作台账号)"
    )
    sub = p.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create an account")
    create.add_argument("name")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--password", help="default: read from stdin")
    reset = sub.add_parser("set-password", help="set a new password (ends the user's sessions)")
    reset.add_argument("name")
    reset.add_argument("--password")
    for name in ("disable-user", "enable-user"):
        sub.add_parser(name).add_argument("name")
    sub.add_parser("list-users")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        base = Store.from_url(settings.store_url)
    except Exception as err:
        print(
            f"ERROR: cannot open the database ({type(err).__name__}); check DATABASE_URL. "
            "无法连接数据库，请检查 DATABASE_URL。",
            file=sys.stderr,
        )
        return 2
    accounts, audit = base.accounts, base.audit
    try:
        if args.command == "create-user":
            user = accounts.create_user(args.name, read_password(args.password), args.role)
            audit.record("cli", "user_create", user["username"], {"role": args.role})
            print(f"created {user['username']} ({user['role']}) / 已创建账号")
        elif args.command == "set-password":
            accounts.set_password(args.name, read_password(args.password))
            audit.record("cli", "user_password", args.name)
            print(f"password set for {args.name} / 已重设密码")
        elif args.command in ("disable-user", "enable-user"):
            accounts.set_active(args.name, args.command == "enable-user")
            audit.record("cli", args.command.replace("-", "_"), args.name)
            print(f"{args.command.split('-')[0]}d {args.name}")
        else:
            for user in accounts.list_users():
                state = "active" if user["active"] else "disabled"
                print(f"{user['username']}\t{user['role']}\t{state}")
    except ConsoleError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    finally:
        base.engine.dispose()
    return 0
