"""The check every form POST passes before anything else is read: an Origin that is the site's own,
and the CSRF token bound to the visitor's session (revise.web.middleware.VisitorSession)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from revise.i18n import N_

FOREIGN = N_("This form was sent from another site and was refused.")
NO_SESSION = N_("Your session has expired or cookies are off: reload the page and send the form again.")


def problem(request: Request, form: dict) -> str | None:
    """Why this POST must be refused (a msgid, answered 403), or None.

    A cross-site form carries the other site's Origin, or neither our token nor our session.
    The site's own origin is the one the request was addressed to or the one the operator named
    (the base URL): behind a TLS proxy not configured as trusted the request looks like http,
    the browser says https. "null" (a sandboxed or privacy-minded context) proves nothing either
    way: the token decides.
    """
    origin = request.headers.get("origin")
    base = urlsplit(request.app.state.settings.public_url)
    own = {f"{request.url.scheme}://{request.url.netloc}", f"{base.scheme}://{base.netloc}"}
    if origin and origin != "null" and origin.rstrip("/") not in own:
        return FOREIGN
    token = form.get("csrf") if isinstance(form.get("csrf"), str) else None
    if not request.app.state.signer.check_csrf(request.scope["state"].get("session_id"), token):
        return NO_SESSION
    return None
