// The offers meant for the member now: what each gives, where, until when, how far the
// member is, uses left, and activation for the ones that need it.

import { gql, unwrap } from "./api.js";
import { $, busy, h, say } from "./dom.js";
import { formatDate, formatMoney, formatNumber, language, t } from "./i18n.js";

const PAGE_SIZE = 20;

const OFFER_FIELDS = `
  id title description mechanic bonusPoints multiplierPercent fundedBy validUntil
  needsActivation activated usesLeft
  progress { current target unit }
  places { partner store city }
`;

const OFFERS_QUERY = `
query Offers($first: Int!, $after: String) {
  me { id offers(first: $first, after: $after) {
    edges { node { ${OFFER_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  } }
}`;

const ACTIVATE = `
mutation Activate($offerId: ID!) {
  activateOffer(offerId: $offerId) {
    __typename
    ... on Offer { ${OFFER_FIELDS} }
    ... on Error { code message field }
  }
}`;

let offers = null;
let pageInfo = null;
// Messages shown next to one offer (an activation refused, or done), by offer id.
const notes = new Map();

export function setupOffers() {
  const more = $("#offers-more");
  more.addEventListener("click", async () => {
    say($("#offers-error"), "");
    try {
      await busy(more, async () => {
        const page = (await gql(OFFERS_QUERY, { first: PAGE_SIZE, after: pageInfo.endCursor })).me
          .offers;
        offers = offers.concat(page.edges.map((e) => e.node));
        pageInfo = page.pageInfo;
      });
      paintOffers();
    } catch (failure) {
      say($("#offers-error"), failure.message);
    }
  });
}

export async function loadOffers() {
  say($("#offers-error"), "");
  notes.clear();
  const list = $("#offers");
  list.setAttribute("aria-busy", "true");
  if (!offers) list.replaceChildren(h("li", { class: "loading", text: t("loading") }));
  try {
    const page = (await gql(OFFERS_QUERY, { first: PAGE_SIZE, after: null })).me.offers;
    offers = page.edges.map((e) => e.node);
    pageInfo = page.pageInfo;
    paintOffers();
  } catch (failure) {
    say($("#offers-error"), failure.message);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

export function forgetOffers() {
  offers = null;
  pageInfo = null;
  notes.clear();
}

async function activate(offer, button) {
  notes.delete(offer.id);
  try {
    const updated = await busy(button, async () =>
      unwrap((await gql(ACTIVATE, { offerId: offer.id })).activateOffer),
    );
    offers = offers.map((o) => (o.id === updated.id ? updated : o));
    notes.set(offer.id, { kind: "status", key: "offers.activated" });
  } catch (failure) {
    // Errors as data (not eligible, ended, already active) come in the page's language.
    notes.set(offer.id, { kind: "error", message: failure.message });
  }
  paintOffers();
  const note = $(`#${domId(offer.id)} [role="status"], #${domId(offer.id)} [role="alert"]`);
  note?.scrollIntoView({ block: "nearest" });
}

function domId(id) {
  return `offer-${id.replace(/[^A-Za-z0-9_-]/g, "")}`;
}

/** What the offer gives, in one sentence. */
function gives(offer) {
  if (offer.multiplierPercent) {
    const times = String(offer.multiplierPercent / 100).replace(".", language() === "sq" ? "," : ".");
    return t("offers.gives.multiplier", { times });
  }
  const points = formatNumber(offer.bonusPoints ?? 0);
  if (offer.mechanic === "AGGREGATE_SPEND" && offer.progress) {
    const spend = formatMoney(offer.progress.target, offer.progress.unit);
    return t("offers.gives.AGGREGATE_SPEND", { points, spend });
  }
  // The threshold of a one-receipt offer is in its description.
  if (offer.mechanic === "SPEND_GET") return t("offers.gives.SPEND_GET", { points });
  return t("offers.gives.points", { points: formatNumber(offer.bonusPoints ?? 0) });
}

/** Where it applies: partners, or stores with their city; every partner when empty. */
function where(offer) {
  if (!offer.places.length) return t("offers.everywhere");
  return offer.places
    .map((p) => (p.store ? `${p.store}, ${p.city}` : p.partner))
    .filter(Boolean)
    .join(" · ");
}

function progressBlock(offer) {
  const p = offer.progress;
  if (!p || !p.target) return null;
  const id = `${domId(offer.id)}-progress`;
  const current = Math.min(p.current, p.target);
  return h(
    "div",
    { class: "offer-progress" },
    h("progress", {
      max: p.target,
      value: current,
      "aria-labelledby": `${domId(offer.id)}-title`,
      "aria-describedby": id,
    }),
    h("p", {
      id,
      class: "hint",
      text: t("offers.progress", {
        target: formatMoney(p.target, p.unit),
        current: formatMoney(p.current, p.unit),
      }),
    }),
  );
}

function offerItem(offer) {
  const id = domId(offer.id);
  const note = notes.get(offer.id);
  const facts = [
    [t("offers.where"), where(offer)],
    [t("offers.until"), formatDate(offer.validUntil)],
  ];
  if (offer.usesLeft !== null && offer.usesLeft !== undefined) {
    facts.push([t("offers.usesLeft"), formatNumber(offer.usesLeft)]);
  }
  let action = null;
  if (offer.needsActivation && !offer.activated) {
    action = h("button", {
      type: "button",
      class: "primary",
      "aria-describedby": `${id}-title`,
      text: t("offers.activate"),
    });
    action.addEventListener("click", () => activate(offer, action));
  }
  const state = offer.needsActivation
    ? offer.activated
      ? h("span", { class: "badge badge-active", text: t("offers.active") })
      : h("span", { class: "badge badge-todo", text: t("offers.needsActivation") })
    : h("span", { class: "badge badge-active", text: t("offers.automatic") });
  return h(
    "li",
    { class: "offer", id, dataset: { offerId: offer.id } },
    h("h2", { id: `${id}-title`, class: "offer-title", text: offer.title }),
    h("p", {}, state),
    h("p", { class: "offer-gives", text: gives(offer) }),
    offer.description ? h("p", { class: "hint", text: offer.description }) : null,
    h(
      "dl",
      { class: "offer-facts" },
      ...facts.map(([term, value]) => h("div", {}, h("dt", { text: term }), h("dd", { text: value }))),
    ),
    offer.fundedBy ? h("p", { class: "list-sub", text: t("offers.fundedBy", { partner: offer.fundedBy }) }) : null,
    progressBlock(offer),
    note?.kind === "error" ? h("p", { class: "error", role: "alert", text: note.message }) : null,
    note?.kind === "status" ? h("p", { class: "status", role: "status", text: t(note.key) }) : null,
    action,
  );
}

export function paintOffers() {
  if (!offers) return;
  const list = $("#offers");
  list.replaceChildren(...offers.map(offerItem));
  if (!offers.length) list.append(h("li", { class: "empty", text: t("offers.empty") }));
  $("#offers-more").hidden = !pageInfo?.hasNextPage;
}
