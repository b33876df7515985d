// The tablet's texts in Albanian (default) and English. Error messages come from the
// server already in the chosen language (Accept-Language).

const TEXTS = {
  sq: {
    "app.title": "Happy – kioska",
    "lang.label": "Gjuha",
    loading: "Një moment…",
    back: "Kthehu",
    done: "Në rregull",
    "enrol.title": "Regjistro këtë tablet",
    "enrol.help": "Shkruani kodin njëpërdorimësh që dha operatori.",
    "enrol.code": "Kodi i regjistrimit",
    "enrol.name": "Emri i tabletit",
    "enrol.submit": "Regjistro",
    "start.title": "Mirë se vini në Happy!",
    "start.lead": "Regjistrohuni, rrotulloni rrotën dhe merrni çmime.",
    "start.scan": "Skano kartën",
    "start.phone": "Përdor numrin e telefonit",
    "scan.title": "Skano kodin QR të kartës",
    "scan.help": "Mbani kodin QR para kamerës ose shkruani numrin e kartës.",
    "scan.typed": "Numri i kartës ose kodi",
    "scan.submit": "Vazhdo",
    "phone.title": "Numri juaj i telefonit",
    "phone.label": "Numri i celularit",
    "phone.send": "Dërgo kodin",
    "code.label": "Kodi 6-shifror nga SMS",
    "code.submit": "Konfirmo",
    "code.sent": "Ju dërguam një kod me SMS.",
    "home.hello": "Përshëndetje!",
    "home.helloName": "Përshëndetje, {name}!",
    "home.welcome": "Mirë se erdhët në Happy! Morët {points} pikë bonus.",
    "home.balance": "Pikët tuaja",
    "home.checkIn": "Check-in",
    "home.checkedIn": "Check-in u bë sot ✓",
    "home.checkInDone": "Faleminderit! +{points} pikë.",
    "home.spin": "Rrotullo rrotën ({plays})",
    "home.noPlays": "Asnjë lojë sot",
    "home.prizes": "Çmimet",
    "home.end": "Mbaro",
    "wheel.title": "Rrota e çmimeve",
    "wheel.spin": "Rrotullo! ({plays})",
    "wheel.won.points": "Fituat {points} pikë!",
    "wheel.won.voucher": "Fituat një kupon: {label}! E gjeni në aplikacion.",
    "wheel.won.goods": "Fituat: {label}! Kodi për ta marrë: {code}",
    "wheel.won.nothing": "Jo këtë herë. Provoni përsëri!",
    "prizes.title": "Shkëmbeni pikët për çmime",
    "prizes.points": "{points} pikë",
    "prizes.out": "Ka mbaruar",
    "prizes.short": "Ju duhen edhe {points} pikë",
    "prizes.exchange": "Shkëmbe",
    "exchange.title": "{prize} për {points} pikë",
    "exchange.sent": "Ju dërguam një kod me SMS për të konfirmuar.",
    "exchange.confirm": "Konfirmo shkëmbimin",
    "pickup.title": "Çmimi juaj ju pret!",
    "pickup.help": "Tregojini stafit këtë kod:",
    "error.network": "Nuk ka lidhje. Provoni përsëri.",
  },
  en: {
    "app.title": "Happy – kiosk",
    "lang.label": "Language",
    loading: "One moment…",
    back: "Back",
    done: "Done",
    "enrol.title": "Enrol this tablet",
    "enrol.help": "Type the one-time code the operator gave you.",
    "enrol.code": "Enrolment code",
    "enrol.name": "Tablet name",
    "enrol.submit": "Enrol",
    "start.title": "Welcome to Happy!",
    "start.lead": "Check in, spin the wheel and win prizes.",
    "start.scan": "Scan your card",
    "start.phone": "Use your phone number",
    "scan.title": "Scan your card's QR code",
    "scan.help": "Hold the QR code in front of the camera or type the card number.",
    "scan.typed": "Card number or code",
    "scan.submit": "Continue",
    "phone.title": "Your phone number",
    "phone.label": "Mobile number",
    "phone.send": "Send code",
    "code.label": "6-digit code from the SMS",
    "code.submit": "Confirm",
    "code.sent": "We sent you a code by SMS.",
    "home.hello": "Hello!",
    "home.helloName": "Hello, {name}!",
    "home.welcome": "Welcome to Happy! You got {points} bonus points.",
    "home.balance": "Your points",
    "home.checkIn": "Check in",
    "home.checkedIn": "Checked in today ✓",
    "home.checkInDone": "Thank you! +{points} points.",
    "home.spin": "Spin the wheel ({plays})",
    "home.noPlays": "No plays left today",
    "home.prizes": "Prizes",
    "home.end": "Finish",
    "wheel.title": "Prize wheel",
    "wheel.spin": "Spin! ({plays})",
    "wheel.won.points": "You won {points} points!",
    "wheel.won.voucher": "You won a voucher: {label}! It is in your app.",
    "wheel.won.goods": "You won: {label}! Pickup code: {code}",
    "wheel.won.nothing": "Not this time. Try again!",
    "prizes.title": "Exchange points for prizes",
    "prizes.points": "{points} points",
    "prizes.out": "Out of stock",
    "prizes.short": "{points} more points needed",
    "prizes.exchange": "Exchange",
    "exchange.title": "{prize} for {points} points",
    "exchange.sent": "We sent you a code by SMS to confirm.",
    "exchange.confirm": "Confirm exchange",
    "pickup.title": "Your prize is waiting!",
    "pickup.help": "Show this code to the staff:",
    "error.network": "No connection. Please try again.",
  },
};

let current = "sq";

export function language() {
  return current;
}

export function setLanguage(lang) {
  current = TEXTS[lang] ? lang : "sq";
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const button of document.querySelectorAll(".lang")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === current));
  }
}

export function t(key, params = {}) {
  const template = TEXTS[current][key] ?? TEXTS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

export function formatPoints(points) {
  return new Intl.NumberFormat(current === "sq" ? "sq-AL" : "en-GB").format(points);
}
