"""Boilerplate cannot swing the label: EEO and company-brand paragraphs added to sales postings.

The postings are the sales postings of the bundled sample export (those the shipped model labels
sales) plus two written here. Where a paragraph is blanked entirely, the words the model sees are
unchanged, so the label cannot change whatever the model; where part of it is kept, the label is
checked. Gaps found this way were fixed in the patterns and are pinned here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mktsales import default_classifier
from mktsales.document import prepare

REPO = Path(__file__).resolve().parents[1]

WRITTEN = [
    (
        "Field Sales Executive",
        "You will visit independent garden centres across the South West, take orders, open new accounts "
        "and hit your monthly sales target. Commission is paid on every order you close.",
    ),
    (
        "Account Executive - SaaS",
        "Own a pipeline of mid-market prospects, run discovery calls and demos, negotiate contracts and close "
        "new business against a quarterly quota. Keep the CRM up to date.",
    ),
]

#: Typical equal-opportunity paragraphs; each is blanked entirely.
EEO = {
    "us_statement": (
        "Northwind is an equal opportunity employer. All qualified applicants will receive consideration for "
        "employment without regard to race, color, religion, sex, sexual orientation, gender identity, national "
        "origin, disability, or protected veteran status."
    ),
    "heading": (
        "Equal Opportunity\nWe value diversity and do not discriminate on the basis of any protected characteristic."
    ),
    "adjustments": "We will make reasonable adjustments throughout the recruitment process. We celebrate diversity.",
}
#: Typical company-brand paragraphs (full of marketing words); each is blanked entirely.
BRAND = {
    "about_heading": (
        "About us\nNorthwind is a leading consumer brand loved by millions. Our award-winning marketing campaigns "
        "and iconic brand have built strong brand awareness across 30 countries."
    ),
    "company_intro": (
        "Northwind is one of Europe's most recognised consumer brands. For over 50 years our brand has stood for "
        "quality, and our marketing and advertising are award-winning."
    ),
    "who_we_are": (
        "Who we are\nWe are a purpose-led brand with a strong marketing heritage, building our reputation through "
        "storytelling, sponsorship and community engagement."
    ),
    "inline_about": (
        "About Northwind: we are a global brand with a long-term vision, investing in market research, brand "
        "positioning and customer insight."
    ),
}
#: A diversity paragraph with a list ("equality, diversity and inclusion").
PARTLY_BLANKED_EEO = (
    "We are committed to equality, diversity and inclusion and welcome applications from all sections of the "
    "community. We will make reasonable adjustments throughout the recruitment process."
)
#: Brand paragraphs that open without a heading or "X is a": "Our brand is", "At X we", "We're on a
#: mission", "Join a brand" (patterns added to data/boilerplate.json after this test found them).
UNBLANKED_BRAND = {
    "our_brand": (
        "Our brand is built on a simple promise: great coffee, ethically sourced. Our campaigns have won awards "
        "and our brand awareness grows every year."
    ),
    "at_company_we": (
        "At Northwind we believe in building a brand that lasts for decades. Our marketing team wins awards and "
        "our customers love our products."
    ),
    "mission_to": (
        "We're on a mission to become the most loved brand in home fitness, through bold campaigns and brand "
        "partnerships."
    ),
    "join_a_brand": "Join a brand that people love. Our brand awareness and market research are second to none.",
}


def _sample_sales_postings() -> list[tuple[str, str]]:
    postings = REPO / "data" / "samples" / "postings.csv"
    labels = REPO / "data" / "samples" / "postings_labels.csv"
    with labels.open(encoding="utf-8", newline="") as fh:
        gold = {r["posting_id"]: r["label"] for r in csv.DictReader(fh)}
    with postings.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(r["title"], r["description"]) for r in rows if gold.get(r["posting_id"]) == "sales"]


@pytest.fixture(scope="module")
def sales_postings() -> list[tuple[str, str]]:
    """(title, description) of sales postings that the shipped model labels sales with their title."""
    clf = default_classifier()
    out = [(t, d) for t, d in [*WRITTEN, *_sample_sales_postings()] if clf.classify(d, title=t).label == "sales"]
    assert len(out) >= 20, "the sample export should hold enough sales postings"
    return out


def _appended(description: str, paragraph: str) -> str:
    return f"{description}\n\n{paragraph}"


@pytest.mark.parametrize("name", sorted({**EEO, **BRAND}))
def test_boilerplate_paragraph_is_invisible_to_the_model(name: str, sales_postings: list[tuple[str, str]]) -> None:
    """Appending a typical EEO or brand paragraph leaves the words the model sees unchanged, with or without title."""
    paragraph = {**EEO, **BRAND}[name]
    for title, description in sales_postings:
        for t in (title, None):
            assert prepare(_appended(description, paragraph), t).words() == prepare(description, t).words(), title


@pytest.mark.parametrize("name", sorted({**EEO, **BRAND}))
def test_boilerplate_paragraph_does_not_change_a_sales_label(name: str, sales_postings: list[tuple[str, str]]) -> None:
    """A sales posting stays sales, with its title column, after a typical EEO or brand paragraph is appended."""
    clf = default_classifier()
    paragraph = {**EEO, **BRAND}[name]
    changed = [t for t, d in sales_postings if clf.classify(_appended(d, paragraph), title=t).label != "sales"]
    assert changed == []


def test_partly_blanked_eeo_paragraph_does_not_change_a_sales_label(sales_postings: list[tuple[str, str]]) -> None:
    """A diversity paragraph whose first sentence survives blanking leaves sales postings sales (title or not)."""
    clf = default_classifier()
    for with_title in (True, False):
        changed = []
        for title, description in sales_postings:
            t = title if with_title else None
            if clf.classify(description, title=t).label != "sales":
                continue
            if clf.classify(_appended(description, PARTLY_BLANKED_EEO), title=t).label != "sales":
                changed.append(title)
        assert changed == [], f"with_title={with_title}"


@pytest.mark.parametrize("name", sorted(UNBLANKED_BRAND))
def test_unheaded_brand_paragraph_is_blanked(name: str) -> None:
    """A brand paragraph without heading or 'X is a ...' opening is boilerplate too."""
    title, description = WRITTEN[0]
    paragraph = UNBLANKED_BRAND[name]
    assert prepare(_appended(description, paragraph), title).words() == prepare(description, title).words()


def test_about_us_section_before_the_role_keeps_the_role_text() -> None:
    """An 'About us' section placed before the job description does not swallow the description."""
    description = (
        "Our client, a UK high-street bank, is recruiting Personal Bankers for its Edinburgh branch.\n\n"
        "Meet customers in branch, review their finances, and recommend and sell current accounts, credit cards "
        "and loans against individual monthly sales goals."
    )
    first = BRAND["about_heading"] + "\n\n" + description
    assert prepare(first).words()[-len(prepare(description).words()) :] == prepare(description).words()
