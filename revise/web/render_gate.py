"""Pages rendered a few at a time, so the event loop keeps the interpreter (issue #10).

Starlette runs each plain (def) endpoint in a worker thread, up to 40 at once. Rendering is
pure Python: under the interpreter lock, threads do not render faster together, but each one
is another contender the event loop must wait behind for its turn. Twenty visitors opening a
paragraph's form at once held up a static file for 230–430 ms. Here every plain GET endpoint
goes through a CpuGate of a few threads (requests beyond wait their turn, at most
`max_waiting`, then 503 + Retry-After): the public's pages through one, the staff's (whose
exports can take long) through another, so a slow export never makes the public wait. POSTs
keep the ordinary pool, since they may wait for SQLite's write lock and must not hold up the
pages meanwhile.

`warm` compiles every template once at start, so the first visitors after a restart do not
all compile the same template at the same time.
"""

from __future__ import annotations

import inspect

from jinja2 import Environment
from starlette.requests import Request
from starlette.routing import Mount, Route, request_response

from revise.offload import CpuGate


def gate_pages(routes: list) -> int:
    """Route every plain GET endpoint under `routes` through app.state.renders (public pages) or
    app.state.staff_renders (/editor...); how many were."""
    gated = 0
    for route in _walk(routes):
        endpoint = route.endpoint
        if inspect.iscoroutinefunction(endpoint) or not (route.methods or set()) <= {"GET", "HEAD"}:
            continue
        staff = route.path == "/editor" or route.path.startswith("/editor/")

        async def through_gate(request: Request, endpoint=endpoint, staff=staff):
            state = request.app.state
            gate: CpuGate = state.staff_renders if staff else state.renders
            return await gate.run(endpoint, request)

        route.app = request_response(through_gate)
        gated += 1
    return gated


def _walk(routes: list):
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            yield from _walk(route.routes)
        elif isinstance(route, Route):
            yield route


def warm(env: Environment) -> int:
    """Compile (and cache) every template of the environment; how many."""
    names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        env.get_template(name)
    return len(names)
