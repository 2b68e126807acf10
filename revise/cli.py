"""The command line of revise: serve the app, import drafts, list consultations, back up, check.

server.py in a checkout, the installed `revise` command and `python -m revise` all run main().
The commands live in cli_commands (consultations), cli_backup, cli_check and accounts_cli.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from revise import accounts_cli, cli_backup, cli_check, cli_commands, cli_mail
from revise.cli_common import N_, Refused, _, locale_from, reason, speaking, window_from
from revise.settings import Settings, split_names


def build_parser() -> argparse.ArgumentParser:
    """Every command; --data (and serve's options) may stand before or after the command's name."""
    parser = argparse.ArgumentParser(
        prog=_prog(), description=_("revise: public comment on a draft. Without a command it serves the web app."),
        epilog=_("Times are ISO 8601 (2024-03-01, 2024-03-01 09:00, 2024-03-01T09:00:00+08:00), "
                 "Beijing time unless they carry an offset. `%(prog)s COMMAND --help` describes a command.",
                 prog=_prog()),
    )
    global_options(parser, None)
    # The same options below every command; SUPPRESS keeps a value given before the command.
    common = argparse.ArgumentParser(add_help=False)
    global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", title=_("commands"), metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help=_("serve the web app (the default)"),
                           description=_("Serve the web app. On first start with an empty data folder it imports "
                                         "docs/draft.docx as nanchong-2022; later starts reuse the data folder."))
    _serve_options(serve, argparse.SUPPRESS)
    _serve_options(parser, None)
    serve.set_defaults(run=cmd_serve)
    parser.set_defaults(run=cmd_serve)

    cli_commands.add_parsers(sub, common)
    cli_backup.add_parser(sub, common)
    cli_check.add_parser(sub, common, address_options)
    accounts_cli.add_parser(sub, common)
    cli_mail.add_parser(sub, common)
    return parser


def global_options(parser: argparse.ArgumentParser, default) -> None:
    """Options every command takes."""
    parser.add_argument("--data", type=Path, default=default, metavar="DIR",
                        help=_("data folder (default: ./data or $REVISE_DATA)"))


def address_options(parser: argparse.ArgumentParser, default) -> None:
    """Where revise listens and the address the public uses (serve, and check reads them too)."""
    parser.add_argument("--host", default=default, help=_("address to listen on (default 127.0.0.1)"))
    parser.add_argument("--port", type=int, default=default, help=_("port (default 8000)"))
    parser.add_argument("--base-url", default=default,
                        help=_("the address the public uses, e.g. https://consult.example.gov.cn "
                               "(links, QR codes, notices; default http://HOST:PORT)"))
    parser.add_argument("--allowed-hosts", type=split_names, metavar="NAMES", default=default,
                        help=_("comma-separated host names served besides the base URL's (default: localhost)"))
    parser.add_argument("--forwarded-allow-ips", type=split_names, metavar="IPS", default=default,
                        help=_("comma-separated proxy IPs or networks whose X-Forwarded-For is believed (default: none)"))


def with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the address options given on the command line."""
    return settings.with_(host=getattr(args, "host", None), port=getattr(args, "port", None),
                          base_url=getattr(args, "base_url", None), allowed_hosts=getattr(args, "allowed_hosts", None),
                          trusted_proxies=getattr(args, "forwarded_allow_ips", None))


def _serve_options(parser: argparse.ArgumentParser, default) -> None:
    address_options(parser, default)
    parser.add_argument(
        "--no-default", action="store_true", default=False if default is None else default,
        help=_("do not import docs/draft.docx on first start"),
    )
    parser.add_argument("--workers", type=int, metavar="N", default=1 if default is None else default,
                        help=_("worker processes serving the one data folder (default 1; see docs/deploy.md)"))
    cli_commands.window_options(parser, default)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from revise import serving

    settings = with_address(settings, args)
    if args.no_default:
        settings = settings.with_(seed_default=False)
    if args.workers < 1:
        raise Refused(N_("--workers must be 1 or more."))
    return serving.run(settings, window_from(args), workers=args.workers)


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 when done, 2 (with a message, never a traceback) for an ordinary mistake."""
    with speaking(locale_from(os.environ)):
        args = build_parser().parse_args(argv)
        settings = Settings().with_(data_dir=args.data)
        try:
            return args.run(args, settings)
        except Refused as refused:
            print(refused.text(), file=sys.stderr)
        except OSError as error:
            if error.filename:
                print(_("Cannot use %(path)s: %(reason)s", path=error.filename, reason=reason(error)), file=sys.stderr)
            else:
                print(reason(error), file=sys.stderr)
        except sqlite3.DatabaseError as error:
            print(_("The database %(path)s cannot be used: %(reason)s", path=settings.db_path, reason=error),
                  file=sys.stderr)
        except KeyboardInterrupt:
            return 130
        return 2


def _prog() -> str:
    name = Path(sys.argv[0]).name
    return "python -m revise" if name == "__main__.py" else name or "revise"
