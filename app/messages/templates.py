"""The texts of member messages, per kind and language (sq and en; other languages fall
back to Albanian, the programme's default, then English).

A template is a subject (email, push title) and a body with ``{name}`` fields; every
kind lists the fields it needs, so a campaign file naming a template is checked before
anything is sent. Marketing bodies get the way out appended by the composer
(:func:`app.messages.service.compose`).
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter

from app.messages.models import Category

FALLBACK_LANGUAGES = ("sq", "en")


@dataclass(frozen=True)
class Template:
    category: Category
    texts: dict[str, tuple[str, str]]  # language -> (subject, body)

    def fields(self) -> set[str]:
        found: set[str] = set()
        for subject, body in self.texts.values():
            for text in (subject, body):
                found.update(name for _, name, _, _ in Formatter().parse(text) if name)
        return found


T = Category.TRANSACTIONAL
M = Category.MARKETING

TEMPLATES: dict[str, Template] = {
    "welcome": Template(
        T,
        {
            "sq": (
                "Mirë se vini në Happy",
                "Mirë se vini në Happy! Karta juaj: {card_number}. Gjendja juaj: {balance} pikë.",
            ),
            "en": (
                "Welcome to Happy",
                "Welcome to Happy! Your card: {card_number}. Your balance: {balance} points.",
            ),
        },
    ),
    "points_earned": Template(
        T,
        {
            "sq": (
                "Fituat {points} pikë",
                "Fituat {points} pikë te {partner}. Gjendja juaj: {balance} pikë.",
            ),
            "en": (
                "You earned {points} points",
                "You earned {points} points at {partner}. Your balance: {balance} points.",
            ),
        },
    ),
    "vouchers_ready": Template(
        T,
        {
            "sq": (
                "Kuponat tuaj janë gati",
                "{count} kuponat tuaj janë gati në aplikacionin Happy. "
                "Vlejnë deri më {expires_on}.",
            ),
            "en": (
                "Your vouchers are ready",
                "Your {count} vouchers are ready in the Happy app. Valid until {expires_on}.",
            ),
        },
    ),
    "voucher_expiring": Template(
        T,
        {
            "sq": (
                "Kuponat skadojnë së shpejti",
                "Kuponat tuaj ({count}) skadojnë më {expires_on}. Përdorini te partnerët Happy.",
            ),
            "en": (
                "Vouchers expire soon",
                "Your vouchers ({count}) expire on {expires_on}. Use them at any Happy partner.",
            ),
        },
    ),
    "points_expiring": Template(
        T,
        {
            "sq": (
                "Pikët tuaja skadojnë",
                "{points} pikë skadojnë më {expires_on}. Përdorini te partnerët Happy.",
            ),
            "en": (
                "Your points expire",
                "{points} points expire on {expires_on}. Use them at any Happy partner.",
            ),
        },
    ),
    "tier_up": Template(
        T,
        {
            "sq": ("Tani jeni {tier}", "Urime! Tani jeni {tier}."),
            "en": ("You are {tier} now", "Congratulations! You are {tier} now."),
        },
    ),
    "birthday": Template(
        M,
        {
            "sq": (
                "Gëzuar ditëlindjen!",
                "Gëzuar ditëlindjen, {first_name}! Ju dhuruam {bonus} pikë dhuratë.",
            ),
            "en": (
                "Happy birthday!",
                "Happy birthday, {first_name}! We are giving you {bonus} extra gift points.",
            ),
        },
    ),
    "reward_within_reach": Template(
        M,
        {
            "sq": (
                "Edhe pak për shpërblimin",
                "Ju duhen edhe {missing} pikë për shpërblimin tuaj të radhës ({vouchers} kupona).",
            ),
            "en": (
                "Almost there",
                "{missing} points to your next reward ({vouchers} vouchers).",
            ),
        },
    ),
    "we_miss_you": Template(
        M,
        {
            "sq": (
                "Na mungoni",
                "Na mungoni, {first_name}! Keni {balance} pikë që ju presin te partnerët Happy.",
            ),
            "en": (
                "We miss you",
                "We miss you, {first_name}! {balance} points are waiting for you at Happy "
                "partners.",
            ),
        },
    ),
    "bonus_points": Template(
        M,
        {
            "sq": ("Pikë dhuratë", "Po ju dhurojmë {bonus} pikë dhuratë. Gjendja: {balance} pikë."),
            "en": (
                "Gift points",
                "We are giving you {bonus} extra gift points. Balance: {balance}.",
            ),
        },
    ),
    "news": Template(
        M,
        {
            "sq": ("Lajme nga Happy", "Ofertat e reja Happy ju presin te partnerët tanë."),
            "en": ("News from Happy", "New Happy offers are waiting for you at our partners."),
        },
    ),
}

# The way out appended to every marketing message on every channel: a signed link that
# withdraws that channel's consent (email also gets the List-Unsubscribe header).
WAY_OUT: dict[str, str] = {
    "sq": "Çregjistrohu: {link}",
    "en": "Unsubscribe: {link}",
}


def pick(texts: dict[str, str] | dict[str, tuple[str, str]], language: str) -> str:
    """The language to use from ``texts``: the member's, else the fallbacks."""
    for candidate in (language, *FALLBACK_LANGUAGES):
        if candidate in texts:
            return candidate
    return next(iter(texts))


def render(kind: str, language: str, params: dict[str, str | int]) -> tuple[str, str, str]:
    """(language used, subject, body) of ``kind`` in ``language``."""
    template = TEMPLATES[kind]
    used = pick(template.texts, language)
    subject, body = template.texts[used]
    return used, subject.format(**params), body.format(**params)
