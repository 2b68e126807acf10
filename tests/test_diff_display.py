"""How a change reads on screen: small marks inside long Chinese paragraphs."""

from revise.diffing import diff_html


def test_a_one_digit_change_in_a_long_paragraph_is_one_character_marked():
    old = "南充历史底蕴深厚,有2200多年的建城史,春秋以来历为都、州、郡、府、道之治所。"
    html = str(diff_html(old, old.replace("2200", "2300")))
    assert html.count("<del>") == 1 and "<del>2</del><ins>3</ins>" in html


def test_with_context_long_unchanged_stretches_are_cut_around_the_change():
    old = "一" * 200 + "2200多年" + "二" * 200
    html = str(diff_html(old, old.replace("2200", "2300"), context=10))
    assert html.startswith("…" + "一" * 9) and html.endswith("二" * 6 + "…")
    assert len(html) < 80


def test_markup_in_the_text_stays_text():
    html = str(diff_html("<b>旧</b>", "<b>新</b>"))
    assert "<b>" not in html and "&lt;b&gt;" in html
