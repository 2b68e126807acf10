"""Themes (主题, issue #13): editors keep a list per consultation and tag comments with them.

The rules; the SQL is in revise/store/themes.py. The queue filters by theme (`?theme=ID`) and
the 意见采纳情况表 can list comments theme by theme (revise.report, `group="theme"`).
"""

from __future__ import annotations

from sqlite_utils import Database

from revise.i18n import N_
from revise.store import audit as audit_store
from revise.store import themes as store
from revise.textclean import clean_text
from revise.timeutil import utc_now_text

NAME_MAX = 40


class ThemeError(Exception):
    """A theme change that cannot be made; .field names the form field, .message is a msgid."""

    def __init__(self, field: str, message: str, **params: object):
        super().__init__(message)
        self.field, self.message, self.params = field, message, params


def _name(db: Database, cid: int, value: object, theme_id: int | None = None) -> str:
    name = " ".join(clean_text(value if isinstance(value, str) else "", multiline=False).split())
    if not name:
        raise ThemeError("name", N_("Give the theme a name."))
    if len(name) > NAME_MAX:
        raise ThemeError("name", N_("A theme's name has at most 40 characters."))
    same = store.by_name(db, cid, name)
    if same is not None and same["id"] != theme_id:
        raise ThemeError("name", N_("There is already a theme called “%(name)s”."), name=name)
    return name


def chosen(db: Database, consultation: dict, theme_id: object) -> dict:
    """The consultation's theme with this id (as typed in a form), or ThemeError."""
    return _theme(db, consultation["id"], theme_id)


def _theme(db: Database, cid: int, theme_id: object) -> dict:
    found = None
    if isinstance(theme_id, int) or (isinstance(theme_id, str) and theme_id.isdigit() and len(theme_id) < 12):
        found = store.get(db, cid, int(theme_id))
    if found is None:
        raise ThemeError("theme", N_("Choose a theme from the list."))
    return found


def create(db: Database, consultation: dict, name: object, actor: str) -> int:
    cid = consultation["id"]
    name = _name(db, cid, name)
    at = utc_now_text()
    return store.create(db, cid, name, actor, at, audit_store.event(actor, "theme.create", cid, at=at))


def rename(db: Database, consultation: dict, theme_id: object, name: object, actor: str) -> bool:
    cid = consultation["id"]
    theme = _theme(db, cid, theme_id)
    name = _name(db, cid, name, theme["id"])
    return store.rename(db, cid, theme["id"], name, audit_store.event(actor, "theme.rename", cid, at=utc_now_text()))


def delete(db: Database, consultation: dict, theme_id: object, actor: str) -> int:
    """Delete a theme; returns how many comments it was taken off."""
    cid = consultation["id"]
    theme = _theme(db, cid, theme_id)
    return store.delete(db, cid, theme["id"], audit_store.event(actor, "theme.delete", cid, at=utc_now_text())) or 0


def tag(db: Database, consultation: dict, theme_id: object, comment_ids: list[int], actor: str,
        on: bool = True) -> int:
    """Put a theme on comments, or take it off (`on=False`); returns how many changed."""
    cid = consultation["id"]
    theme = _theme(db, cid, theme_id)
    if not comment_ids:
        raise ThemeError("ids", N_("Select at least one comment."))
    action = "comment.tag" if on else "comment.untag"
    return store.tag(db, cid, theme["id"], comment_ids, audit_store.event(actor, action, cid, at=utc_now_text()), on)


def set_for_comment(db: Database, consultation: dict, comment_id: int, theme_ids: list[str], actor: str) -> int:
    """The comment carries exactly the themes ticked; returns how many were put on or taken off."""
    cid = consultation["id"]
    wanted = {_theme(db, cid, t)["id"] for t in theme_ids}
    now = {t["id"] for t in store.of_comment(db, comment_id)}
    changed = 0
    for theme_id in sorted(wanted - now):
        changed += tag(db, consultation, theme_id, [comment_id], actor)
    for theme_id in sorted(now - wanted):
        changed += tag(db, consultation, theme_id, [comment_id], actor, on=False)
    return changed


def of_comment(db: Database, consultation: dict, comment_id: int) -> dict:
    """The comment page's theme controls: the themes it carries and every theme to choose from."""
    return {"on": store.of_comment(db, comment_id), "all": store.names(db, consultation["id"])}
