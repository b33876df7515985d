"""The USSD screens' words, in Albanian (the default for new numbers) and English.

Written in proper Albanian; the door converts every screen to the GSM alphabet on the way
out (``web.ussd.gsm.to_gsm``: ``ë`` -> ``e``, ``ç`` -> ``c``), so screens are counted in
7-bit characters. Languages without a USSD text (sr, mk, ru) are shown English. Keep every
text short: a screen is at most 182 characters including the menu lines.
"""

from __future__ import annotations

from typing import Any

from app import i18n

_TEXTS: dict[str, dict[str, str]] = {
    "sq": {
        "welcome": "Mirë se erdhët në Happy! Regjistrohuni falas dhe mblidhni pikë te "
        "partnerët.\n1 Regjistrohu\n2 Kushtet\n3 English",
        "terms": "Kushtet e programit: {url}\nDuke u regjistruar i pranoni ato.\n"
        "1 Regjistrohu\n0 Kthehu",
        "registered": "Jeni anëtar i Happy! Karta: {card}. Pikë: {points}. "
        "Do t'ju vijë një SMS me kartën.\n00 Menuja",
        "already_member": "Ky numër është anëtar i Happy. Karta: {card}.\n00 Menuja",
        "main": "Happy{name}\n1 Pikët\n2 Kuponat\n3 Faturat\n4 Merr shpërblim\n6 Gjuha/Language",
        "balance": "Pikë në dispozicion: {available}",
        "balance.expiring": "Skadojnë {points} pikë më {date}",
        "balance.next": "Niveli {level} ({points} pikë): ju mungojnë {needed}",
        "balance.claimable": "Mund të merrni nivelin {level}: 4 te menuja",
        "vouchers": "Kuponat (kodi, vlera, skadon):",
        "vouchers.none": "Nuk keni kupona aktivë.",
        "voucher": "{code} {value} {date}",
        "receipts": "Faturat e fundit:",
        "receipts.none": "Nuk keni fatura ende.",
        "receipt": "{date} {partner} {points} p",
        "levels": "Zgjidhni nivelin (keni {available} pikë):",
        "levels.none": "Nuk ka nivele shpërblimi tani.",
        "level": "{option} {points} pikë: {count} kupona {total}",
        "confirm": "Niveli {level}: {count} kupona x {each} për {points} pikë. "
        "Konfirmoni?\n1 Po\n0 Kthehu",
        "confirm.short": "Niveli {level} kërkon {points} pikë; keni {available}.",
        "claimed": "U mor niveli {level}: {count} kupona, {total} gjithsej. Pikë të "
        "mbetura: {balance}. Kodet: 2 te menuja.",
        "language": "Zgjidhni gjuhën:\n1 Shqip\n2 English\n0 Kthehu",
        "language.set": "Gjuha u ndryshua: shqip.",
        "more": "9 Më shumë",
        "back": "0 Kthehu 00 Menuja",
        "menu": "00 Menuja",
        "invalid": "Zgjedhje e pavlefshme.",
        "error.INSUFFICIENT_POINTS": "Nuk keni pikë të mjaftueshme.",
        "error.RATE_LIMITED": "Shumë kërkesa. Provoni përsëri pas {wait}.",
        "error.REWARD_LEVEL_NOT_FOUND": "Ky nivel shpërblimi nuk ekziston më.",
        "error.MEMBER_BLOCKED": "Llogaria juaj është bllokuar. Kontaktoni shërbimin e klientit.",
        "error.INVALID_PHONE": "Ky numër nuk mund të anëtarësohet në Happy.",
        "error.PHONE_REGION_NOT_ALLOWED": "Numrat nga ky shtet nuk mund të anëtarësohen.",
        "error.CONFLICT": "Seanca nuk është e vlefshme. Thirrni përsëri.",
        "error.unavailable": "Shërbimi nuk është i disponueshëm tani. Provoni pak më vonë.",
        "error.too_long": "Seanca u zgjat shumë. Thirrni përsëri.",
        "wait.minutes": "{n} min",
        "wait.hours": "{n} orë",
        "sms.welcome": "Mirë se erdhët në Happy! Karta juaj: {card}. Keni {points} pikë. "
        "Jepni numrin e kartës ose të telefonit në arkë.",
    },
    "en": {
        "welcome": "Welcome to Happy! Join free and collect points at our partners.\n"
        "1 Join\n2 Terms\n3 Shqip",
        "terms": "Programme terms: {url}\nBy joining you accept them.\n1 Join\n0 Back",
        "registered": "You are a Happy member! Card: {card}. Points: {points}. "
        "An SMS with your card is on its way.\n00 Menu",
        "already_member": "This number is a Happy member. Card: {card}.\n00 Menu",
        "main": "Happy{name}\n1 Points\n2 Vouchers\n3 Receipts\n4 Claim a reward\n6 Language/Gjuha",
        "balance": "Available points: {available}",
        "balance.expiring": "{points} points expire on {date}",
        "balance.next": "Level {level} ({points} pts): {needed} to go",
        "balance.claimable": "You can claim level {level}: 4 in the menu",
        "vouchers": "Vouchers (code, value, expiry):",
        "vouchers.none": "You have no active vouchers.",
        "voucher": "{code} {value} {date}",
        "receipts": "Last receipts:",
        "receipts.none": "No receipts yet.",
        "receipt": "{date} {partner} {points} pts",
        "levels": "Choose a level (you have {available} pts):",
        "levels.none": "No reward levels right now.",
        "level": "{option} {points} pts: {count} vouchers {total}",
        "confirm": "Level {level}: {count} vouchers x {each} for {points} pts. "
        "Confirm?\n1 Yes\n0 Back",
        "confirm.short": "Level {level} needs {points} pts; you have {available}.",
        "claimed": "Level {level} claimed: {count} vouchers, {total} in total. Points "
        "left: {balance}. Codes: 2 in the menu.",
        "language": "Choose your language:\n1 Shqip\n2 English\n0 Back",
        "language.set": "Language changed: English.",
        "more": "9 More",
        "back": "0 Back 00 Menu",
        "menu": "00 Menu",
        "invalid": "Invalid choice.",
        "error.INSUFFICIENT_POINTS": "You do not have enough points.",
        "error.RATE_LIMITED": "Too many requests. Try again in {wait}.",
        "error.REWARD_LEVEL_NOT_FOUND": "This reward level no longer exists.",
        "error.MEMBER_BLOCKED": "Your account is blocked. Please contact customer support.",
        "error.INVALID_PHONE": "This number cannot join Happy.",
        "error.PHONE_REGION_NOT_ALLOWED": "Numbers from this country cannot join.",
        "error.CONFLICT": "This session is not valid. Please dial again.",
        "error.unavailable": "The service is not available now. Please try a bit later.",
        "error.too_long": "The session went on too long. Please dial again.",
        "wait.minutes": "{n} min",
        "wait.hours": "{n} h",
        "sms.welcome": "Welcome to Happy! Your card: {card}. You have {points} points. "
        "Give your card or phone number at the till.",
    },
}

LANGUAGES = ("sq", "en")


def language_of(preference: str | None) -> str:
    """The USSD language for a member's stored preference (sq unless English is better)."""
    if preference in _TEXTS:
        return preference
    return "en" if preference in i18n.LANGUAGES else "sq"


def text(key: str, language: str, **params: Any) -> str:
    template = _TEXTS[language_of(language)].get(key) or _TEXTS["en"][key]
    return template.format(**params) if params else template


def has(key: str) -> bool:
    return key in _TEXTS["en"]


def wait(seconds: int, language: str) -> str:
    """A retry-after for a screen: minutes under two hours, then hours (rounded up)."""
    if seconds < 2 * 3600:
        return text("wait.minutes", language, n=max(1, -(-seconds // 60)))
    return text("wait.hours", language, n=-(-seconds // 3600))
