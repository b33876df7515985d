// The microsite: screens, routing (#card, #profile, ...), language, session.

import { forgetSession, isSignedIn, logout, onSignedOut, refreshSession } from "./api.js";
import { forgetCard, loadCard, paintCard, setupCard, setWelcome } from "./card.js";
import { $, busy, say, show } from "./dom.js";
import { LANGUAGES, language, rememberLanguage, savedLanguage, setLanguage, t } from "./i18n.js";
import { forgetProfile, loadProfile, paintProfile, setupProfile } from "./profile.js";
import { paintSignIn, setupSignIn } from "./signin.js";
import { forgetOffers, loadOffers, paintOffers, setupOffers } from "./offers.js";
import { forgetRewards, loadRewards, paintRewards, setupRewards } from "./rewards.js";
import { forgetReceipts, loadReceipt, loadReceipts, paintReceipts, setupReceipts } from "./receipts.js";

const SCREENS = ["loading", "phone", "code", "card", "offers", "rewards", "receipts", "receipt", "profile"];
const MEMBER_ROUTES = {
  card: loadCard,
  profile: loadProfile,
  offers: loadOffers,
  rewards: loadRewards,
  receipts: loadReceipts,
};

let currentScreen = "loading";
// The first screen after loading the page keeps the browser's own focus (top of the page,
// so Tab reaches the skip link first); later screen changes move focus to their heading.
let moveFocus = false;

function showScreen(name, { focus = true } = {}) {
  currentScreen = name;
  for (const screen of SCREENS) show($(`#screen-${screen}`), screen === name);
  for (const link of document.querySelectorAll("#tabs a")) {
    if (link.dataset.route === name || (name === "receipt" && link.dataset.route === "receipts")) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  }
  const signedIn = isSignedIn();
  show($("#tabs"), signedIn);
  show($("#logout"), signedIn);
  if (focus && moveFocus) {
    const heading = $(`#screen-${name} h1`);
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }
}

function notice(message) {
  say($("#notice"), message);
}

/**
 * Put every static text in the chosen language; redraw the screens that hold data.
 * A choice the member made (`remember`) is kept on this device for the next visit.
 */
function applyLanguage(lang, { remember = false } = {}) {
  setLanguage(lang);
  if (remember) rememberLanguage(language());
  document.documentElement.lang = language();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  for (const button of document.querySelectorAll(".lang")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language()));
  }
  document.title = t("app.title");
  // The terms and privacy pages open in the same language.
  for (const link of document.querySelectorAll("a[data-legal]")) {
    link.href = `/${link.dataset.legal}?lang=${language()}`;
  }
  // The address carries the choice too (?lang=en): a shared link opens in that language.
  const url = new URL(location.href);
  if (url.searchParams.get("lang") !== language()) {
    url.searchParams.set("lang", language());
    history.replaceState(history.state, "", url);
  }
  paintSignIn();
  paintCard();
  paintProfile();
  paintRewards();
  paintReceipts();
  paintOffers();
}

async function route() {
  const [name, id] = location.hash.replace(/^#/, "").split("/");
  if (!isSignedIn()) {
    if (currentScreen !== "code") showScreen("phone");
    return;
  }
  if (name === "receipt" && id) {
    showScreen("receipt");
    await loadReceipt(decodeURIComponent(id));
    return;
  }
  const target = MEMBER_ROUTES[name] ? name : "card";
  showScreen(target);
  await MEMBER_ROUTES[target]();
}

function signedIn(session) {
  notice("");
  setWelcome(Boolean(session.isNewMember));
  if (location.hash === "#card" || location.hash === "") {
    route();
  } else {
    location.hash = "#card";
  }
}

function signedOutLocally(message) {
  forgetSession();
  forgetCard();
  forgetProfile();
  forgetRewards();
  forgetReceipts();
  forgetOffers();
  showScreen("phone");
  notice(message);
  history.replaceState(null, "", location.pathname + location.search);
}

async function start() {
  // The language asked for in the address, else the one chosen on this device before.
  const inAddress = new URLSearchParams(location.search).get("lang");
  const asked = LANGUAGES.includes(inAddress) ? inAddress : savedLanguage();
  applyLanguage(asked ?? "sq", { remember: Boolean(asked) });
  for (const button of document.querySelectorAll(".lang")) {
    button.addEventListener("click", () => applyLanguage(button.dataset.lang, { remember: true }));
  }
  setupSignIn({ onSignedIn: signedIn, showScreen });
  setupCard();
  setupRewards();
  setupReceipts();
  setupOffers();
  setupProfile({
    onLanguageChosen: (lang) => {
      if (LANGUAGES.includes(lang)) applyLanguage(lang, { remember: true });
    },
    onDeleted: () => {
      $("#phone").value = "";
      signedOutLocally(t("delete.done"));
    },
  });
  const logoutButton = $("#logout");
  logoutButton.addEventListener("click", async () => {
    try {
      await busy(logoutButton, logout);
    } catch {
      // Signing out locally is what matters; the server session expires on its own.
    }
    signedOutLocally(t("signedOut"));
  });
  onSignedOut((message) => signedOutLocally(message));
  window.addEventListener("hashchange", () => route());
  // Back on the tab after a while: fresh balance, and fresh short-lived wallet links.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && isSignedIn() && currentScreen === "card") {
      loadCard();
    }
  });
  // The skip link jumps to the content without touching the address (#card, ... are routes).
  $(".skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    $("#main").focus();
  });

  // Restore the session from the refresh cookie (if any) and adopt the member's profile
  // language, unless a language was asked for or chosen on this device.
  try {
    const session = await refreshSession();
    if (!asked) applyLanguage(session.member.language.toLowerCase());
  } catch {
    // Not signed in (or the cookie is gone): start at the phone number.
  }
  show($("#screen-loading"), false);
  await route();
  moveFocus = true;
}

start();
