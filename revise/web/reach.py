"""Reach beyond the screen: a QR code of the consultation's page, a printable A4 notice, the
administrators' page that edits the notice and how to comment, and a department's own comments
(read, correct, withdraw) behind its private link (issue #12)."""

from __future__ import annotations

import io

import segno
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from revise import comment_form, commenting, departments, versions
from revise import notice as notice_rules
from revise.i18n import N_
from revise.store import consultations as consultation_store
from revise.web.auth import require
from revise.web.comments import _check_post, audience_of, refuse, render


def absolute_url(request: Request, name: str, **params: object) -> str:
    """A route's absolute address under the configured base URL.

    Never built from the request's Host header: a forged one would otherwise be printed on
    a notice, encoded in a QR code or sent to a department as its private link (issue #10).
    """
    return request.app.state.settings.public_url + str(request.app.url_path_for(name, **params))


def page_url(request: Request, slug: str) -> str:
    """The consultation page's absolute address, as the public reaches it."""
    return absolute_url(request, "consultation", slug=slug)


def qr_svg(url: str) -> bytes:
    """The QR code of `url` as a standalone SVG (error correction M: a smudged print still scans)."""
    buffer = io.BytesIO()
    # A white background and a 4-module quiet zone, as the standard asks, so any scanner reads it.
    segno.make(url, error="m", micro=False).save(buffer, kind="svg", scale=4, border=4, xmldecl=False,
                                                 dark="#000", light="#fff", svgclass=None, lineclass=None)
    return buffer.getvalue()


def qr(request: Request):
    """GET /c/{slug}/qr.svg: the code the window box and the printed notice show."""
    c = _public(request)
    return Response(qr_svg(page_url(request, c["slug"])), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=3600"})


def notice(request: Request):
    """GET /c/{slug}/notice: the notice on one A4 page to print and post (title, window, link, code)."""
    c = _public(request)
    return render(request, "notice.html", {"c": c, "page_url": page_url(request, c["slug"])})


def _public(request: Request) -> dict:
    """The consultation of the public path (404 when the slug is unknown)."""
    return audience_of(request).consultation


def _editor_consultation(request: Request) -> dict:
    db = request.app.state.connections.get()
    found = consultation_store.by_slug(db, request.path_params["slug"])
    if found is None:
        raise HTTPException(404)
    return found


def _notice_page(request: Request, account: dict, c: dict, values: dict, errors: dict, status: int = 200):
    return render(request, "editor/notice.html", {"account": account, "c": c, "values": values, "errors": errors,
                                                  "fields": notice_rules.FIELDS}, status_code=status)


def edit_notice(request: Request):
    """GET /editor/c/{slug}/notice: administrators edit the notice's text and how to comment."""
    account = require(request, "admin")
    c = _editor_consultation(request)
    return _notice_page(request, account, c, c, {})


async def save_notice(request: Request):
    """POST /editor/c/{slug}/notice: administrator only, CSRF-checked, audited (notice.change)."""
    form = await request.form()
    return await run_in_threadpool(_save_notice, request, {k: v for k, v in form.items() if isinstance(v, str)})


def _save_notice(request: Request, form: dict):
    account = require(request, "admin")
    c = _editor_consultation(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    try:
        notice_rules.save(request.app.state.connections.get(), c, form, account["display_name"])
    except notice_rules.NoticeError as error:
        values, _errors = notice_rules.validate(form)
        return _notice_page(request, account, c, values, error.errors, 422)
    return RedirectResponse(request.url_for("editor_dashboard", slug=c["slug"]).path + "#notice", status_code=303)


# --- a department's own comments (/d/{token}/mine/{id}) ---------------------------------------

def _department(request: Request):
    audience = audience_of(request)
    if audience.department is None:
        raise HTTPException(404)
    return audience


def _own_page(request: Request, audience, comment: dict, reason: str | None, values: dict | None = None,
              errors: dict | None = None, status: int = 200):
    db = request.app.state.connections.get()
    block = versions.comment_block(db, comment)
    token, cid = audience.token, comment["id"]
    return render(request, "department_comment.html", {
        "c": audience.consultation, "audience": audience, "department": audience.department, "comment": comment,
        "block": block, "written_on": (block or {}).get("text", "").replace("\t", " | "), "changeable": reason is None,
        "reason": reason,
        "values": values or comment, "errors": errors or {}, "kinds": comment_form.KINDS,
        "saved": request.query_params.get("saved") == "1",
        "action": request.url_for("dept_own_comment_save", token=token, comment_id=cid).path,
        "withdraw_action": request.url_for("dept_own_comment_withdraw", token=token, comment_id=cid).path,
        "back": request.url_for("department", token=token).path,
    }, status_code=status)


def own_comment(request: Request):
    """GET /d/{token}/mine/{id}: one of the department's comments, with the forms to correct or withdraw it."""
    audience = _department(request)
    db = request.app.state.connections.get()
    try:
        comment, reason = departments.own_comment(db, audience.consultation, audience.department,
                                                  request.path_params["comment_id"])
    except commenting.Refused as refused:
        return refuse(request, refused.status, refused.message)
    return _own_page(request, audience, comment, reason)


async def save_own_comment(request: Request):
    """POST /d/{token}/mine/{id}: the department's corrections (CSRF; validated like a new comment; audited)."""
    form = await request.form()
    return await run_in_threadpool(_save_own, request, {k: v for k, v in form.items() if isinstance(v, str)})


def _save_own(request: Request, form: dict):
    audience = _department(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    db = request.app.state.connections.get()
    c, department = audience.consultation, audience.department
    try:
        comment, reason = departments.own_comment(db, c, department, request.path_params["comment_id"])
        block = versions.comment_block(db, comment)
        values, errors = comment_form.validate(form, block, department=True)
        if errors and reason is None:
            return _own_page(request, audience, comment, reason, dict(comment, **values), errors, 422)
        departments.correct(db, c, department, comment["id"], values, block)
    except commenting.Refused as refused:
        return refuse(request, refused.status, refused.message)
    path = request.url_for("dept_own_comment", token=audience.token, comment_id=comment["id"]).path
    return RedirectResponse(path + "?saved=1", status_code=303)


async def withdraw_own_comment(request: Request):
    """POST /d/{token}/mine/{id}/withdraw: the department withdraws its comment (after ticking the confirmation)."""
    form = await request.form()
    return await run_in_threadpool(_withdraw_own, request, {k: v for k, v in form.items() if isinstance(v, str)})


def _withdraw_own(request: Request, form: dict):
    audience = _department(request)
    problem = _check_post(request, form)
    if problem:
        return problem
    db = request.app.state.connections.get()
    c, department = audience.consultation, audience.department
    try:
        comment, reason = departments.own_comment(db, c, department, request.path_params["comment_id"])
        if reason is None and form.get("confirm") != "1":
            return _own_page(request, audience, comment, reason, errors={
                "confirm": N_("Tick the box to confirm that the comment is withdrawn.")}, status=422)
        departments.withdraw(db, c, department, comment["id"])
    except commenting.Refused as refused:
        return refuse(request, refused.status, refused.message)
    return RedirectResponse(request.url_for("department", token=audience.token).path + "?withdrawn=1", status_code=303)


routes = [
    Route("/d/{token}/mine/{comment_id:int}", own_comment, name="dept_own_comment"),
    Route("/d/{token}/mine/{comment_id:int}", save_own_comment, methods=["POST"], name="dept_own_comment_save"),
    Route("/d/{token}/mine/{comment_id:int}/withdraw", withdraw_own_comment, methods=["POST"],
          name="dept_own_comment_withdraw"),
    Route("/c/{slug}/qr.svg", qr, name="consultation_qr"),
    Route("/c/{slug}/notice", notice, name="consultation_notice"),
    Route("/editor/c/{slug}/notice", edit_notice, name="editor_notice"),
    Route("/editor/c/{slug}/notice", save_notice, methods=["POST"], name="editor_notice_save"),
]
