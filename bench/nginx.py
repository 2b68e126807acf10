"""The public draft page through nginx's cache versus straight from uvicorn, and comment POSTs
while 1,000 readers hit the page through nginx (issue #15).

    .venv/bin/python bench/nginx.py [--seconds 10] [--readers 1000] [--workers 1] [--commenters 16]
                                    [--data DIR --slug SLUG]   # a bench/bigcase.py folder (issue #11)

Runs docs/nginx.conf.example itself (port, upstream and cache folder replaced, as
tests/test_nginx.py does) with the machine's nginx in front of `server.py serve --workers N`:
1. wrk -c64 on the public page straight from uvicorn, then through nginx (its 1 s cache);
2. comment POSTs through nginx alone (wrk -c16, each its own session and form token);
3. the same POSTs while wrk -c1000 reads the page through nginx: their p99 is the figure.
Prints one line per case, the machine's load (uptime), and a NGINXJSON line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from scale import BROWSER_HEADERS, ROOT, Wrk, describe, free_port, run_wrk, wait_until_up  # noqa: E402
from workers import SLUG, comment_lines, load, start, stop  # noqa: E402

HOST = "consult.example.gov.cn"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MAIN = """
user {user};
worker_processes auto;
worker_rlimit_nofile 16384;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 8192; }}
http {{
    types {{ text/html html; text/css css; application/javascript js; }}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/site.conf;
}}
"""


def start_nginx(folder: Path, nginx_port: int, revise_port: int) -> subprocess.Popen:
    text = (ROOT / "docs" / "nginx.conf.example").read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{nginx_port} backlog=4096;"), ("listen [::]:80;", ""),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{revise_port};"),
                     ("/var/cache/nginx/revise", str(folder / "cache"))):
        text = text.replace(old, new)
    (folder / "tmp").mkdir(exist_ok=True)
    (folder / "cache").mkdir(exist_ok=True)
    (folder / "site.conf").write_text(text)
    (folder / "nginx.conf").write_text(MAIN.format(dir=folder, user=getpass.getuser()))
    process = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                               stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{nginx_port}/")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--commenters", type=int, default=16, help="POST connections")
    parser.add_argument("--data", type=Path, help="a data folder to serve (bench/bigcase.py; written to) "
                        "instead of a fresh one with the default draft")
    parser.add_argument("--slug", default=SLUG, help="the consultation of --data")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the servers started here are stopped
    results = {"load_before": load(), "cpus": os.cpu_count(), "workers": args.workers}
    headers = dict(BROWSER_HEADERS, Host=HOST)
    with tempfile.TemporaryDirectory(prefix="revise-nginx-") as tmp:
        folder = Path(tmp)
        data, revise_port, nginx_port = args.data or folder / "data", free_port(), free_port()
        server = start(data, revise_port, args.workers, REVISE_TRUSTED_PROXIES="127.0.0.1",
                       REVISE_BASE_URL=f"http://{HOST}")
        nginx = start_nginx(folder, nginx_port, revise_port)
        try:
            direct, proxied = f"http://127.0.0.1:{revise_port}", f"http://127.0.0.1:{nginx_port}"
            page = [f"/c/{args.slug}"]
            results["page_direct"] = run_wrk(direct, "get.lua", page, 64, args.seconds, headers)
            print(f"public page straight from uvicorn: {describe(results['page_direct'])}", flush=True)
            results["page_nginx"] = run_wrk(proxied, "get.lua", page, 64, args.seconds, headers)
            print(f"public page through nginx's cache: {describe(results['page_nginx'])}", flush=True)
            # Written before any timing: two files, each visitor's token used once.
            posts = comment_lines(data, folder, 20_000, slug=args.slug)
            more = comment_lines(data, folder, 20_000, "more.tsv", slug=args.slug)
            results["post_alone"] = run_wrk(proxied, "post_comment.lua", [str(posts), "2"], args.commenters, args.seconds,
                                            {"Host": HOST})
            print(f"comment POST through nginx, alone: {describe(results['post_alone'])}", flush=True)
            readers = Wrk(proxied, "get.lua", page, args.readers, args.seconds + 4, headers)
            time.sleep(2)  # the readers are all connected
            results["post_with_readers"] = Wrk(proxied, "post_comment.lua", [str(more), "2"], args.commenters, args.seconds,
                                               {"Host": HOST}).result()
            results["readers"] = readers.result()
            print(f"comment POST through nginx with {args.readers} readers: {describe(results['post_with_readers'])}")
            print(f"  the {args.readers} readers meanwhile: {describe(results['readers'])}", flush=True)
        finally:
            nginx.terminate()
            nginx.wait(30)
            stop(server)
    results["load_after"] = load()
    ratio = results["page_nginx"]["rate"] / results["page_direct"]["rate"]
    print(f"nginx's cache serves the page {ratio:.1f}x as fast as uvicorn alone; "
          f"load average before {results['load_before']}, after {results['load_after']} ({os.cpu_count()} CPUs)")
    keep = ("rate", "p50", "p99", "statuses", "errors")
    print("NGINXJSON " + json.dumps({k: ({m: v.get(m) for m in keep} if isinstance(v, dict) else v)
                                     for k, v in results.items()}))


if __name__ == "__main__":
    main()
