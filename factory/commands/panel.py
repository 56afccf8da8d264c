"""``factory users``: the control panel's users (add, list, set a role or password, disable)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from factory.errors import InvalidField
from factory.panel.auth import ROLES
from factory.panel.users_store import UserStore

__all__ = ["register"]

_PASSWORD_ENV = "FACTORY_PANEL_PASSWORD"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "users",
        help="control panel users: add, list, role, password, disable",
        description=(
            "Manage who may log in to the control panel. Users live in the ledger's SQLite file "
            f"(tables panel_users, panel_settings). The password is read from ${_PASSWORD_ENV} or asked for."
        ),
    )
    parser.add_argument("--ledger", type=Path, default=Path("var/ledger.sqlite"),
                        help="the ledger file (default var/ledger.sqlite)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    actions.add_parser("list", help="list the users")
    role = actions.add_parser("role", help="change a user's role")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    password = actions.add_parser("password", help="set a user's password")
    password.add_argument("name")
    for name, help_text in (("disable", "stop a user from logging in"), ("enable", "let a disabled user in again")):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument("name")
    parser.set_defaults(run=run)


def _password() -> str:
    value = os.environ.get(_PASSWORD_ENV)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise InvalidField("password", f"set ${_PASSWORD_ENV} or run in a terminal")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidField("password", "the two entries differ")
    return first


def run(args: argparse.Namespace) -> int:
    args.ledger.parent.mkdir(parents=True, exist_ok=True)
    with UserStore.open(args.ledger) as store:
        if args.action == "add":
            user = store.add(args.name, args.role, _password(), by=f"cli:{getpass.getuser()}")
            print(f"added {user.name} ({user.role})")
        elif args.action == "list":
            for u in store.users():
                print(f"{u['name']:<20} {u['role']:<11} {'disabled' if u['disabled'] else ''}")
        elif args.action == "role":
            store.set_role(args.name, args.role)
            print(f"{args.name} is now {args.role}")
        elif args.action == "password":
            store.set_password(args.name, _password())
            print(f"password of {args.name} changed")
        else:
            store.set_disabled(args.name, args.action == "disable")
            print(f"{args.name} {args.action}d")
    return 0
