// Reward levels, claiming a level, vouchers with their codes and QR.

import { gql, unwrap } from "./api.js";
import { $, busy, h, say, svgImage } from "./dom.js";
import { formatDate, formatMoney, formatNumber, t } from "./i18n.js";

const VOUCHER_FIELDS = "id code value { amount currency } status expiresAt redeemedAt qrSvg";

const REWARDS_QUERY = `
query Rewards($status: VoucherStatus) {
  me {
    id
    balance { available }
    rewardLevels { level points voucherCount totalValue { amount currency } pointsNeeded progressPercent }
    vouchers(status: $status) { ${VOUCHER_FIELDS} }
  }
}`;

const VOUCHERS_QUERY = `
query Vouchers($status: VoucherStatus) {
  me { id vouchers(status: $status) { ${VOUCHER_FIELDS} } }
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

export function setupRewards() {
  for (const button of document.querySelectorAll(".filter-button")) {
    button.addEventListener("click", async () => {
      status = button.dataset.status;
      paintFilter();
      say($("#vouchers-error"), "");
      const list = $("#vouchers");
      list.setAttribute("aria-busy", "true");
      try {
        data.vouchers = (await gql(VOUCHERS_QUERY, { status })).me.vouchers;
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
    data = (await gql(REWARDS_QUERY, { status })).me;
    paintRewards();
  } catch (failure) {
    say($("#rewards-error"), failure.message);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

export function forgetRewards() {
  data = null;
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
}
