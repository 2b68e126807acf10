"""`python server.py accounts ...`: create, list, re-password and disable editor accounts.

    python server.py accounts add USERNAME --name 显示名 [--role editor|admin] [--generate]
    python server.py accounts list
    python server.py accounts password USERNAME [--generate]
    python server.py accounts disable USERNAME

Without --generate the password is typed twice at a prompt; when stdin is not a terminal one
line is read from it instead, so scripts can pipe a password in.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from revise import accounts
from revise.i18n import N_
from revise.i18n import gettext as _
from revise.settings import Settings
from revise.store import open_database

STATES = {True: N_("disabled"), False: N_("active")}


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def add_parser(subparsers) -> None:
    """Add the `accounts` command and its sub-commands to server.py's parser."""
    parser = subparsers.add_parser("accounts", help=_("editor and administrator accounts"))
    sub = parser.add_subparsers(dest="accounts_command", required=True)

    add = sub.add_parser("add", help=_("create an account"))
    add.add_argument("username", help=_("user name for signing in: 3–32 of a–z, 0–9, “.”, “_”, “-”"))
    add.add_argument("--name", required=True, help=_("the name shown on pages and in the audit log"))
    add.add_argument("--role", choices=accounts.ROLES, default="editor",
                     help=_("editor: triage, revise, moderate; admin: also accounts, departments, window, publishing"))
    add.add_argument("--generate", action="store_true", help=_("generate a password and print it once"))
    add.add_argument("--by", default=_actor(), help=_("who makes the change (for the audit log)"))

    sub.add_parser("list", help=_("list accounts"))

    password = sub.add_parser("password", help=_("set a new password (signs the account out everywhere)"))
    password.add_argument("username")
    password.add_argument("--generate", action="store_true", help=_("generate a password and print it once"))
    password.add_argument("--by", default=_actor())

    disable = sub.add_parser("disable", help=_("stop an account from signing in"))
    disable.add_argument("username")
    disable.add_argument("--by", default=_actor())


def _read_password() -> str | None:
    """The new password: typed twice at a prompt, or one line from a pipe; None if the two differ."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_("New password: "))
    second = getpass.getpass(_("The same password again: "))
    if first != second:
        print(_("The two passwords differ; nothing was changed."), file=sys.stderr)
        return None
    return first


def _show_generated(username: str, password: str) -> None:
    print(_("Password for %(username)s (shown only this once, give it to them privately):", username=username))
    print(password)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out one `accounts` sub-command; 0 on success, 2 when refused."""
    db = open_database(settings.db_path)
    try:
        command = args.accounts_command
        if command == "list":
            for row in accounts.list_accounts(db):
                print("\t".join([row["username"], row["display_name"], _(accounts.ROLE_NAMES[row["role"]]),
                                 row["created_at"], _(STATES[bool(row["disabled_at"])])]))
            return 0
        if command == "disable":
            accounts.disable(db, args.username, args.by)
            print(_("Account %(username)s is disabled and signed out.", username=args.username))
            return 0
        password = accounts.generate_password() if args.generate else _read_password()
        if password is None:
            return 2
        if command == "add":
            accounts.create_account(db, args.username, args.name, args.role, password, args.by)
            print(_("Account %(username)s created (%(role)s).", username=args.username,
                    role=_(accounts.ROLE_NAMES[args.role])))
        else:
            accounts.set_password(db, args.username, password, args.by)
            print(_("Password of %(username)s changed; its sessions are signed out.", username=args.username))
        if args.generate:
            _show_generated(args.username, password)
        return 0
    except accounts.AccountError as error:
        print(_(error.message, **error.params), file=sys.stderr)
        return 2
    finally:
        db.close()
