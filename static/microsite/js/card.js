// The digital card: card number (and QR, wallet buttons), balance, progress, activity.

import { gql } from "./api.js";
import { $, busy, h, safeUrl, say, show, svgImage } from "./dom.js";
import { formatDate, formatDateTime, formatMoney, formatNumber, t } from "./i18n.js";

// Earnings and returns name their receipt: partner and store, and a link to it.
const ACTIVITY_FIELDS = `
  edges { node { id kind points balanceAfter description occurredAt
                 receipt { id partner { name } store { name city } } } }
  pageInfo { hasNextPage endCursor }`;

const CARD_QUERY = `
query Card {
  me {
    id firstName lastName phone language
    card { number qrSvg appleWalletUrl googleWalletSaveUrl }
    tier { name nextTier pointsToNext }
    balance { available pending lifetime expiringSoon { points date } }
    rewardLevels { level points voucherCount totalValue { amount currency } pointsNeeded progressPercent }
    activity(first: 10) { ${ACTIVITY_FIELDS} }
  }
}`;

const MORE_ACTIVITY = `
query More($after: String) {
  me { activity(first: 10, after: $after) { ${ACTIVITY_FIELDS} } }
}`;

let me = null;
let activity = [];
let pageInfo = null;
export let welcome = false;

export function setWelcome(value) {
  welcome = value;
}

export function currentMember() {
  return me;
}

export function setupCard() {
  const more = $("#activity-more");
  more.addEventListener("click", async () => {
    try {
      await busy(more, async () => {
        const data = await gql(MORE_ACTIVITY, { after: pageInfo.endCursor });
        activity = activity.concat(data.me.activity.edges.map((e) => e.node));
        pageInfo = data.me.activity.pageInfo;
      });
      paintCard();
    } catch (failure) {
      say($("#card-error"), failure.message);
    }
  });
}

export async function loadCard() {
  const error = $("#card-error");
  say(error, "");
  const content = $("#card-content");
  content.setAttribute("aria-busy", "true");
  try {
    const data = await gql(CARD_QUERY);
    me = data.me;
    activity = me.activity.edges.map((e) => e.node);
    pageInfo = me.activity.pageInfo;
    paintCard();
  } catch (failure) {
    say(error, failure.message);
  } finally {
    content.removeAttribute("aria-busy");
  }
}

export function forgetCard() {
  me = null;
  activity = [];
  pageInfo = null;
  welcome = false;
}

function groups(number) {
  return number.replace(/(\d{4})(?=\d)/g, "$1 ");
}

export function paintCard() {
  if (!me) return;
  const name = [me.firstName, me.lastName].filter(Boolean).join(" ");
  $("#card-title").textContent = me.firstName
    ? t("card.hello", { name: me.firstName })
    : t("card.helloAnon");
  show($("#card-welcome"), welcome);
  $("#card-number").textContent = me.card ? groups(me.card.number) : "—";
  $("#card-holder").textContent = name || me.phone;
  paintWallet();
  paintTier();
  const expiring = me.balance.expiringSoon;
  const warning = $("#balance-expiring");
  warning.textContent = expiring?.points
    ? t("balance.expiring", { points: formatNumber(expiring.points), date: formatDate(expiring.date) })
    : "";
  show(warning, Boolean(expiring?.points));
  $("#balance-available").textContent = formatNumber(me.balance.available);
  $("#balance-pending").textContent = formatNumber(me.balance.pending);
  $("#balance-lifetime").textContent = formatNumber(me.balance.lifetime);
  paintProgress();

  const list = $("#activity");
  list.replaceChildren(...activity.map(activityItem));
  if (!activity.length) list.append(h("li", { class: "empty", text: t("activity.empty") }));
  show($("#activity-more"), Boolean(pageInfo?.hasNextPage));
}

/** One ledger movement: what, where (partner · store, city), when, and the points. */
function activityItem(entry) {
  const receipt = entry.receipt;
  const main = h(
    "span",
    { class: "list-main" },
    h("span", { class: "list-title", text: t(`kind.${entry.kind}`) }),
    receipt
      ? h("span", { class: "list-sub", text: `${receipt.partner.name} · ${receipt.store.name}, ${receipt.store.city}` })
      : null,
    h("time", { datetime: entry.occurredAt, class: "list-sub", text: formatDateTime(entry.occurredAt) }),
  );
  const points = h("span", {
    class: entry.points >= 0 ? "points plus" : "points minus",
    text: `${entry.points >= 0 ? "+" : "−"}${formatNumber(Math.abs(entry.points))}`,
  });
  if (!receipt) return h("li", { class: "list-item" }, main, points);
  // The receipt behind the points opens with its lines (and what was returned).
  return h(
    "li",
    { class: "list-item activity-receipt" },
    h("a", { href: `#receipt/${encodeURIComponent(receipt.id)}`, class: "list-link" }, main, points),
  );
}

function paintWallet() {
  const card = me.card;
  const qr = $("#card-qr");
  if (card?.qrSvg) {
    qr.replaceChildren(svgImage(card.qrSvg, t("card.qrAlt", { number: card.number })));
  }
  show(qr, Boolean(card?.qrSvg));
  show($("#card-qr-hint"), Boolean(card?.qrSvg));
  const apple = safeUrl(card?.appleWalletUrl);
  const google = safeUrl(card?.googleWalletSaveUrl);
  const appleLink = $("#apple-wallet");
  const googleLink = $("#google-wallet");
  if (apple) appleLink.href = apple;
  if (google) googleLink.href = google;
  show(appleLink, Boolean(apple));
  show(googleLink, Boolean(google));
  show($("#wallet-buttons"), Boolean(apple || google));
}

function paintProgress() {
  const levels = me.rewardLevels ?? [];
  const bar = $("#progress-bar");
  const next = levels.find((level) => level.pointsNeeded > 0);
  const reached = levels.filter((level) => level.pointsNeeded === 0).at(-1);
  const value = (level) => formatMoney(level.totalValue.amount, level.totalValue.currency);
  show(bar, Boolean(next));
  if (next) bar.value = next.progressPercent;
  $("#progress-text").textContent = next
    ? t("progress.toGo", {
        points: formatNumber(next.pointsNeeded),
        vouchers: next.voucherCount,
        value: value(next),
      })
    : reached
      ? ""
      : t("progress.none");
  show($("#progress-reached"), Boolean(reached));
  $("#progress-reached-text").textContent = reached
    ? t("progress.reached", { vouchers: reached.voucherCount, value: value(reached) })
    : "";
}

/** The member's tier (Happy, Happy+) on the card, and how far the next one is. */
function paintTier() {
  const tier = me.tier;
  show($("#card-tier-block"), Boolean(tier));
  $("#card-tier").textContent = tier?.name ?? "";
  const next = $("#card-tier-next");
  const toGo = tier?.nextTier && tier.pointsToNext !== null;
  next.textContent = toGo
    ? t("card.tierNext", { points: formatNumber(tier.pointsToNext), tier: tier.nextTier })
    : "";
  show(next, Boolean(toGo));
}
