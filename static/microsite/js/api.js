// The member GraphQL API at /graphql, called as the mobile app calls it, plus the web
// session design (docs/microsite.md): the access token lives only in this module's
// memory; the refresh token is an HttpOnly cookie the browser sends to /graphql only,
// which this script can neither read nor write. Nothing goes to web storage.

import { language, t } from "./i18n.js";

const ENDPOINT = "/graphql";
const REFRESH_MARGIN_MS = 30_000;

let accessToken = null;
let accessExpiresAt = 0;
let refreshing = null;
const signedOutListeners = [];

/** A failure to show to the member: message is already in their language. */
export class ApiError extends Error {
  constructor(message, code = null, field = null) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.field = field;
  }
}

export function onSignedOut(listener) {
  signedOutListeners.push(listener);
}

export function isSignedIn() {
  return accessToken !== null;
}

function keepSession(session) {
  accessToken = session.accessToken;
  accessExpiresAt = Date.parse(session.accessTokenExpiresAt);
}

export function forgetSession() {
  accessToken = null;
  accessExpiresAt = 0;
}

async function post(query, variables, withToken) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/json",
    "Accept-Language": language(),
    "X-Happy-Client": "web",
  };
  if (withToken && accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let response;
  try {
    response = await fetch(ENDPOINT, {
      method: "POST",
      headers,
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
    throw new ApiError(t("error.generic"), "HTTP_" + response.status);
  }
  return body;
}

function topLevelError(body) {
  const [first] = body.errors ?? [];
  if (!first) return null;
  const code = first.extensions?.code ?? null;
  // Masked unexpected errors have no code: their text is not meant for members.
  return new ApiError(code ? first.message : t("error.generic"), code);
}

/** A union result that implements Error (code, message, field) becomes an ApiError. */
export function unwrap(result) {
  if (result && typeof result.code === "string" && typeof result.message === "string") {
    throw new ApiError(result.message, result.code, result.field ?? null);
  }
  return result;
}

const SESSION_FIELDS = `
  __typename
  ... on Session { accessToken accessTokenExpiresAt isNewMember member { id language } }
  ... on Error { code message field }
`;

/**
 * Run fn while holding the browser-wide refresh lock: two tabs of the microsite must not
 * spend the same refresh cookie at once (the server would see a reused token and end
 * the session). The second tab waits and then sends the cookie the first one received.
 */
function withRefreshLock(fn) {
  return navigator.locks?.request ? navigator.locks.request("happy-refresh", fn) : fn();
}

/** Swap the refresh cookie for a new access token; one refresh at a time. */
export function refreshSession() {
  refreshing ??= (async () => {
    try {
      const body = await withRefreshLock(() =>
        post(`mutation { refreshSession { ${SESSION_FIELDS} } }`, {}, false),
      );
      const error = topLevelError(body);
      if (error) throw error;
      const session = unwrap(body.data.refreshSession);
      keepSession(session);
      return session;
    } catch (error) {
      if (error.code !== "NETWORK") forgetSession();
      throw error;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Run a query or mutation for the signed-in member; refreshes the access token as needed. */
export async function gql(query, variables = {}) {
  if (!accessToken || Date.now() > accessExpiresAt - REFRESH_MARGIN_MS) {
    await refreshOrSignOut();
  }
  let body = await post(query, variables, true);
  if (body.errors?.[0]?.extensions?.code === "UNAUTHENTICATED") {
    await refreshOrSignOut();
    body = await post(query, variables, true);
  }
  const error = topLevelError(body);
  if (error) {
    if (error.code === "UNAUTHENTICATED") signOut(error.message);
    throw error;
  }
  return body.data;
}

async function refreshOrSignOut() {
  try {
    await refreshSession();
  } catch (error) {
    if (error.code !== "NETWORK") signOut(t("sessionEnded"));
    throw error;
  }
}

function signOut(message) {
  forgetSession();
  for (const listener of signedOutListeners) listener(message);
}

/** Calls made before signing in (no token). */
export async function anonymous(query, variables = {}) {
  const body = await post(query, variables, false);
  const error = topLevelError(body);
  if (error) throw error;
  return body.data;
}

export async function requestCode(phone) {
  const data = await anonymous(
    `mutation($phone: String!) { requestOtp(phone: $phone) {
      __typename
      ... on OtpRequested { phone expiresAt resendAfterSeconds }
      ... on Error { code message field }
    } }`,
    { phone },
  );
  return unwrap(data.requestOtp);
}

export async function verifyCode(phone, code) {
  const data = await anonymous(
    `mutation($phone: String!, $code: String!) {
      verifyOtp(phone: $phone, code: $code, channel: MICROSITE) { ${SESSION_FIELDS} }
    }`,
    { phone, code },
  );
  const session = unwrap(data.verifyOtp);
  keepSession(session);
  return session;
}

export async function logout() {
  try {
    // The server clears the refresh cookie even when the access token has expired.
    await post("mutation { logout { sessionsEnded } }", {}, true);
  } finally {
    forgetSession();
  }
}
