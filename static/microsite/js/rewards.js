// Reward levels, claiming a level, vouchers with their codes and QR.

import { gql, unwrap } from "./api.js";
import { $, busy, h, say, svgImage } from "./dom.js";
import { formatDate, formatMoney, formatNumber, t } from "./i18n.js";

// me.vouchers is a connection: a page of vouchers, then "Show more" follows the cursor.
const VOUCHER_PAGE = `
  edges { node { id code value { amount currency } status expiresAt redeemedAt qrSvg } }
  pageInfo { hasNextPage endCursor }`;
const PAGE_SIZE = 20;

const REWARDS_QUERY = `
query Rewards($status: VoucherStatus, $first: Int!) {
  me {
    id
    balance { available }
    rewardLevels { level points voucherCount totalValue { amount currency } pointsNeeded progressPercent }
    vouchers(first: $first, status: $status) { ${VOUCHER_PAGE} }
  }
}`;

const VOUCHERS_QUERY = `
query Vouchers($status: VoucherStatus, $first: Int!, $after: String) {
  me { id vouchers(first: $first, after: $after, status: $status) { ${VOUCHER_PAGE} } }
}`;

const CLAIM = `
mutation Claim($level: Int!, $requestId: String) {
  claimReward(level: $level, requestId: $requestId) {
    __typename
    ... on RewardClaimed { level pointsSpent balance vouchers { id code } }
    ... on Error { code message field }
  }
}`;

let data = null;
let claiming = null;
// One id per opened confirmation: a retry after a lost response claims once, not twice.
let claimRequestId = null;
let status = "ACTIVE";

// The page's vouchers as a plain list plus where the next page starts.
function takeVouchers(me) {
  const page = me.vouchers;
  return { ...me, vouchers: page.edges.map((edge) => edge.node), vouchersPage: page.pageInfo };
}

export function setupRewards() {
  const more = $("#vouchers-more");
  more.addEventListener("click", async () => {
    say($("#vouchers-error"), "");
    try {
      await busy(more, async () => {
        const variables = { status, first: PAGE_SIZE, after: data.vouchersPage.endCursor };
        const next = takeVouchers((await gql(VOUCHERS_QUERY, variables)).me);
        data.vouchers = data.vouchers.concat(next.vouchers);
        data.vouchersPage = next.vouchersPage;
      });
      paintRewards();
    } catch (failure) {
      say($("#vouchers-error"), failure.message);
    }
  });
  for (const button of document.querySelectorAll(".filter-button")) {
    button.addEventListener("click", async () => {
      status = button.dataset.status;
      paintFilter();
      say($("#vouchers-error"), "");
      const list = $("#vouchers");
      list.setAttribute("aria-busy", "true");
      try {
        const next = takeVouchers((await gql(VOUCHERS_QUERY, { status, first: PAGE_SIZE })).me);
        data.vouchers = next.vouchers;
        data.vouchersPage = next.vouchersPage;
        paintRewards();
      } catch (failure) {
        say($("#vouchers-error"), failure.message);
      } finally {
        list.setAttribute("aria-busy", "false");
      }
    });
  }
  const dialog = $("#claim-dialog");
  const confirm = $("#claim-confirm");
  confirm.addEventListener("click", async () => {
    say($("#claim-error"), "");
    try {
      const variables = { level: claiming.level, requestId: claimRequestId };
      await busy(confirm, async () => unwrap((await gql(CLAIM, variables)).claimReward));
      dialog.close();
      status = "ACTIVE";
      paintFilter();
      await loadRewards();
      say($("#rewards-status"), t("rewards.claimed"));
      $("#vouchers-title").scrollIntoView({ block: "start" });
    } catch (failure) {
      say($("#claim-error"), failure.message);
    }
  });
}

export async function loadRewards() {
  say($("#rewards-error"), "");
  say($("#rewards-status"), "");
  const list = $("#levels");
  list.setAttribute("aria-busy", "true");
  if (!data) list.replaceChildren(h("li", { class: "loading", text: t("loading") }));
  try {
    data = takeVouchers((await gql(REWARDS_QUERY, { status, first: PAGE_SIZE })).me);
    paintRewards();
  } catch (failure) {
    say($("#rewards-error"), failure.message);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

export function forgetRewards() {
  data = null;
  $("#vouchers-more").hidden = true;
  status = "ACTIVE";
  paintFilter();
}

function paintFilter() {
  for (const button of document.querySelectorAll(".filter-button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === status));
  }
}

function openClaim(level) {
  claiming = level;
  claimRequestId = crypto.randomUUID();
  say($("#claim-error"), "");
  $("#claim-text").textContent = t("rewards.confirm", {
    points: formatNumber(level.points),
    vouchers: level.voucherCount,
    value: formatMoney(level.totalValue.amount, level.totalValue.currency),
  });
  $("#claim-dialog").showModal();
}

export function paintRewards() {
  if (!data) return;
  $("#levels").replaceChildren(
    ...data.rewardLevels.map((level) => {
      const id = `level-${level.level}`;
      const ready = level.pointsNeeded === 0;
      const button = h("button", {
        type: "button",
        class: ready ? "primary" : "secondary",
        disabled: !ready,
        "aria-describedby": `${id}-gives`,
        text: ready ? t("rewards.claim") : t("rewards.missing", { points: formatNumber(level.pointsNeeded) }),
      });
      if (ready) button.addEventListener("click", () => openClaim(level));
      return h(
        "li",
        { class: "level", id, dataset: { level: level.level } },
        h("p", { class: "level-points", text: t("rewards.level", { points: formatNumber(level.points) }) }),
        h("p", {
          id: `${id}-gives`,
          text: t("rewards.gives", {
            vouchers: level.voucherCount,
            value: formatMoney(level.totalValue.amount, level.totalValue.currency),
          }),
        }),
        h("progress", {
          max: 100,
          value: level.progressPercent,
          "aria-label": t("rewards.level", { points: formatNumber(level.points) }),
        }),
        button,
      );
    }),
  );
  const vouchers = $("#vouchers");
  vouchers.replaceChildren(
    ...data.vouchers.map((voucher) =>
      h(
        "li",
        { class: voucher.status === "ACTIVE" ? "voucher" : "voucher voucher-used" },
        h(
          "div",
          {},
          h("p", { class: "voucher-value", text: formatMoney(voucher.value.amount, voucher.value.currency) }),
          h("p", {}, h("span", { class: "badge", text: t(`vouchers.${voucher.status}`) })),
          h("p", { class: "voucher-label", text: t("vouchers.code") }),
          h("p", { class: "voucher-code", text: voucher.code }),
          h("p", {
            class: "list-sub",
            text: voucher.redeemedAt
              ? t("vouchers.usedOn", { date: formatDate(voucher.redeemedAt) })
              : t("vouchers.expires", { date: formatDate(voucher.expiresAt) }),
          }),
        ),
        svgImage(voucher.qrSvg, t("vouchers.qrAlt", { code: voucher.code })),
      ),
    ),
  );
  const empty = { ACTIVE: "vouchers.empty", USED: "vouchers.emptyUsed", EXPIRED: "vouchers.emptyExpired" };
  if (!data.vouchers.length) vouchers.append(h("li", { class: "empty", text: t(empty[status]) }));
  $("#vouchers-more").hidden = !data.vouchersPage?.hasNextPage;
}
