"""A suggested change to a table row typed cell by cell is stored as the row's cells joined by tabs (issue #16)."""

from revise import comment_form

ROW = {"id": 10, "kind": "table_row", "text": "\t9\t高新技术产业营业收入(亿元)\t800\t1100",
       "cells": [{"text": "", "vmerge": "continue"}, {"text": "9"}, {"text": "高新技术产业营业收入(亿元)"},
                 {"text": "800"}, {"text": "1100"}]}


def test_cell_inputs_become_the_tab_joined_suggestion_the_store_expects():
    form = {"kind": "edit", "body": "提高目标。", "cell-0": "", "cell-1": "9", "cell-2": "高新技术产业营业收入(亿元)",
            "cell-3": "800", "cell-4": " 1300 "}
    values, errors = comment_form.validate(form, ROW)
    assert not errors
    assert values["suggestion"] == "\t9\t高新技术产业营业收入(亿元)\t800\t1300"


def test_a_tab_typed_in_a_cell_does_not_make_a_new_cell():
    form = {"kind": "edit", "body": "x", **{f"cell-{i}": v for i, v in enumerate(["", "9", "a\tb", "800", "1100"])}}
    values, _ = comment_form.validate(form, ROW)
    assert values["suggestion"].split("\t") == ["", "9", "a b", "800", "1100"]


def test_unchanged_cells_are_refused_as_the_same_text():
    form = {"kind": "edit", "body": "x", **{f"cell-{i}": v for i, v in enumerate(ROW["text"].split("\t"))}}
    _, errors = comment_form.validate(form, ROW)
    assert "suggestion" in errors
