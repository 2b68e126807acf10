"""Thin routes: parse the request, call a domain function, render a template."""

from starlette.convertors import IntegerConvertor, register_url_convertor


class RowIdConvertor(IntegerConvertor):
    """`{x:int}` path parameters that fit an SQLite integer: at most 18 digits, else no route (404).

    Starlette's own int convertor takes any run of digits, and an id ≥ 2**63 overflowed SQLite's
    integer binding in every store lookup (a 500 on 19 URLs, issue #10). Registered here, before
    any route module of this package compiles its paths.
    """

    regex = "[0-9]{1,18}"


register_url_convertor("int", RowIdConvertor())
