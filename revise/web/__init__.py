"""Thin routes: parse the request, call a domain function, render a template."""

from starlette import formparsers
from starlette.convertors import IntegerConvertor, register_url_convertor


class RowIdConvertor(IntegerConvertor):
    """`{x:int}` path parameters that fit an SQLite integer: at most 18 digits, else no route (404).

    Starlette's own int convertor takes any run of digits, and an id ≥ 2**63 overflowed SQLite's
    integer binding in every store lookup (a 500 on 19 URLs, issue #10). Registered here, before
    any route module of this package compiles its paths.
    """

    regex = "[0-9]{1,18}"


register_url_convertor("int", RowIdConvertor())


def _decoded_or_replaced(src: bytes | bytearray, codec: str) -> str:
    """A multipart field's text (or file name) in its charset, a bad byte becoming U+FFFD.

    Starlette decodes a multipart field holding one invalid byte as Latin-1 instead, turning the
    whole field — a ledger entry's body, an uploaded file's name — into mojibake (issue #10,
    found from outside); urlencoded forms already get U+FFFD. Installed here like the convertor.
    """
    try:
        return bytes(src).decode(codec, "replace")
    except LookupError:  # a charset Python does not know
        return bytes(src).decode("utf-8", "replace")


formparsers._user_safe_decode = _decoded_or_replaced
