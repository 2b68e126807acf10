"""The outcome on the web (issue #12): the administrator's confirmation page, publishing and
withdrawing (audited), the public outcome page and its downloads, the 修改对照表 for editors.

The confirmation is a real page (a form, no JavaScript needed) that shows what becomes public as
counts; publishing and withdrawing are POSTs answered with a 303, or the page again with the
problem next to its field (422, or 409 when the outcome's state does not allow it).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from revise import comparison_table, docx_export, exporting, outcome, report
from revise.i18n import DEFAULT_LOCALE
from revise.store import consultations as consultation_store
from revise.store import reading
from revise.timeutil import utc_now_text
from revise.web.auth import require
from revise.web.comments import refuse, render
from revise.web.downloads import download
from revise.web.editor import _consultation, form_action
from revise.window import STATE_NAMES

PUBLIC_FILES = ("plan.docx", "report.docx", "report.xlsx", "report.csv", "comparison.docx")
DOCX = exporting.KINDS["report.docx"][1]


def _text(form: dict, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _locale(request: Request) -> str:
    return request.scope["state"].get("locale", DEFAULT_LOCALE)


def confirm(request: Request):
    """What publishing the outcome would make public (counts only), and the form to do it (administrators)."""
    account = require(request, "admin")
    return _confirm_page(request, account, _consultation(request))


def _confirm_page(request: Request, account: dict, c: dict, errors: dict | None = None, values: dict | None = None,
                  status_code: int = 200):
    db = request.app.state.connections.get()
    c = consultation_store.by_id(db, c["id"])
    seen = outcome.preview(db, c)
    changed = len(outcome.comparison(db, c)) if seen.current is None else 0
    return render(request, "editor/outcome_confirm.html", {
        "account": account, "c": c, "preview": seen, "errors": errors or {}, "values": values,
        "changed": changed, "window_states": STATE_NAMES,
        "history": outcome.history(db, c), "done": request.query_params.get("done", ""),
    }, status_code=status_code)


@form_action("admin")
def publish(request: Request, account: dict, c: dict, form: dict):
    """Publish the outcome as confirmed: after the period, or before it with a reason (audited)."""
    db = request.app.state.connections.get()
    values = {"override_reason": _text(form, "override_reason"),
              "department_names": _text(form, "department_names") == "1"}
    try:
        outcome.publish(db, c, account["display_name"], override_reason=values["override_reason"],
                        department_names=values["department_names"])
    except outcome.OutcomeError as error:
        return _confirm_page(request, account, c, {error.field: error.message}, values, error.status)
    return RedirectResponse(request.url_for("editor_outcome_confirm", slug=c["slug"]).path + "?done=published",
                            status_code=303)


@form_action("admin")
def withdraw(request: Request, account: dict, c: dict, form: dict):
    """Withdraw the published outcome with a reason (audited): the public outcome page is gone."""
    db = request.app.state.connections.get()
    values = {"withdraw_reason": _text(form, "withdraw_reason")}
    try:
        outcome.withdraw(db, c, account["display_name"], values["withdraw_reason"])
    except outcome.OutcomeError as error:
        return _confirm_page(request, account, c, {error.field: error.message}, values, error.status)
    return RedirectResponse(request.url_for("editor_outcome_confirm", slug=c["slug"]).path + "?done=withdrawn",
                            status_code=303)


def editor_comparison(request: Request):
    """The 修改对照表 as it stands now (.docx), for editors at any time."""
    require(request)
    c = _consultation(request)
    return _comparison_file(request, c, None)


# --- the public outcome (routes in revise/web/public.py) --------------------------------------


def public_page(request: Request, c: dict):
    """The revised text as published, the 修改对照表 and the 意见采纳情况表 (published comments only)."""
    db = request.app.state.connections.get()
    locale = _locale(request)
    with reading(db):
        publication = outcome.current(db, c)
        made = report.build_report(db, c, locale, public_only=True)
        lines = outcome.texts(db, c, publication)
        table = outcome.comparison(db, c, publication, outcome.report_numbers(made), lines=lines)
    return render(request, "outcome.html", {
        "c": c, "publication": publication, "lines": lines, "table": table, "report": made,
        "reason_text": lambda row: comparison_table.reason_text(row, locale),
    })


def public_file(request: Request, c: dict, name: str):
    """A download of the published outcome: the 修改对照表, the plan as published, or the report."""
    db = request.app.state.connections.get()
    publication = outcome.current(db, c)
    if name == "comparison.docx":
        return _comparison_file(request, c, publication)
    if name == "plan.docx":
        # The text frozen with the outcome, not what editors have revised since (issue #12).
        with reading(db):
            blocks = outcome.published_blocks(db, publication)
            original = consultation_store.original_document(db, c["id"]) if blocks is not None else None
        if blocks is not None and original is not None:
            try:
                data = docx_export.export_docx(original["data"], blocks)
            except docx_export.ExportError as error:
                return refuse(request, 409, error.message)
            return _attachment(data, exporting.file_name(c, name))
    return download(request, c, name, allowed=PUBLIC_FILES, public_only=True)


def _attachment(data: bytes, filename: str) -> Response:
    return Response(data, media_type=DOCX, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
    })


def _comparison_file(request: Request, c: dict, publication: dict | None) -> Response:
    db = request.app.state.connections.get()
    locale = _locale(request)
    with reading(db):
        numbers = outcome.report_numbers(report.open_report(db, c, locale, public_only=True))
        rows = outcome.comparison(db, c, publication, numbers)
        original = consultation_store.original_document(db, c["id"])
    data = comparison_table.comparison_docx(c, rows, publication["published_at"] if publication else utc_now_text(),
                                            locale, original["data"] if original else None)
    return _attachment(data, exporting.file_name(c, "comparison.docx"))


routes = [
    Route("/editor/c/{slug}/outcome", confirm, name="editor_outcome_confirm"),
    Route("/editor/c/{slug}/outcome", publish, methods=["POST"], name="editor_outcome"),
    Route("/editor/c/{slug}/outcome/withdraw", withdraw, methods=["POST"], name="editor_outcome_withdraw"),
    Route("/editor/c/{slug}/comparison.docx", editor_comparison, name="editor_comparison"),
]
