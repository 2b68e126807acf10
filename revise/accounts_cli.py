"""`python server.py accounts ...`: create, list, re-password and disable editor accounts.

    python server.py accounts add USERNAME --name 显示名 [--role editor|admin] [--generate]
    python server.py accounts list
    python server.py accounts password USERNAME [--generate]
    python server.py accounts disable USERNAME

Without --generate the password is typed twice at a prompt; when stdin is not a terminal it is
read from there instead, so scripts can pipe it in: one line, or two that must be the same.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from revise import accounts
from revise.cli_common import N_, Refused, _, open_existing
from revise.cli_common import actor as _actor
from revise.settings import Settings

STATES = {True: N_("disabled"), False: N_("active")}


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    """Add the `accounts` command and its sub-commands to the command line's parser."""
    parser = subparsers.add_parser("accounts", parents=[common], help=_("editor and administrator accounts"),
                                   description=_("Create, list, re-password and disable editor accounts."))
    parser.set_defaults(run=run)
    sub = parser.add_subparsers(dest="accounts_command", required=True, title=_("commands"), metavar="COMMAND")

    add = sub.add_parser("add", parents=[common], help=_("create an account"))
    add.add_argument("username", help=_("user name for signing in: 3–32 of a–z, 0–9, “.”, “_”, “-”"))
    add.add_argument("--name", required=True, help=_("the name shown on pages and in the audit log"))
    add.add_argument("--role", choices=accounts.ROLES, default="editor",
                     help=_("editor: triage, revise, moderate; admin: also accounts, departments, window, publishing"))
    add.add_argument("--generate", action="store_true", help=_("generate a password and print it once"))
    add.add_argument("--by", default=_actor(), help=_("who makes the change (for the audit log)"))

    sub.add_parser("list", parents=[common], help=_("list accounts"))

    password = sub.add_parser("password", parents=[common], help=_("set a new password (signs the account out everywhere)"))
    password.add_argument("username", help=_("the account's user name"))
    password.add_argument("--generate", action="store_true", help=_("generate a password and print it once"))
    password.add_argument("--by", default=_actor(), help=_("who makes the change (for the audit log)"))

    disable = sub.add_parser("disable", parents=[common], help=_("stop an account from signing in"))
    disable.add_argument("username", help=_("the account's user name"))
    disable.add_argument("--by", default=_actor(), help=_("who makes the change (for the audit log)"))


def _read_password() -> str:
    """The new password: typed twice at a prompt, or piped in (one line, or two the same)."""
    if sys.stdin.isatty():
        first = getpass.getpass(_("New password: "))
        second = getpass.getpass(_("The same password again: "))
    else:
        lines = [sys.stdin.readline(), sys.stdin.readline()]
        if not lines[0]:
            raise Refused(N_("No password on standard input; nothing was changed."))
        first = lines[0].rstrip("\r\n")
        second = lines[1].rstrip("\r\n") if lines[1] else first  # a second line, if any, must repeat it
    if first != second:
        raise Refused(N_("The two passwords differ; nothing was changed."))
    return first


def _show_generated(username: str, password: str) -> None:
    print(_("Password for %(username)s (shown only this once, give it to them privately):", username=username))
    print(password)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Carry out one `accounts` sub-command; 0 on success, 2 when refused."""
    db = open_existing(settings)
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
        raise Refused(error.message, **error.params) from None
    finally:
        db.close()
