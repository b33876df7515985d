// The kiosk tablet: enrolment, start, identification (card scan or phone + SMS code),
// member home (check-in, wheel, prizes), prize exchange with the SMS code, pickup code.
// After IDLE seconds without a touch the visit ends and the start screen returns.

import { ApiError, gql, mutate, Q } from "./api.js";
import { formatPoints, setLanguage, t } from "./i18n.js";
import { drawWheel, spinTo } from "./wheel.js";

const $ = (selector) => document.querySelector(selector);
const SCREENS = ["loading", "enrol", "start", "scan", "phone", "home", "wheel", "prizes", "exchange", "pickup"];
const DEFAULT_IDLE_SECONDS = 60;

const state = {
  visit: null, // {session, firstName, balance, checkedInToday, playsLeft, isNewMember}
  idleSeconds: DEFAULT_IDLE_SECONDS,
  idleTimer: null,
  phone: "",
  wheel: [],
  exchange: null,
  camera: null,
};

// --- screens and messages -------------------------------------------------------------

function show(name) {
  for (const screen of SCREENS) $(`#screen-${screen}`).hidden = screen !== name;
  document.body.dataset.screen = name;
  say("");
  if (name !== "scan") stopCamera();
  const heading = $(`#screen-${name} h1`);
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function say(message) {
  const el = $("#error");
  el.textContent = message ?? "";
  el.hidden = !message;
}

async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (error) {
    failed(error);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function failed(error) {
  if (error instanceof ApiError && error.code === "VISIT_ENDED") {
    endVisit(false);
    say(error.message);
    return;
  }
  if (error instanceof ApiError && error.code === "UNAUTHENTICATED" && !state.visit) {
    show("enrol");
    return;
  }
  say(error instanceof ApiError ? error.message : t("error.network"));
}

// --- idle timeout -----------------------------------------------------------------------

function touched() {
  if (!state.visit) return;
  clearTimeout(state.idleTimer);
  state.idleTimer = setTimeout(() => endVisit(true), state.idleSeconds * 1000);
}

for (const type of ["pointerdown", "keydown"]) {
  document.addEventListener(type, touched, { capture: true, passive: true });
}

function startVisit(visit) {
  state.visit = visit;
  state.idleSeconds = visit.expiresInSeconds || DEFAULT_IDLE_SECONDS;
  touched();
  renderHome();
  if (visit.isNewMember) status(t("home.welcome", { points: formatPoints(visit.balance) }));
  show("home");
}

async function endVisit(tellServer) {
  clearTimeout(state.idleTimer);
  const visit = state.visit;
  state.visit = null;
  state.exchange = null;
  for (const form of document.querySelectorAll("form")) form.reset();
  $("#code-form").hidden = true;
  $("#phone-form").hidden = false;
  show("start");
  if (tellServer && visit) {
    try {
      await gql(Q.endVisit, { s: visit.session });
    } catch {
      // The server ends an idle visit by itself.
    }
  }
}

// --- member home --------------------------------------------------------------------------

function status(message) {
  const el = $("#home-status");
  el.textContent = message ?? "";
  el.hidden = !message;
}

function renderHome() {
  const visit = state.visit;
  $("#home-title").textContent = visit.firstName
    ? t("home.helloName", { name: visit.firstName })
    : t("home.hello");
  $("#home-balance").textContent = formatPoints(visit.balance);
  const checkIn = $("#home-check-in");
  checkIn.textContent = visit.checkedInToday ? t("home.checkedIn") : t("home.checkIn");
  const spin = $("#home-spin");
  spin.textContent = visit.playsLeft > 0 ? t("home.spin", { plays: visit.playsLeft }) : t("home.noPlays");
  const wheelButton = $("#wheel-spin");
  wheelButton.textContent = t("wheel.spin", { plays: visit.playsLeft });
  wheelButton.disabled = visit.playsLeft <= 0;
}

async function checkIn() {
  const done = await mutate(Q.checkIn, { s: state.visit.session }, "checkIn", "CheckedIn").catch((error) => {
    if (error instanceof ApiError && error.code === "ALREADY_CHECKED_IN") state.visit.checkedInToday = true;
    renderHome();
    throw error;
  });
  state.visit.balance = done.balance;
  state.visit.checkedInToday = true;
  renderHome();
  status(t("home.checkInDone", { points: formatPoints(done.pointsAwarded) }));
}

// --- wheel --------------------------------------------------------------------------------

async function openWheel() {
  const data = await gql(Q.wheel);
  state.wheel = data.wheel;
  drawWheel($("#wheel"), state.wheel);
  $("#wheel-result").textContent = "";
  renderHome();
  show("wheel");
}

async function spin() {
  $("#wheel-result").textContent = "";
  const result = await mutate(Q.spin, { s: state.visit.session }, "spin", "SpinResult");
  const index = state.wheel.findIndex((segment) => segment.id === result.segmentId);
  if (index >= 0) await spinTo($("#wheel"), index, state.wheel.length);
  state.visit.balance = result.balance;
  state.visit.playsLeft = result.playsLeft;
  renderHome();
  const kind = result.kind.toLowerCase();
  $("#wheel-result").textContent = t(`wheel.won.${kind}`, {
    points: formatPoints(result.pointsWon),
    label: result.label,
    code: result.pickupCode ?? "",
  });
  touched();
}

// --- prizes and exchange ------------------------------------------------------------------

async function openPrizes() {
  const data = await gql(Q.prizes);
  const list = $("#prize-list");
  list.replaceChildren();
  for (const prize of data.prizes) {
    const item = document.createElement("li");
    item.className = "prize";
    if (prize.image) {
      const image = document.createElement("img");
      image.src = prize.image;
      image.alt = "";
      image.width = 96;
      image.height = 96;
      item.append(image);
    }
    const name = document.createElement("h2");
    name.textContent = prize.name;
    const price = document.createElement("p");
    price.className = "price";
    price.textContent = t("prizes.points", { points: formatPoints(prize.pointsPrice) });
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary";
    const short = prize.pointsPrice - state.visit.balance;
    if (!prize.inStock) {
      button.textContent = t("prizes.out");
      button.disabled = true;
    } else if (short > 0) {
      button.textContent = t("prizes.short", { points: formatPoints(short) });
      button.disabled = true;
    } else {
      button.textContent = t("prizes.exchange");
      button.addEventListener("click", () => busy(button, () => requestExchange(prize)));
    }
    button.setAttribute("aria-label", `${t("prizes.exchange")}: ${prize.name}`);
    item.append(name, price, button);
    list.append(item);
  }
  show("prizes");
}

async function requestExchange(prize) {
  const requested = await mutate(
    Q.requestExchange,
    { s: state.visit.session, p: prize.id },
    "requestPrizeExchange",
    "PrizeExchangeRequested",
  );
  state.exchange = requested;
  $("#exchange-title").textContent = t("exchange.title", {
    prize: requested.prizeName,
    points: formatPoints(requested.pointsPrice),
  });
  $("#exchange-sent").textContent = t("exchange.sent");
  $("#exchange-form").reset();
  show("exchange");
  $("#exchange-code").focus();
}

async function confirmExchange(code) {
  const done = await mutate(
    Q.confirmExchange,
    { s: state.visit.session, e: state.exchange.exchangeId, c: code },
    "confirmPrizeExchange",
    "PrizeExchangeConfirmed",
  );
  state.visit.balance = done.balance;
  renderHome();
  $("#pickup-prize").textContent = done.prizeName;
  const pickup = done.pickupCode;
  $("#pickup-code").textContent = `${pickup.slice(0, 4)} ${pickup.slice(4)}`;
  $("#pickup-balance").textContent = formatPoints(done.balance);
  show("pickup");
}

// --- identification -----------------------------------------------------------------------

async function identifyByCard(scan) {
  const visit = await mutate(Q.byCard, { scan }, "identifyByCard", "Visit");
  startVisit(visit);
}

async function startCamera() {
  // BarcodeDetector where the browser has it; typed entry always works.
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes("qr_code")) return;
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
    const video = $("#camera-video");
    video.srcObject = stream;
    await video.play();
    $("#camera").hidden = false;
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    state.camera = { stream, stop: false };
    const camera = state.camera;
    const look = async () => {
      if (camera.stop) return;
      try {
        const codes = await detector.detect(video);
        if (codes.length && codes[0].rawValue) {
          stopCamera();
          await identifyByCard(codes[0].rawValue).catch(failed);
          return;
        }
      } catch {
        // A frame that could not be read: try the next one.
      }
      setTimeout(look, 250);
    };
    look();
  } catch {
    $("#camera").hidden = true; // no camera or permission refused: typed entry
  }
}

function stopCamera() {
  if (!state.camera) return;
  state.camera.stop = true;
  for (const track of state.camera.stream.getTracks()) track.stop();
  state.camera = null;
  $("#camera").hidden = true;
}

// --- wiring ---------------------------------------------------------------------------------

function onSubmit(selector, action) {
  const form = $(selector);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    busy(button, () => action(new FormData(form)));
  });
}

function onClick(selector, action) {
  for (const button of document.querySelectorAll(selector)) {
    button.addEventListener("click", () => busy(button, action));
  }
}

async function loadKiosk() {
  try {
    const data = await gql(Q.kiosk);
    $("#store-name").textContent = data.kiosk.storeName;
    show("start");
  } catch (error) {
    if (error instanceof ApiError && error.code === "UNAUTHENTICATED") show("enrol");
    else failed(error);
  }
}

function main() {
  setLanguage(new URLSearchParams(location.search).get("lang") === "en" ? "en" : "sq");
  for (const button of document.querySelectorAll(".lang")) {
    button.addEventListener("click", () => {
      setLanguage(button.dataset.lang);
      if (state.visit) renderHome();
    });
  }
  onSubmit("#enrol-form", async (form) => {
    const data = await gql(Q.enrol, { code: form.get("code"), name: form.get("name") });
    const result = data.enrolKiosk;
    if (result.__typename !== "KioskEnrolled") throw new ApiError(result.message, result.code);
    await loadKiosk();
  });
  onClick("#start-scan", async () => {
    show("scan");
    startCamera();
  });
  onClick("#start-phone", async () => show("phone"));
  for (const button of document.querySelectorAll(".back")) {
    button.addEventListener("click", () => endVisit(true));
  }
  onSubmit("#scan-form", (form) => identifyByCard(String(form.get("scan")).trim()));
  onSubmit("#phone-form", async (form) => {
    state.phone = String(form.get("phone")).trim();
    await mutate(Q.requestCode, { phone: state.phone }, "requestKioskCode", "KioskCodeSent");
    $("#phone-form").hidden = true;
    $("#code-form").hidden = false;
    $("#code-sent").textContent = t("code.sent");
    $("#code-input").focus();
  });
  onSubmit("#code-form", async (form) => {
    const visit = await mutate(
      Q.byPhone,
      { phone: state.phone, code: String(form.get("code")).trim() },
      "identifyByPhone",
      "Visit",
    );
    startVisit(visit);
  });
  onClick("#home-check-in", checkIn);
  onClick("#home-spin", openWheel);
  onClick("#wheel-spin", spin);
  onClick("#home-prizes", openPrizes);
  onClick("#home-end", () => endVisit(true));
  for (const button of document.querySelectorAll(".to-home")) {
    button.addEventListener("click", () => {
      status("");
      renderHome();
      show("home");
    });
  }
  for (const button of document.querySelectorAll(".to-prizes")) {
    button.addEventListener("click", () => busy(button, openPrizes));
  }
  onSubmit("#exchange-form", (form) => confirmExchange(String(form.get("code")).trim()));
  loadKiosk();
}

main();
