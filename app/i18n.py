"""Texts shown to members, in their language (sq default, en).

One catalogue for error messages and SMS texts so every door says the same thing.
Languages without a translation fall back to the programme default, then English.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

LANGUAGES = ("sq", "en", "sr", "mk", "ru")
DEFAULT_LANGUAGE = "sq"

_CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "INVALID_INPUT": "Some of the information is not valid.",
        "INVALID_PHONE": "This is not a valid mobile phone number.",
        "PHONE_REGION_NOT_ALLOWED": "Mobile numbers from this country cannot join the programme.",
        "CODE_INVALID": "The code is not correct. Tries left: {attempts_left}.",
        "CODE_EXPIRED": "The code has expired. Ask for a new one.",
        "TOO_MANY_ATTEMPTS": "Too many wrong tries. Ask for a new code.",
        "RATE_LIMITED": "Too many requests. Try again in {retry_after} seconds.",
        "SERVICE_UNAVAILABLE": "The service is briefly unavailable. "
        "Send the same request again in {retry_after} seconds.",
        "UNAUTHENTICATED": "Your session has ended. Please sign in again.",
        "FORBIDDEN": "You are not allowed to do this.",
        "NOT_FOUND": "Not found.",
        "ACCOUNT_DELETED": "This account has been deleted.",
        "INSUFFICIENT_POINTS": "You do not have enough points.",
        "CONFLICT": "This conflicts with an earlier request.",
        "sms.otp": "{code} is your Happy code. It is valid for {minutes} minutes. "
        "Do not share it with anyone.",
        "ledger.welcome_bonus": "Welcome bonus",
        "RECEIPT_CONFLICT": "This receipt id was already used for a different receipt.",
        "CARD_NOT_FOUND": "No active member has this card.",
        "CARD_TOKEN_EXPIRED": "The card code has expired. Ask the member to show it again.",
        "MEMBER_NOT_FOUND": "No active member has this phone number.",
        "WRONG_CURRENCY": "This store takes receipts in {expected} only.",
        "NEGATIVE_AMOUNT": "Amounts and quantities cannot be negative.",
        "TOTAL_MISMATCH": "The receipt total is not the sum of its lines.",
        "LINE_AMOUNT_MISMATCH": "A line amount is not its quantity times its unit price.",
        "REFUND_EXCEEDS_RECEIPT": "The refund is more than what is left on the receipt.",
        "BATCH_TOO_LARGE": "A batch can hold at most {maximum} receipts.",
        "VOUCHER_NOT_FOUND": "This voucher code is not valid.",
        "VOUCHER_ALREADY_REDEEMED": "This voucher has already been used.",
        "VOUCHER_EXPIRED": "This voucher has expired.",
        "VOUCHER_NOT_VALID_HERE": "This voucher cannot be used at this partner.",
        "VOID_WINDOW_PASSED": "A redemption can only be undone within 24 hours.",
        "REWARD_LEVEL_NOT_FOUND": "There is no such reward level.",
        "INVALID_MONTH": "The month must be written YYYY-MM, for example 2026-11.",
        "MONTH_NOT_ENDED": "A month can be closed only after it has ended.",
        "MONTH_ALREADY_CLOSED": "This month is already closed.",
        "OFFER_NOT_ELIGIBLE": "This offer is not available to you.",
        "OFFER_EXPIRED": "This offer has ended.",
        "OFFER_ALREADY_ACTIVE": "You have already activated this offer.",
        "partner.unauthenticated": "Missing, unknown or revoked API key "
        "(send Authorization: Bearer <key>).",
    },
    "sq": {
        "INVALID_INPUT": "Disa nga të dhënat nuk janë të vlefshme.",
        "INVALID_PHONE": "Ky nuk është numër celulari i vlefshëm.",
        "PHONE_REGION_NOT_ALLOWED": "Numrat celularë nga ky shtet nuk mund të anëtarësohen.",
        "CODE_INVALID": "Kodi nuk është i saktë. Përpjekje të mbetura: {attempts_left}.",
        "CODE_EXPIRED": "Kodi ka skaduar. Kërkoni një kod të ri.",
        "TOO_MANY_ATTEMPTS": "Shumë përpjekje të gabuara. Kërkoni një kod të ri.",
        "RATE_LIMITED": "Shumë kërkesa. Provoni përsëri pas {retry_after} sekondash.",
        "SERVICE_UNAVAILABLE": "Shërbimi nuk është i disponueshëm për pak kohë. "
        "Dërgoni të njëjtën kërkesë përsëri pas {retry_after} sekondash.",
        "UNAUTHENTICATED": "Seanca juaj ka përfunduar. Ju lutem hyni përsëri.",
        "FORBIDDEN": "Nuk keni leje për këtë veprim.",
        "NOT_FOUND": "Nuk u gjet.",
        "ACCOUNT_DELETED": "Kjo llogari është fshirë.",
        "INSUFFICIENT_POINTS": "Nuk keni pikë të mjaftueshme.",
        "CONFLICT": "Kjo bie ndesh me një kërkesë të mëparshme.",
        "sms.otp": "{code} është kodi juaj Happy. Vlen për {minutes} minuta. "
        "Mos ia tregoni askujt.",
        "ledger.welcome_bonus": "Bonus mirëseardhjeje",
        "RECEIPT_CONFLICT": "Ky numër fature është përdorur për një faturë tjetër.",
        "CARD_NOT_FOUND": "Asnjë anëtar aktiv nuk ka këtë kartë.",
        "CARD_TOKEN_EXPIRED": "Kodi i kartës ka skaduar. Kërkojini anëtarit ta tregojë sërish.",
        "MEMBER_NOT_FOUND": "Asnjë anëtar aktiv nuk ka këtë numër telefoni.",
        "WRONG_CURRENCY": "Ky dyqan pranon fatura vetëm në {expected}.",
        "NEGATIVE_AMOUNT": "Shumat dhe sasitë nuk mund të jenë negative.",
        "TOTAL_MISMATCH": "Totali i faturës nuk është shuma e rreshtave.",
        "LINE_AMOUNT_MISMATCH": "Shuma e një rreshti nuk është sasia herë çmimin.",
        "REFUND_EXCEEDS_RECEIPT": "Kthimi është më i madh se ç'ka mbetur në faturë.",
        "BATCH_TOO_LARGE": "Një paketë mund të ketë më së shumti {maximum} fatura.",
        "VOUCHER_NOT_FOUND": "Ky kod kuponi nuk është i vlefshëm.",
        "VOUCHER_ALREADY_REDEEMED": "Ky kupon është përdorur tashmë.",
        "VOUCHER_EXPIRED": "Ky kupon ka skaduar.",
        "VOUCHER_NOT_VALID_HERE": "Ky kupon nuk mund të përdoret te ky partner.",
        "VOID_WINDOW_PASSED": "Përdorimi i kuponit mund të anulohet vetëm brenda 24 orëve.",
        "REWARD_LEVEL_NOT_FOUND": "Nuk ka një nivel të tillë shpërblimi.",
        "INVALID_MONTH": "Muaji duhet shkruar VVVV-MM, për shembull 2026-11.",
        "MONTH_NOT_ENDED": "Një muaj mund të mbyllet vetëm pasi të ketë përfunduar.",
        "MONTH_ALREADY_CLOSED": "Ky muaj është mbyllur tashmë.",
        "OFFER_NOT_ELIGIBLE": "Kjo ofertë nuk është e disponueshme për ju.",
        "OFFER_EXPIRED": "Kjo ofertë ka përfunduar.",
        "OFFER_ALREADY_ACTIVE": "E keni aktivizuar tashmë këtë ofertë.",
        "partner.unauthenticated": "Çelësi API mungon, është i panjohur ose i revokuar "
        "(dërgoni Authorization: Bearer <çelësi>).",
    },
}


# Kiosk tablets, the wheel and the prize catalogue (issue 10)
_CATALOGUE["en"].update(
    {
        "ENROLMENT_CODE_INVALID": "This enrolment code is not valid, already used or expired.",
        "VISIT_ENDED": "This visit has ended. Please start again.",
        "ALREADY_CHECKED_IN": "You have already checked in at this store today.",
        "NO_PLAYS_LEFT": "No plays left today. Come back tomorrow!",
        "PRIZE_NOT_FOUND": "There is no such prize here.",
        "OUT_OF_STOCK": "Sorry, this prize is out of stock.",
        "EXCHANGE_NOT_FOUND": "There is no such prize exchange.",
        "EXCHANGE_EXPIRED": "The exchange has expired. Please start it again.",
        "PICKUP_CODE_NOT_FOUND": "No prize waits for pickup with this code at this store.",
        "PRIZE_ALREADY_HANDED_OVER": "This prize has already been handed over.",
        "PRIZE_EXCHANGE_CANCELLED": "This prize exchange was cancelled.",
        "CANCEL_WINDOW_PASSED": "This exchange can no longer be cancelled.",
        "STAFF_PIN_INVALID": "The staff PIN is not correct.",
        "STAFF_PIN_NOT_SET": "No staff PIN is set for this store; ask the operator.",
        "kiosk.unauthenticated": "This tablet is not enrolled or its kiosk was revoked.",
        "sms.prize_exchange": "{code} confirms the exchange of {points} points for "
        "{prize} at {store}. Valid for {minutes} minutes. Do not share it.",
    }
)
_CATALOGUE["sq"].update(
    {
        "ENROLMENT_CODE_INVALID": "Ky kod regjistrimi nuk është i vlefshëm, është përdorur "
        "ose ka skaduar.",
        "VISIT_ENDED": "Kjo vizitë ka përfunduar. Ju lutem filloni përsëri.",
        "ALREADY_CHECKED_IN": "Jeni regjistruar tashmë sot në këtë dyqan.",
        "NO_PLAYS_LEFT": "Nuk ju kanë mbetur lojëra për sot. Ejani nesër!",
        "PRIZE_NOT_FOUND": "Ky çmim nuk ekziston këtu.",
        "OUT_OF_STOCK": "Na vjen keq, ky çmim ka mbaruar.",
        "EXCHANGE_NOT_FOUND": "Ky shkëmbim çmimi nuk ekziston.",
        "EXCHANGE_EXPIRED": "Shkëmbimi ka skaduar. Ju lutem filloni përsëri.",
        "PICKUP_CODE_NOT_FOUND": "Asnjë çmim nuk pret të merret me këtë kod në këtë dyqan.",
        "PRIZE_ALREADY_HANDED_OVER": "Ky çmim është dorëzuar tashmë.",
        "PRIZE_EXCHANGE_CANCELLED": "Ky shkëmbim çmimi është anuluar.",
        "CANCEL_WINDOW_PASSED": "Ky shkëmbim nuk mund të anulohet më.",
        "STAFF_PIN_INVALID": "PIN-i i stafit nuk është i saktë.",
        "STAFF_PIN_NOT_SET": "Ky dyqan nuk ka PIN stafi; pyesni operatorin.",
        "kiosk.unauthenticated": "Ky tablet nuk është regjistruar ose kioska është revokuar.",
        "sms.prize_exchange": "{code} konfirmon shkëmbimin e {points} pikëve për "
        "{prize} te {store}. Vlen për {minutes} minuta. Mos ia tregoni askujt.",
    }
)

# Fraud limits (issue 14, part fraud): what a till shows its cashier
_CATALOGUE["en"].update(
    {
        "LIMIT_EXCEEDED": "Refused: over {scope} on {kind} ({attempted}, at most "
        "{limit}). Nothing was recorded.",
        "LIMIT_WARNING": "Recorded, but over {scope} on {kind} ({value}, "
        "limit {limit}). The programme has been alerted.",
        "limit.scope.programme": "the programme's limit",
        "limit.scope.partner": "this partner's limit",
        "limit.scope.store": "this store's limit",
        "limit.points_per_receipt": "points per receipt",
        "limit.points_per_member_day": "points per member per day",
        "limit.points_per_cashier_day": "points per cashier per day",
        "limit.points_per_store_day": "points per store per day",
        "limit.redemptions_per_member_day": "vouchers redeemed per member per day",
        "limit.receipts_per_card_hour": "receipts per card per hour",
    }
)
_CATALOGUE["sq"].update(
    {
        "LIMIT_EXCEEDED": "Refuzuar: mbi {scope} për {kind} ({attempted}, "
        "më së shumti {limit}). Asgjë nuk u regjistrua.",
        "LIMIT_WARNING": "U regjistrua, por mbi {scope} për {kind} ({value}, "
        "kufiri {limit}). Programi është njoftuar.",
        "limit.scope.programme": "kufirin e programit",
        "limit.scope.partner": "kufirin e këtij partneri",
        "limit.scope.store": "kufirin e këtij dyqani",
        "limit.points_per_receipt": "pikë për faturë",
        "limit.points_per_member_day": "pikë për anëtar në ditë",
        "limit.points_per_cashier_day": "pikë për arkëtar në ditë",
        "limit.points_per_store_day": "pikë për dyqan në ditë",
        "limit.redemptions_per_member_day": "kupona të përdorur për anëtar në ditë",
        "limit.receipts_per_card_hour": "fatura për kartë në orë",
    }
)


def limit_message(
    code: str, language: str | None, kind: str, scope: str = "programme", **params: Any
) -> str:
    """A fraud limit's refusal or warning, the limit and whose it is ("programme",
    "partner", "store") named in ``language``."""
    return translate(
        code,
        language,
        kind=translate(f"limit.{kind}", language),
        scope=translate(f"limit.scope.{scope}", language),
        **params,
    )


# Confirmation of large redemptions and money across currencies (issue 14, redeem)
_CATALOGUE["en"].update(
    {
        "CONFIRMATION_REQUIRED": "This voucher needs the member's confirmation: ask for the "
        "code we sent them by SMS.",
        "CONFIRMATION_NOT_FOUND": "No confirmation is waiting for this voucher at this store. "
        "Redeem it again to send the member a code.",
        "EXCHANGE_RATE_MISSING": "No exchange rate for {currency} is set for {day}; "
        "the programme operator must set one.",
        "INVALID_RATE": "An exchange rate must be a positive number of units per 1 EUR "
        "with at most 6 decimals.",
        "sms.voucher_redemption": "{code} confirms using your {value} voucher at {store}. "
        "Valid for {minutes} minutes. Do not share it.",
    }
)
_CATALOGUE["sq"].update(
    {
        "CONFIRMATION_REQUIRED": "Ky kupon kërkon konfirmimin e anëtarit: kërkojini kodin "
        "që i dërguam me SMS.",
        "CONFIRMATION_NOT_FOUND": "Asnjë konfirmim nuk pret për këtë kupon në këtë dyqan. "
        "Përdoreni kuponin përsëri që anëtarit t'i dërgohet një kod.",
        "EXCHANGE_RATE_MISSING": "Nuk ka kurs këmbimi për {currency} për datën {day}; "
        "operatori i programit duhet ta vendosë.",
        "INVALID_RATE": "Kursi i këmbimit duhet të jetë numër pozitiv njësish për 1 EUR "
        "me jo më shumë se 6 shifra dhjetore.",
        "sms.voucher_redemption": "{code} konfirmon përdorimin e kuponit tuaj {value} te "
        "{store}. Vlen për {minutes} minuta. Mos ia tregoni askujt.",
    }
)


# Operator's toolbox: plastic cards, member blocks (issue 14, toolbox)
_CATALOGUE["en"].update(
    {
        "CARD_ALREADY_LINKED": "This card is already linked to a member.",
        "CARD_CLOSED": "This card has been closed and cannot be used.",
        "MEMBER_BLOCKED": "This account is blocked: points cannot be earned or spent. "
        "Please contact customer support.",
        "sms.card_link": "{code} links card {card} to your Happy account at {store}. "
        "Valid for {minutes} minutes. Do not share it.",
    }
)
_CATALOGUE["sq"].update(
    {
        "CARD_ALREADY_LINKED": "Kjo kartë është lidhur tashmë me një anëtar.",
        "CARD_CLOSED": "Kjo kartë është mbyllur dhe nuk mund të përdoret.",
        "MEMBER_BLOCKED": "Kjo llogari është bllokuar: pikët nuk mund të fitohen ose "
        "shpenzohen. Ju lutem kontaktoni shërbimin e klientit.",
        "sms.card_link": "{code} lidh kartën {card} me llogarinë tuaj Happy te {store}. "
        "Vlen për {minutes} minuta. Mos ia tregoni askujt.",
    }
)


def normalise_language(value: str | None) -> str:
    """Map an Accept-Language header or stored preference to a supported language."""
    if not value:
        return DEFAULT_LANGUAGE
    for part in value.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def translate(key: str, language: str | None = None, **params: Any) -> str:
    """The text for ``key`` in ``language`` with ``params`` filled in."""
    # No preference: the programme language. A language without a catalogue (sr, mk,
    # ru for now): English, which those members read more often than Albanian.
    catalogue = _CATALOGUE.get(language or DEFAULT_LANGUAGE, _CATALOGUE["en"])
    template = catalogue.get(key) or _CATALOGUE["en"].get(key) or key
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


class Language(StrEnum):
    SQ = "sq"
    EN = "en"
    SR = "sr"
    MK = "mk"
    RU = "ru"
