// UI texts in Albanian (the default) and English. Error messages come from the API,
// already in the language asked for with Accept-Language.

export const LANGUAGES = ["sq", "en"];

const TEXTS = {
  sq: {
    "app.title": "Happy – karta juaj e besnikërisë",
    "lang.label": "Gjuha",
    "nav.label": "Menuja kryesore",
    "nav.card": "Karta",
    "nav.rewards": "Shpërblimet",
    "nav.receipts": "Blerjet",
    "nav.profile": "Profili",
    "logout": "Dil",
    "skip": "Kalo te përmbajtja",
    "loading": "Duke u ngarkuar…",
    "busy": "Një moment…",
    "error.network": "Nuk u lidhëm dot me Happy. Kontrolloni internetin dhe provoni përsëri.",
    "error.generic": "Diçka shkoi keq. Provoni përsëri pak më vonë.",
    "phone.title": "Mirë se vini në Happy",
    "phone.lead":
      "Një kartë, pikë në të gjithë partnerët: Neptun, Spar, Jumbo, Smart Point, Fashion Group dhe të tjerë. Regjistrohuni online dhe merrni kartën dixhitale me pikë mirëseardhjeje.",
    "phone.label": "Numri i celularit",
    "phone.hint":
      "Numër celulari nga Shqipëria, Kosova, Maqedonia e Veriut ose Mali i Zi. Do t'ju dërgojmë një kod me 6 shifra me SMS.",
    "phone.submit": "Dërgo kodin",
    "phone.terms.accept": "Duke vazhduar pranoni",
    "phone.terms.rules": "rregullat e programit Happy",
    "phone.terms.and": "dhe",
    "phone.terms.privacy": "njoftimin e privatësisë",
    "phone.terms.data": "Të dhënat tuaja i shkarkoni ose i fshini kur të doni.",
    "code.title": "Shkruani kodin",
    "code.sent": "Kodin me 6 shifra e dërguam me SMS te {phone}.",
    "code.label": "Kodi nga SMS",
    "code.submit": "Konfirmo",
    "code.resend": "Dërgo kodin përsëri",
    "code.resendIn": "Dërgo përsëri pas {seconds} s",
    "code.resent": "Ju dërguam një kod të ri.",
    "code.change": "Ndrysho numrin",
    "code.invalidFormat": "Kodi ka 6 shifra.",
    "card.hello": "Përshëndetje, {name}!",
    "card.helloAnon": "Përshëndetje!",
    "card.welcome": "Mirë se erdhët! Karta juaj është gati.",
    "card.label": "Karta dixhitale Happy",
    "card.number": "Numri i kartës",
    "card.member": "Anëtar",
    "card.qrAlt": "Kodi QR i kartës {number}",
    "card.showAtTill": "Tregojeni këtë kod në arkë për të fituar pikë.",
    "wallet.apple": "Shto në Apple Wallet",
    "wallet.google": "Ruaj në Google Wallet",
    "balance.title": "Pikët tuaja",
    "balance.points": "pikë",
    "balance.available": "Të disponueshme",
    "balance.pending": "Në pritje",
    "balance.lifetime": "Gjithsej të fituara",
    "progress.title": "Niveli i ardhshëm i shpërblimit",
    "progress.toGo": "Edhe {points} pikë deri te {vouchers} kupona me vlerë {value}.",
    "progress.reached": "Keni pikë të mjaftueshme për {vouchers} kupona me vlerë {value}!",
    "progress.none": "Nivelet e shpërblimeve do të shfaqen këtu.",
    "activity.title": "Lëvizjet e pikëve",
    "activity.empty": "Ende asnjë lëvizje.",
    "activity.more": "Shfaq më shumë",
    "kind.WELCOME_BONUS": "Bonus mirëseardhjeje",
    "kind.EARN": "Pikë nga blerja",
    "kind.OFFER_BONUS": "Bonus oferte",
    "kind.CHECK_IN": "Bonus check-in",
    "kind.GAME_PRIZE": "Çmim loje",
    "kind.REWARD_CLAIM": "Shpërblim i marrë",
    "kind.PRIZE_EXCHANGE": "Këmbim çmimi",
    "kind.EXPIRY": "Pikë të skaduara",
    "kind.REVERSAL": "Kthim malli: pikë të marra mbrapsht",
    "kind.ADJUSTMENT": "Rregullim",
    "rewards.title": "Shpërblimet",
    "rewards.lead": "Këmbeni pikët me kupona që vlejnë te çdo partner Happy.",
    "rewards.level": "{points} pikë",
    "rewards.gives": "{vouchers} kupona · {value} gjithsej",
    "rewards.claim": "Merr shpërblimin",
    "rewards.claimed": "Urime! Kuponat tuaj janë gati.",
    "rewards.missing": "Ju mungojnë {points} pikë",
    "rewards.confirm": "Të përdoren {points} pikë për {vouchers} kupona?",
    "vouchers.title": "Kuponat e mi",
    "vouchers.empty": "Nuk keni kupona aktivë.",
    "vouchers.emptyUsed": "Nuk keni përdorur ende kupona.",
    "vouchers.emptyExpired": "Nuk keni kupona të skaduar.",
    "vouchers.more": "Shfaq më shumë",
    "vouchers.filter.ACTIVE": "Aktivë",
    "vouchers.usedOn": "Përdorur më {date}",
    "vouchers.filter.USED": "Të përdorur",
    "vouchers.filter.EXPIRED": "Të skaduar",
    "vouchers.code": "Kodi",
    "vouchers.expires": "Vlen deri më {date}",
    "vouchers.qrAlt": "Kodi QR i kuponit {code}",
    "vouchers.ACTIVE": "Aktiv",
    "vouchers.USED": "I përdorur",
    "vouchers.EXPIRED": "I skaduar",
    "receipts.title": "Blerjet e mia",
    "receipts.empty": "Ende asnjë blerje. Tregoni kartën në arkë te partnerët Happy.",
    "receipts.more": "Shfaq më shumë",
    "receipts.points": "+{points} pikë",
    "receipts.back": "Kthehu te blerjet",
    "receipts.items": "Artikujt",
    "receipts.total": "Totali",
    "receipts.earned": "Pikë të fituara",
    "receipts.bonus": "Bonuse",
    "receipts.notFound": "Kjo blerje nuk u gjet.",
    "receipts.breakdown": "Si u llogaritën pikët",
    "breakdown.BASE": "Norma bazë",
    "breakdown.BRAND": "Bonus marke {rule} ({percent}%)",
    "breakdown.CATEGORY": "Bonus kategorie {rule} ({percent}%)",
    "breakdown.EXCLUDED": "Pa pikë: {rule}",
    "balance.expiring": "{points} pikë skadojnë më {date}.",
    "claim.title": "Të merret shpërblimi?",
    "claim.confirm": "Po, merre",
    "progress.claimNow": "Merr shpërblimin tani",
    "profile.title": "Profili im",
    "profile.phone": "Numri i celularit",
    "profile.firstName": "Emri",
    "profile.lastName": "Mbiemri",
    "profile.birthDate": "Datëlindja",
    "profile.gender": "Gjinia",
    "profile.gender.UNDISCLOSED": "Nuk dua ta them",
    "profile.gender.FEMALE": "Femër",
    "profile.gender.MALE": "Mashkull",
    "profile.gender.OTHER": "Tjetër",
    "profile.city": "Qyteti",
    "profile.email": "Email",
    "profile.language": "Gjuha e mesazheve",
    "profile.save": "Ruaj ndryshimet",
    "profile.saved": "Profili u ruajt.",
    "consents.title": "Njoftimet për oferta",
    "consents.lead": "Zgjidhni si doni të merrni oferta dhe lajme. Mund ta ndryshoni kur të doni.",
    "consents.SMS": "SMS",
    "consents.VIBER": "Viber",
    "consents.EMAIL": "Email",
    "consents.PUSH": "Njoftime në aplikacion",
    "consents.saved": "Zgjedhja u ruajt.",
    "privacy.title": "Të dhënat e mia",
    "privacy.lead":
      "Shkarkoni të gjitha të dhënat që Happy mban për ju, ose fshini llogarinë. Pikët e mbetura humbasin kur fshihet llogaria.",
    "privacy.download": "Shkarko të dhënat e mia",
    "privacy.downloaded": "Skedari me të dhënat tuaja u shkarkua.",
    "privacy.delete": "Fshi llogarinë",
    "delete.title": "Të fshihet llogaria?",
    "delete.text":
      "Të dhënat tuaja personale do të fshihen dhe {points} pikët tuaja do të humbasin. Ky veprim nuk kthehet pas.",
    "delete.confirm": "Po, fshi llogarinë",
    "delete.cancel": "Anulo",
    "delete.done": "Llogaria juaj u fshi. Faleminderit që ishit me Happy.",
    "signedOut": "Dolët nga llogaria.",
    "sessionEnded": "Seanca juaj ka përfunduar. Ju lutem hyni përsëri.",
    "footer.runBy": "Programi Happy drejtohet nga",
    "footer.contact": "Kontakt",
    "footer.terms": "Rregullat e programit",
    "footer.privacy": "Privatësia",
    "profile.birthDateHint": "Dita, muaji dhe viti, p.sh. 23 11 1990",
    "profile.birthDateInvalid": "Shkruani një datë të vërtetë: dita, muaji dhe viti me 4 shifra, p.sh. 23 11 1990.",
    "date.day": "Dita",
    "date.month": "Muaji",
    "date.year": "Viti",
    "activity.openReceipt": "Shiko blerjen",
    "receipts.returned": "Kthyer",
    "receipts.returnedAmount": "Kthyer {amount}",
    "receipts.takenBack": "Pikë të marra mbrapsht",
    "receipts.afterReturn": "Pas kthimit",
    "nav.offers": "Ofertat",
    "offers.title": "Ofertat për ju",
    "offers.lead": "Ofertat e partnerëve Happy për ju tani. Disa duhen aktivizuar përpara blerjes.",
    "offers.empty": "Tani nuk ka oferta për ju. Kthehuni së shpejti!",
    "offers.more": "Shfaq më shumë",
    "offers.activate": "Aktivizo ofertën",
    "offers.activated": "Oferta u aktivizua. Blini te partneri dhe pikët vijnë vetë.",
    "offers.active": "Aktive",
    "offers.needsActivation": "Duhet aktivizuar",
    "offers.automatic": "Automatike",
    "offers.where": "Ku",
    "offers.until": "Deri më",
    "offers.usesLeft": "Përdorime të mbetura",
    "offers.everywhere": "Te të gjithë partnerët Happy",
    "offers.fundedBy": "Ofertë nga {partner}",
    "offers.progress": "Shpenzoni {target}: deri tani {current}",
    "offers.gives.multiplier": "Pikë ×{times}",
    "offers.gives.points": "{points} pikë bonus për çdo blerje",
    "offers.gives.SPEND_GET": "{points} pikë bonus për një blerje të madhe",
    "offers.gives.AGGREGATE_SPEND": "{points} pikë bonus kur blerjet arrijnë {spend}",
    "card.tier": "Niveli",
    "card.tierNext": "Edhe {points} pikë deri te {tier}.",
    "breakdown.OFFER": "Ofertë: {title}",
    "breakdown.TIER": "Bonus {title} ({percent}%)",
  },
  en: {
    "app.title": "Happy – your loyalty card",
    "lang.label": "Language",
    "nav.label": "Main menu",
    "nav.card": "Card",
    "nav.rewards": "Rewards",
    "nav.receipts": "Receipts",
    "nav.profile": "Profile",
    "logout": "Log out",
    "skip": "Skip to content",
    "loading": "Loading…",
    "busy": "One moment…",
    "error.network": "We could not reach Happy. Check your connection and try again.",
    "error.generic": "Something went wrong. Please try again later.",
    "phone.title": "Welcome to Happy",
    "phone.lead":
      "One card, points at every partner: Neptun, Spar, Jumbo, Smart Point, Fashion Group and more. Register online to get your digital card and welcome points.",
    "phone.label": "Mobile number",
    "phone.hint":
      "A mobile number from Albania, Kosovo, North Macedonia or Montenegro. We will send you a 6-digit code by SMS.",
    "phone.submit": "Send code",
    "phone.terms.accept": "By continuing you accept the",
    "phone.terms.rules": "Happy programme rules",
    "phone.terms.and": "and the",
    "phone.terms.privacy": "privacy notice",
    "phone.terms.data": "You can download or delete your data at any time.",
    "code.title": "Enter the code",
    "code.sent": "We sent a 6-digit code by SMS to {phone}.",
    "code.label": "Code from the SMS",
    "code.submit": "Confirm",
    "code.resend": "Send the code again",
    "code.resendIn": "Send again in {seconds} s",
    "code.resent": "We sent you a new code.",
    "code.change": "Change number",
    "code.invalidFormat": "The code has 6 digits.",
    "card.hello": "Hello, {name}!",
    "card.helloAnon": "Hello!",
    "card.welcome": "Welcome! Your card is ready.",
    "card.label": "Happy digital card",
    "card.number": "Card number",
    "card.member": "Member",
    "card.qrAlt": "QR code of card {number}",
    "card.showAtTill": "Show this code at the till to earn points.",
    "wallet.apple": "Add to Apple Wallet",
    "wallet.google": "Save to Google Wallet",
    "balance.title": "Your points",
    "balance.points": "points",
    "balance.available": "Available",
    "balance.pending": "Pending",
    "balance.lifetime": "Earned in total",
    "progress.title": "Next reward level",
    "progress.toGo": "{points} more points to {vouchers} vouchers worth {value}.",
    "progress.reached": "You have enough points for {vouchers} vouchers worth {value}!",
    "progress.none": "Reward levels will appear here.",
    "activity.title": "Points activity",
    "activity.empty": "No activity yet.",
    "activity.more": "Show more",
    "kind.WELCOME_BONUS": "Welcome bonus",
    "kind.EARN": "Points from a purchase",
    "kind.OFFER_BONUS": "Offer bonus",
    "kind.CHECK_IN": "Check-in bonus",
    "kind.GAME_PRIZE": "Game prize",
    "kind.REWARD_CLAIM": "Reward claimed",
    "kind.PRIZE_EXCHANGE": "Prize exchange",
    "kind.EXPIRY": "Points expired",
    "kind.REVERSAL": "Return: points taken back",
    "kind.ADJUSTMENT": "Adjustment",
    "rewards.title": "Rewards",
    "rewards.lead": "Turn your points into vouchers you can use at any Happy partner.",
    "rewards.level": "{points} points",
    "rewards.gives": "{vouchers} vouchers · {value} in total",
    "rewards.claim": "Claim reward",
    "rewards.claimed": "Congratulations! Your vouchers are ready.",
    "rewards.missing": "{points} points to go",
    "rewards.confirm": "Use {points} points for {vouchers} vouchers?",
    "vouchers.title": "My vouchers",
    "vouchers.empty": "You have no active vouchers.",
    "vouchers.emptyUsed": "You have not used any vouchers yet.",
    "vouchers.emptyExpired": "You have no expired vouchers.",
    "vouchers.more": "Show more",
    "vouchers.filter.ACTIVE": "Active",
    "vouchers.usedOn": "Used on {date}",
    "vouchers.filter.USED": "Used",
    "vouchers.filter.EXPIRED": "Expired",
    "vouchers.code": "Code",
    "vouchers.expires": "Valid until {date}",
    "vouchers.qrAlt": "QR code of voucher {code}",
    "vouchers.ACTIVE": "Active",
    "vouchers.USED": "Used",
    "vouchers.EXPIRED": "Expired",
    "receipts.title": "Receipts",
    "receipts.empty": "No purchases yet. Show your card at the till of any Happy partner.",
    "receipts.more": "Show more",
    "receipts.points": "+{points} points",
    "receipts.back": "Back to receipts",
    "receipts.items": "Items",
    "receipts.total": "Total",
    "receipts.earned": "Points earned",
    "receipts.bonus": "Bonuses",
    "receipts.notFound": "This receipt was not found.",
    "receipts.breakdown": "How the points were counted",
    "breakdown.BASE": "Base rate",
    "breakdown.BRAND": "Brand bonus {rule} ({percent}%)",
    "breakdown.CATEGORY": "Category bonus {rule} ({percent}%)",
    "breakdown.EXCLUDED": "No points: {rule}",
    "balance.expiring": "{points} points expire on {date}.",
    "claim.title": "Claim this reward?",
    "claim.confirm": "Yes, claim it",
    "progress.claimNow": "Claim your reward now",
    "profile.title": "My profile",
    "profile.phone": "Mobile number",
    "profile.firstName": "First name",
    "profile.lastName": "Last name",
    "profile.birthDate": "Date of birth",
    "profile.gender": "Gender",
    "profile.gender.UNDISCLOSED": "Prefer not to say",
    "profile.gender.FEMALE": "Female",
    "profile.gender.MALE": "Male",
    "profile.gender.OTHER": "Other",
    "profile.city": "City",
    "profile.email": "Email",
    "profile.language": "Language of messages",
    "profile.save": "Save changes",
    "profile.saved": "Profile saved.",
    "consents.title": "Offers and news",
    "consents.lead": "Choose how you want to hear about offers. You can change this at any time.",
    "consents.SMS": "SMS",
    "consents.VIBER": "Viber",
    "consents.EMAIL": "Email",
    "consents.PUSH": "App notifications",
    "consents.saved": "Choice saved.",
    "privacy.title": "My data",
    "privacy.lead":
      "Download all the data Happy keeps about you, or delete your account. Remaining points are lost when the account is deleted.",
    "privacy.download": "Download my data",
    "privacy.downloaded": "The file with your data has been downloaded.",
    "privacy.delete": "Delete account",
    "delete.title": "Delete your account?",
    "delete.text":
      "Your personal data will be erased and your {points} points will be lost. This cannot be undone.",
    "delete.confirm": "Yes, delete my account",
    "delete.cancel": "Cancel",
    "delete.done": "Your account has been deleted. Thank you for being with Happy.",
    "signedOut": "You are signed out.",
    "sessionEnded": "Your session has ended. Please sign in again.",
    "footer.runBy": "The Happy programme is run by",
    "footer.contact": "Contact",
    "footer.terms": "Programme rules",
    "footer.privacy": "Privacy",
    "profile.birthDateHint": "Day, month and year, for example 23 11 1990",
    "profile.birthDateInvalid": "Enter a real date: day, month and a 4-digit year, for example 23 11 1990.",
    "date.day": "Day",
    "date.month": "Month",
    "date.year": "Year",
    "activity.openReceipt": "See the purchase",
    "receipts.returned": "Returned",
    "receipts.returnedAmount": "Returned {amount}",
    "receipts.takenBack": "Points taken back",
    "receipts.afterReturn": "After the return",
    "nav.offers": "Offers",
    "offers.title": "Offers for you",
    "offers.lead": "Offers from Happy partners for you now. Some need activating before you shop.",
    "offers.empty": "No offers for you right now. Come back soon!",
    "offers.more": "Show more",
    "offers.activate": "Activate offer",
    "offers.activated": "Offer activated. Shop at the partner and the points come by themselves.",
    "offers.active": "Active",
    "offers.needsActivation": "Needs activating",
    "offers.automatic": "Automatic",
    "offers.where": "Where",
    "offers.until": "Until",
    "offers.usesLeft": "Uses left",
    "offers.everywhere": "At every Happy partner",
    "offers.fundedBy": "Offer from {partner}",
    "offers.progress": "Spend {target}: {current} so far",
    "offers.gives.multiplier": "×{times} points",
    "offers.gives.points": "{points} bonus points on every purchase",
    "offers.gives.SPEND_GET": "{points} bonus points for one big purchase",
    "offers.gives.AGGREGATE_SPEND": "{points} bonus points when your purchases reach {spend}",
    "card.tier": "Tier",
    "card.tierNext": "{points} more points to {tier}.",
    "breakdown.OFFER": "Offer: {title}",
    "breakdown.TIER": "{title} bonus ({percent}%)",
  },
};

let current = "sq";

// The member's language choice on this device, kept across reloads: the one thing the
// page puts in browser storage (never a token). Storage may be blocked: then the choice
// lives only in the address (?lang=).
const LANGUAGE_KEY = "happy.lang";

export function savedLanguage() {
  try {
    const saved = localStorage.getItem(LANGUAGE_KEY);
    return LANGUAGES.includes(saved) ? saved : null;
  } catch {
    return null;
  }
}

export function rememberLanguage(lang) {
  try {
    localStorage.setItem(LANGUAGE_KEY, lang);
  } catch {
    // Private mode or storage turned off: the address still carries ?lang=.
  }
}

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : "sq";
}

/** The text for key in the current language, with {name} placeholders filled in. */
export function t(key, params = {}) {
  const template = TEXTS[current][key] ?? TEXTS.sq[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

// Browsers without Albanian locale data (Debian's Chromium among them) would fall back to
// English formats, so Albanian numbers, money and dates are formatted here: 12 345,50 €,
// 23.11.2026, 19:45 (CLDR's Albanian separators, the numeric date Albanians write).
const SYMBOLS = { EUR: "€", ALL: "Lekë", MKD: "den" };

function albanianNumber(value, digits = 0) {
  const [whole, fraction] = Math.abs(value).toFixed(digits).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
  return (value < 0 ? "−" : "") + grouped + (fraction ? `,${fraction}` : "");
}

export function formatNumber(value) {
  return current === "sq" ? albanianNumber(value) : new Intl.NumberFormat("en-GB").format(value);
}

/** Integer minor units + ISO currency, e.g. {amount: 400, currency: "EUR"} -> "4,00 €". */
export function formatMoney(amount, currency) {
  const digits = 2; // ISO 4217 minor units of ALL, EUR and MKD
  const value = amount / 10 ** digits;
  if (current === "sq") return `${albanianNumber(value, digits)}\u00a0${SYMBOLS[currency] ?? currency}`;
  return new Intl.NumberFormat("en-GB", {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

const pad = (n) => String(n).padStart(2, "0");

export function formatDate(iso) {
  const d = new Date(iso);
  if (current === "sq") return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()}`;
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium" }).format(d);
}

export function formatDateTime(iso) {
  const d = new Date(iso);
  if (current === "sq") return `${formatDate(iso)}, ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short" }).format(d);
}
