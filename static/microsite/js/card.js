// The digital card: card number (and QR, wallet buttons), balance, progress, activity.

import { gql } from "./api.js";
import { $, h, say, show, busy } from "./dom.js";
import { formatDateTime, formatNumber, t } from "./i18n.js";

const CARD_QUERY = `
query Card {
  me {
    id firstName lastName phone language
    card { number }
    balance { available pending lifetime }
    activity(first: 10) {
      edges { node { id kind points balanceAfter description occurredAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const MORE_ACTIVITY = `
query More($after: String) {
  me { activity(first: 10, after: $after) {
    edges { node { id kind points balanceAfter description occurredAt } }
    pageInfo { hasNextPage endCursor }
  } }
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
  $("#balance-available").textContent = formatNumber(me.balance.available);
  $("#balance-pending").textContent = formatNumber(me.balance.pending);
  $("#balance-lifetime").textContent = formatNumber(me.balance.lifetime);
  paintProgress();

  const list = $("#activity");
  list.replaceChildren(
    ...activity.map((entry) =>
      h(
        "li",
        { class: "list-item" },
        h(
          "div",
          { class: "list-main" },
          h("span", { class: "list-title", text: t(`kind.${entry.kind}`) }),
          h("time", { datetime: entry.occurredAt, class: "list-sub", text: formatDateTime(entry.occurredAt) }),
        ),
        h("span", {
          class: entry.points >= 0 ? "points plus" : "points minus",
          text: `${entry.points >= 0 ? "+" : "−"}${formatNumber(Math.abs(entry.points))}`,
        }),
      ),
    ),
  );
  if (!activity.length) list.append(h("li", { class: "empty", text: t("activity.empty") }));
  show($("#activity-more"), Boolean(pageInfo?.hasNextPage));
}

function paintProgress() {
  show($("#progress-bar"), false);
  $("#progress-text").textContent = t("progress.none");
}
