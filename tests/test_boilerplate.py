"""Boilerplate is blanked, job content is kept, offsets do not move."""

from __future__ import annotations

from mktsales.boilerplate import blank_boilerplate

POSTING = """Account Executive
About the role
You will close deals with mid-market retailers and hit a quarterly quota.
About Northwind
Northwind is a leading consumer brand loved by millions. Our marketing is award-winning.
Responsibilities
- Prospect new accounts
Northwind is an equal opportunity employer. We celebrate diversity."""


def test_blanking_keeps_length() -> None:
    """Blanked text has the same length, so offsets stay valid."""
    assert len(blank_boilerplate(POSTING)) == len(POSTING)


def test_about_us_and_eeo_are_blanked_role_is_kept() -> None:
    """The 'about us' section and the EEO sentence go; the duties stay."""
    out = blank_boilerplate(POSTING)
    assert "close deals with mid-market retailers" in out
    assert "Prospect new accounts" in out
    assert "award-winning" not in out
    assert "consumer brand" not in out
    assert "equal opportunity" not in out


def test_about_the_role_is_not_boilerplate() -> None:
    """'About the role' opens job content, not company boilerplate."""
    text = "About the role\nYou will build the brand strategy."
    assert blank_boilerplate(text) == text


def test_sentence_level_blanking_keeps_neighbours() -> None:
    """Only the boilerplate sentence of a mixed line is blanked."""
    out = blank_boilerplate("Close deals. We are an equal opportunity employer. Sell more.")
    assert out.split() == ["Close", "deals.", "Sell", "more."]


def test_company_intro_with_role_cue_is_kept() -> None:
    """A paragraph that introduces the company but speaks to the candidate is not dropped whole."""
    text = "Acme Foods is hiring: you will sell our snacks to independent shops."
    assert blank_boilerplate(text) == text


def test_text_without_boilerplate_is_returned_as_is() -> None:
    """No boilerplate, no copy."""
    text = "Own the quarterly pipeline and close enterprise deals"
    assert blank_boilerplate(text) is text


def test_runs_of_spaces_and_tabs_blank_what_single_spaces_blank() -> None:
    """Patterns are written with single spaces; two spaces or a tab between words (common after a
    full stop or in exported text) must blank the same passages."""
    for gap in ("  ", "\t", " \t "):
        stretched = POSTING.replace(" ", gap)
        out = blank_boilerplate(stretched)
        assert len(out) == len(stretched)
        assert out.split() == blank_boilerplate(POSTING).split(), repr(gap)


def test_a_company_introduction_with_double_spaces_is_still_blanked() -> None:
    for intro in ("Brightway  Foods  is  a  family  bakery.", "We  are  a  family  bakery."):
        text = "Sell our snacks to shops.\n\n" + intro
        assert blank_boilerplate(text).split() == ["Sell", "our", "snacks", "to", "shops."], intro


def test_spaced_patterns_keep_classes_and_optional_spaces() -> None:
    from mktsales.boilerplate import _spaced

    assert _spaced("d ?& ?i") == "d[ \\t]*&[ \\t]*i"
    assert _spaced("award[- ]winning") == "award[- \\t]winning"
    assert _spaced("[^ ]x y") == "[^ \\t]x[ \\t]+y"
    assert _spaced(r"a\ b") == r"a\ b"


def test_list_markers_do_not_change_what_is_blanked() -> None:
    """A "- ", "* " or "+ " before a heading or a company introduction (postings bullet those
    too) blanks the same lines as without it; a found property test had "* " keep a line that the
    bare text blanked, and the label changed with it."""
    text = POSTING.replace("- Prospect", "Prospect")

    def words(s: str) -> list[str]:
        return [w for w in s.split() if w not in ("-", "*", "+")]

    bare = words(blank_boilerplate(text))
    assert "Northwind" not in bare
    for marker in ("- ", "* ", "+ ", "-\t", "  * "):
        marked = "\n".join(marker + line for line in text.split("\n"))
        out = blank_boilerplate(marked)
        assert len(out) == len(marked)
        assert words(out) == bare, repr(marker)


def test_a_sentence_about_the_role_is_not_a_company_introduction() -> None:
    """A line such as "This is a ... role" reads like "Acme is a ...", but "this", "it" or
    "there" is not a company: the line is job content."""
    for line in (
        "This is an administrative role; publicity is handled by the PR agency.",
        "It is a hands-on post in a small office.",
        "There are two shifts a day.",
    ):
        text = "Book the shoots and keep the diary.\n\n" + line
        assert blank_boilerplate(text) == text, line
    company = "Sell our snacks.\n\nBrightway Foods is a family bakery in Leeds."
    assert blank_boilerplate(company).split() == ["Sell", "our", "snacks."]
