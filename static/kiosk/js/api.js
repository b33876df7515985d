// The kiosk GraphQL door at /kiosk/graphql. The device token is never seen by this
// script: enrolKiosk puts it in an HttpOnly cookie (Path=/kiosk/graphql, SameSite=Strict)
// that the browser sends with requests carrying X-Happy-Client: web. Nothing is kept in
// web storage; the visit session lives only in app.js's memory.

import { language, t } from "./i18n.js";

const ENDPOINT = "/kiosk/graphql";

export class ApiError extends Error {
  constructor(message, code = null, field = null, typename = null) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.field = field;
    this.typename = typename;
  }
}

/** Run a query or mutation; top-level errors become an ApiError (UNAUTHENTICATED...). */
export async function gql(query, variables = {}) {
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "Accept-Language": language(),
        "X-Happy-Client": "web",
      },
      body: JSON.stringify({ query, variables }),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(t("error.network"), "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(t("error.network"), "NETWORK");
  }
  if (body.errors?.length) {
    const error = body.errors[0];
    throw new ApiError(error.message, error.extensions?.code ?? null);
  }
  return body.data;
}

/** A mutation answering a union: the success object, or an ApiError for an Error member. */
export async function mutate(query, variables, field, success) {
  const data = await gql(query, variables);
  const result = data[field];
  if (result.__typename !== success) {
    throw new ApiError(result.message, result.code, result.field, result.__typename);
  }
  return result;
}

const VISIT = "__typename session expiresInSeconds firstName balance isNewMember checkedInToday playsLeft";
const ERROR = "... on Error { code message field }";

export const Q = {
  kiosk: "{ kiosk { kioskId label storeName storeCode } }",
  prizes: "{ prizes { id name image pointsPrice inStock } }",
  wheel: "{ wheel { id label kind } }",
  enrol: `mutation($code: String!, $name: String!) { enrolKiosk(code: $code, deviceName: $name) {
    __typename ... on KioskEnrolled { kiosk { storeName } } ${ERROR} } }`,
  byCard: `mutation($scan: String!) { identifyByCard(scan: $scan) {
    ... on Visit { ${VISIT} } __typename ${ERROR} } }`,
  requestCode: `mutation($phone: String!) { requestKioskCode(phone: $phone) {
    __typename ... on KioskCodeSent { expiresAt } ${ERROR} } }`,
  byPhone: `mutation($phone: String!, $code: String!) { identifyByPhone(phone: $phone, code: $code) {
    ... on Visit { ${VISIT} } __typename ${ERROR} } }`,
  checkIn: `mutation($s: String!) { checkIn(session: $s) {
    __typename ... on CheckedIn { pointsAwarded balance } ${ERROR} } }`,
  spin: `mutation($s: String!) { spin(session: $s) {
    __typename ... on SpinResult { segmentId kind label pointsWon pickupCode balance playsLeft }
    ${ERROR} } }`,
  requestExchange: `mutation($s: String!, $p: String!) { requestPrizeExchange(session: $s, prizeId: $p) {
    __typename ... on PrizeExchangeRequested { exchangeId prizeName pointsPrice } ${ERROR} } }`,
  confirmExchange: `mutation($s: String!, $e: String!, $c: String!) {
    confirmPrizeExchange(session: $s, exchangeId: $e, code: $c) {
    __typename ... on PrizeExchangeConfirmed { prizeName pickupCode balance } ${ERROR} } }`,
  endVisit: "mutation($s: String!) { endVisit(session: $s) { ended } }",
};
