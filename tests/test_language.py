"""Cheap language detection."""

from __future__ import annotations

import pytest

from mktsales.document import prepare

POSTINGS = {
    "de": "Wir suchen für unser Team in München eine erfahrene Vertriebsleiterin. Sie sind für die Betreuung "
    "unserer Kunden zuständig und haben Erfahrung im Vertrieb. Wir bieten Ihnen ein attraktives Gehalt.",
    "fr": "Nous recherchons pour notre équipe à Lyon un responsable des ventes. Vous êtes chargé du développement "
    "du portefeuille clients et vous avez une expérience de la vente dans le secteur.",
    "es": "Buscamos un responsable de ventas para nuestra oficina de Madrid. Serás responsable de la cartera de "
    "clientes y del equipo comercial. Ofrecemos un salario competitivo y formación.",
    "zh": "我们正在寻找一名销售经理，负责开发新客户，维护现有客户关系，完成季度销售目标。",
    "nl": "Wij zoeken voor ons team in Utrecht een ervaren accountmanager. Jij bent verantwoordelijk voor de "
    "verkoop aan onze klanten en je hebt ervaring met het werk in de regio.",
}


@pytest.mark.parametrize(("lang", "text"), sorted(POSTINGS.items()))
def test_non_english_postings_are_detected(lang: str, text: str) -> None:
    """German, French, Spanish, Dutch and Chinese postings are recognised."""
    assert prepare(text).language == lang


def test_english_posting_is_english() -> None:
    """An English posting is English, even with a few foreign words."""
    text = (
        "We are looking for a field sales executive to join our team in Lyon. You will visit customers, "
        "close deals and work with the marketing team on the annual plan. Fluent French is a plus."
    )
    assert prepare(text).language == "en"


def test_short_titles_are_assumed_english() -> None:
    """Too few words to tell: treated as English."""
    assert prepare("Verkaufsleiter").language == "en"
