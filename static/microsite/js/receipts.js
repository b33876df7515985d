// Receipts from partner tills, with line items and the points breakdown.

import { gql } from "./api.js";
import { $, busy, h, say } from "./dom.js";
import { formatDateTime, formatMoney, formatNumber, t } from "./i18n.js";

const RECEIPT_FIELDS = `
  id receiptId issuedAt total { amount currency } pointsEarned pointsReversed refundedAmount
  partner { name } store { name city }
`;

const RECEIPTS_QUERY = `
query Receipts($after: String) {
  me { id receipts(first: 10, after: $after) {
    edges { node { ${RECEIPT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  } }
}`;

const RECEIPT_QUERY = `
query Receipt($id: ID!) {
  me { id receipt(id: $id) {
    ${RECEIPT_FIELDS}
    lines { lineNumber sku name brand category quantity unitPrice amount refundedAmount points }
    breakdown { kind rule multiplierPercent amount points title offerId }
  } }
}`;

let receipts = null;
let pageInfo = null;
let receipt = null;

export function setupReceipts() {
  const more = $("#receipts-more");
  more.addEventListener("click", async () => {
    try {
      await busy(more, async () => {
        const page = (await gql(RECEIPTS_QUERY, { after: pageInfo.endCursor })).me.receipts;
        receipts = receipts.concat(page.edges.map((e) => e.node));
        pageInfo = page.pageInfo;
      });
      paintReceipts();
    } catch (failure) {
      say($("#receipts-error"), failure.message);
    }
  });
}

export async function loadReceipts() {
  say($("#receipts-error"), "");
  const list = $("#receipts");
  list.setAttribute("aria-busy", "true");
  if (!receipts) list.replaceChildren(h("li", { class: "loading", text: t("loading") }));
  try {
    const page = (await gql(RECEIPTS_QUERY, { after: null })).me.receipts;
    receipts = page.edges.map((e) => e.node);
    pageInfo = page.pageInfo;
    paintReceipts();
  } catch (failure) {
    say($("#receipts-error"), failure.message);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

export async function loadReceipt(id) {
  say($("#receipt-error"), "");
  const article = $("#receipt");
  article.setAttribute("aria-busy", "true");
  article.replaceChildren(h("p", { class: "loading", text: t("loading") }));
  try {
    receipt = (await gql(RECEIPT_QUERY, { id })).me.receipt;
    if (!receipt) {
      article.replaceChildren();
      say($("#receipt-error"), t("receipts.notFound"));
      return;
    }
    paintReceipt();
    $("#receipt-title")?.focus();
  } catch (failure) {
    article.replaceChildren();
    say($("#receipt-error"), failure.message);
  } finally {
    article.setAttribute("aria-busy", "false");
  }
}

export function forgetReceipts() {
  receipts = null;
  pageInfo = null;
  receipt = null;
}

function where(r) {
  return `${r.store.name}, ${r.store.city}`;
}

export function paintReceipts() {
  paintReceipt();
  if (!receipts) return;
  const list = $("#receipts");
  list.replaceChildren(
    ...receipts.map((r) =>
      h(
        "li",
        { class: "list-item receipt-item" },
        h(
          "a",
          { href: `#receipt/${encodeURIComponent(r.id)}`, class: "list-link" },
          h(
            "span",
            { class: "list-main" },
            h("span", { class: "list-title", text: r.partner.name }),
            h("span", { class: "list-sub", text: where(r) }),
            h("time", { class: "list-sub", datetime: r.issuedAt, text: formatDateTime(r.issuedAt) }),
            r.refundedAmount
              ? h("span", {
                  class: "badge returned",
                  text: t("receipts.returnedAmount", { amount: formatMoney(r.refundedAmount, r.total.currency) }),
                })
              : null,
          ),
          h(
            "span",
            { class: "list-end" },
            h("span", { class: "amount", text: formatMoney(r.total.amount, r.total.currency) }),
            h("span", { class: "points plus", text: t("receipts.points", { points: formatNumber(r.pointsEarned) }) }),
            r.pointsReversed
              ? h("span", { class: "points minus", text: `−${formatNumber(r.pointsReversed)}` })
              : null,
          ),
        ),
      ),
    ),
  );
  if (!receipts.length) list.append(h("li", { class: "empty", text: t("receipts.empty") }));
  $("#receipts-more").hidden = !pageInfo?.hasNextPage;
}

function paintReceipt() {
  if (!receipt || $("#screen-receipt").hidden) return;
  const r = receipt;
  const money = (amount) => formatMoney(amount, r.total.currency);
  const quantity = (q) => formatNumber(Number(q));
  $("#receipt").replaceChildren(
    h("h1", { id: "receipt-title", tabindex: "-1", text: r.partner.name }),
    h("p", { class: "list-sub", text: where(r) }),
    h("p", { class: "list-sub" }, h("time", { datetime: r.issuedAt, text: formatDateTime(r.issuedAt) }), ` · ${r.receiptId}`),
    h("h2", { text: t("receipts.items") }),
    h(
      "ul",
      { class: "lines" },
      ...r.lines.map((line) =>
        h(
          "li",
          { class: "line" },
          h(
            "div",
            { class: "line-head" },
            h("span", { class: "list-title", text: line.name }),
            h("span", { class: "amount", text: money(line.amount) }),
          ),
          h(
            "div",
            { class: "line-meta" },
            h("span", { text: [line.brand, line.category, line.sku].filter(Boolean).join(" · ") }),
            h("span", { class: "nowrap", text: `${quantity(line.quantity)} × ${money(line.unitPrice)}` }),
          ),
          line.refundedAmount
            ? h(
                "div",
                { class: "line-meta line-returned" },
                h("span", { text: t("receipts.returned") }),
                h("span", { class: "amount", text: `−${money(line.refundedAmount)}` }),
              )
            : null,
        ),
      ),
    ),
    h(
      "p",
      { class: "line-total" },
      h("span", { text: t("receipts.total") }),
      h("span", { class: "amount", text: money(r.total.amount) }),
    ),
    r.refundedAmount
      ? h(
          "div",
          { class: "returned-totals" },
          h(
            "p",
            { class: "line-meta line-returned" },
            h("span", { text: t("receipts.returned") }),
            h("span", { class: "amount", text: `−${money(r.refundedAmount)}` }),
          ),
          h(
            "p",
            { class: "line-total" },
            h("span", { text: t("receipts.afterReturn") }),
            h("span", { class: "amount", text: money(r.total.amount - r.refundedAmount) }),
          ),
        )
      : null,
    h(
      "dl",
      { class: "figures" },
      h("div", {}, h("dt", { text: t("receipts.earned") }), h("dd", { class: "points plus", text: `+${formatNumber(r.pointsEarned)}` })),
      r.pointsReversed
        ? h("div", {}, h("dt", { text: t("receipts.takenBack") }), h("dd", { class: "points minus", text: `−${formatNumber(r.pointsReversed)}` }))
        : null,
    ),
    r.breakdown.length
      ? h(
          "div",
          {},
          h("h2", { text: t("receipts.breakdown") }),
          h(
            "ul",
            { class: "list" },
            ...r.breakdown.map((part) =>
              h(
                "li",
                { class: part.kind === "OFFER" ? "list-item breakdown-offer" : "list-item" },
                h("span", { text: breakdownLabel(part) }),
                h("span", { class: "points", text: formatNumber(part.points) }),
              ),
            ),
          ),
        )
      : null,
  );
}

function breakdownLabel(part) {
  const rule = part.rule ? part.rule.split(":").slice(1).join(":") : "";
  const label = t(`breakdown.${part.kind}`, {
    rule,
    percent: part.multiplierPercent,
    title: part.title ?? "",
  });
  return `${label} · ${formatMoney(part.amount, receipt.total.currency)}`;
}
