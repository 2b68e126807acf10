"""run(settings): start revise under uvicorn, set up the way issue #10 asks.

The port is bound before anything is printed, so a busy port is one clear line and exit
status 2, never a "serving" line followed by a traceback. uvicorn's own X-Forwarded-For
handling is off (its default believes 127.0.0.1): the app does it, for the proxies the
operator names only (revise/web/clients.py).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from revise import drafts
from revise.cli_common import _  # the command line's language
from revise.log_lines import LINE_FORMAT, BatchedStreamHandler, SecondsFormatter
from revise.settings import Settings
from revise.store import consultations as consultation_store
from revise.store import open_database
from revise.web.clients import parse_networks
from revise.web.http_protocol import BoundedHttpToolsProtocol
from revise.window import Window

# Idle keep-alive connections are closed after this many seconds (uvicorn's default, made explicit).
KEEP_ALIVE_SECONDS = 5
EXIT_REFUSED = 2


def run(settings: Settings, window: Window | None = None, workers: int = 1) -> int:
    """Serve until interrupted; 2 (with a message on stderr) when the settings or the port are unusable.

    With workers > 1, uvicorn's supervisor starts that many processes on the one listening
    socket, each building the app from the environment (worker_app): what they must agree on
    lives in the database (rate limits, the sign-in throttle, the public page's version, the
    grouping queue), so any worker may answer any request (docs/deploy.md).
    """
    import uvicorn

    from revise.app import create_app

    # Served, comments are committed by a process of its own (revise/writer_process.py) unless
    # REVISE_COMMENT_WRITER=thread says otherwise; an app built in-process (the tests) keeps the thread.
    settings = replace(settings, comment_writer=os.environ.get("REVISE_COMMENT_WRITER", "process"))
    problem = check(settings)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_REFUSED
    # The database, its WAL/SHM files and anything else the server creates: the owner's only.
    os.umask(0o077)
    try:
        sockets = bind(settings.host, settings.port)
    except OSError as error:
        print(_bind_message(settings, error), file=sys.stderr)
        return EXIT_REFUSED
    try:
        db = open_database(settings.db_path)
        try:
            drafts.ensure_default(db, settings, window)
            loaded = consultation_store.count(db)
        finally:
            db.close()
        _configure_logging()
        print(_("revise is serving on %(url)s/ from the data folder %(data)s (%(count)s consultations).",
                url=listen_url(settings), data=settings.data_dir.resolve(), count=loaded), flush=True)
        if settings.public_url != listen_url(settings):
            print(_("Links, QR codes and notices use the address %(url)s/", url=settings.public_url), flush=True)
        elif settings.host in ("0.0.0.0", "::", ""):
            print(_("Set --base-url to the address the public uses: links, QR codes and accepted host names come from it."),
                  file=sys.stderr)
        options = dict(
            log_level="warning",
            access_log=False,  # revise writes its own, with the real client and secrets redacted
            proxy_headers=False,  # the app reads X-Forwarded-* itself, from trusted proxies only
            server_header=False,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            # httptools (C) instead of h11, with the bound on the request head h11 had (16 KB: 431 beyond).
            http=BoundedHttpToolsProtocol,
            # asyncio's own loop even where uvloop is installed: under uvloop the writer thread was
            # starved of the interpreter lock (comment POST p99 1.4 s instead of 0.12 s, bench/README.md).
            loop="asyncio",
            # Beyond this many connections (per worker) uvicorn answers 503 at once rather than run out of files.
            limit_concurrency=settings.max_connections,
        )
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            # The workers are fresh interpreters (spawned): they read the settings from the environment.
            os.environ.update(environment(settings))
            config = uvicorn.Config(f"{__name__}:worker_app", factory=True, workers=workers, **options)
            Multiprocess(config, sockets=sockets).run()
        else:
            uvicorn.Server(uvicorn.Config(create_app(settings), **options)).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
    return 0


# Every Settings field a worker process reads back from the environment (revise/settings.py).
ENVIRONMENT = {
    "data_dir": "REVISE_DATA", "host": "REVISE_HOST", "port": "REVISE_PORT",
    "max_docx_bytes": "REVISE_MAX_DOCX_BYTES", "max_docx_inflated": "REVISE_MAX_DOCX_INFLATED",
    "seed_default": "REVISE_SEED_DEFAULT", "comments_per_minute": "REVISE_COMMENTS_PER_MINUTE",
    "previews_per_minute": "REVISE_PREVIEWS_PER_MINUTE", "write_wait": "REVISE_WRITE_WAIT",
    "max_form_bytes": "REVISE_MAX_FORM_BYTES", "max_attachment_bytes": "REVISE_MAX_ATTACHMENT_BYTES",
    "base_url": "REVISE_BASE_URL", "allowed_hosts": "REVISE_ALLOWED_HOSTS",
    "trusted_proxies": "REVISE_TRUSTED_PROXIES", "body_timeout": "REVISE_BODY_TIMEOUT",
    "max_connections": "REVISE_MAX_CONNECTIONS", "comment_writer": "REVISE_COMMENT_WRITER",
}


def environment(settings: Settings) -> dict[str, str]:
    """The settings as environment variables, from which Settings() in a worker builds them again."""
    env = {}
    for name, variable in ENVIRONMENT.items():
        value = getattr(settings, name)
        if isinstance(value, bool):
            value = "1" if value else "0"
        elif isinstance(value, tuple):
            value = ",".join(value)
        elif isinstance(value, Path):
            value = str(value.resolve())
        env[variable] = str(value)
    return env


def worker_app():
    """The app of one worker process (uvicorn's factory), its settings from the environment."""
    from revise.app import create_app

    _configure_logging()
    return create_app(Settings())


def check(settings: Settings) -> str | None:
    """What is wrong with the network settings, in the operator's words, or None."""
    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as error:
        return _("Not an IP address or network among the trusted proxies: %(value)s", value=str(error))
    if settings.comment_writer not in ("thread", "process"):
        return _("REVISE_COMMENT_WRITER must be thread or process, not %(value)s", value=settings.comment_writer)
    base = urlsplit(settings.public_url)
    if base.scheme not in ("http", "https") or not base.hostname:
        return _("The base URL must look like https://consult.example.gov.cn: %(value)s", value=settings.public_url)
    for name in settings.allowed_hosts:
        if "*" in name[1:] or (name.startswith("*") and name != "*" and not name.startswith("*.")):
            return _("A host name may only start with *. as a wildcard: %(value)s", value=name)
    return None


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for host:port (every address the name resolves to), or OSError."""
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        seen = set()
        for family, kind, proto, _name, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restarts despite TIME_WAIT
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def listen_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


def _bind_message(settings: Settings, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return _("Port %(port)s on %(host)s is already in use: stop the program using it or choose another port with --port.",
                 port=settings.port, host=settings.host)
    return _("Cannot listen on %(host)s port %(port)s: %(reason)s", host=settings.host, port=settings.port,
             reason=error.strerror or str(error))


def _configure_logging() -> None:
    """revise's one-line notices (a client gone mid-request, a body too slow) and the access log
    (revise/web/access_log.py, one line per request; REVISE_ACCESS_LOG=0 turns it off) go to stderr."""
    logger = logging.getLogger("revise")
    if not logger.handlers:
        # Written in batches, warnings at once (revise/log_lines.py: a line per request, written
        # and flushed one by one, was a quarter of the public page's cost).
        handler = BatchedStreamHandler()
        # The process id tells the workers apart (serve --workers N).
        handler.setFormatter(SecondsFormatter(LINE_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    if os.environ.get("REVISE_ACCESS_LOG", "1") == "0":
        logging.getLogger("revise.access").setLevel(logging.WARNING)
