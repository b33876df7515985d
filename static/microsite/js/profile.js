// Profile, marketing consents, download my data, delete my account.

import { gql, unwrap } from "./api.js";
import { $, busy, downloadJson, h, say } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

const CHANNELS = ["SMS", "VIBER", "EMAIL", "PUSH"];
const FIELDS = ["firstName", "lastName", "gender", "city", "email", "language"];
// The birth date is three fields (day, month, year), in the order Albanians and the
// British write it: a browser's own date input follows the browser's locale, not the
// page's, and showed mm/dd/yyyy on the Albanian page.
const BIRTH_PARTS = ["birthDay", "birthMonth", "birthYear"];

const PROFILE_QUERY = `
query Profile {
  me {
    id phone firstName lastName birthDate gender city email language
    balance { available }
    marketingConsents { channel granted changedAt }
  }
}`;

const UPDATE_PROFILE = `
mutation Update($input: ProfileInput!) {
  updateProfile(input: $input) {
    __typename
    ... on Member { id firstName lastName birthDate gender city email language }
    ... on Error { code message field }
  }
}`;

const SET_CONSENT = `
mutation Consent($channel: MarketingChannel!, $granted: Boolean!) {
  setMarketingConsent(channel: $channel, granted: $granted) {
    __typename
    ... on MarketingConsent { channel granted changedAt }
    ... on Error { code message field }
  }
}`;

let profile = null;

export function setupProfile({ onLanguageChosen, onDeleted }) {
  const form = $("#profile-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say($("#profile-error"), "");
    say($("#profile-status"), "");
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const input = {};
    for (const name of FIELDS) {
      const value = form.elements[name].value.trim();
      input[name] = value === "" ? null : value;
    }
    if (input.language === null) delete input.language;
    const birthDate = readBirthDate(form);
    if (birthDate === undefined) {
      markInvalid(form, "birthDate");
      say($("#profile-error"), t("profile.birthDateInvalid"));
      return;
    }
    input.birthDate = birthDate;
    try {
      const member = await busy(form.querySelector("button[type=submit]"), async () =>
        unwrap((await gql(UPDATE_PROFILE, { input })).updateProfile),
      );
      const languageChanged = member.language !== profile.language;
      profile = { ...profile, ...member };
      paintProfile();
      // The page follows a newly chosen language; saving a name never flips it.
      if (languageChanged) onLanguageChosen(member.language.toLowerCase());
      say($("#profile-status"), t("profile.saved"));
    } catch (failure) {
      say($("#profile-error"), failure.message);
      if (failure.field) markInvalid(form, failure.field);
    }
  });

  $("#consents").addEventListener("change", async (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    say($("#consents-error"), "");
    say($("#consents-status"), "");
    box.disabled = true;
    try {
      const consent = unwrap(
        (await gql(SET_CONSENT, { channel: box.value, granted: box.checked })).setMarketingConsent,
      );
      box.checked = consent.granted;
      say($("#consents-status"), t("consents.saved"));
    } catch (failure) {
      box.checked = !box.checked;
      say($("#consents-error"), failure.message);
    } finally {
      box.disabled = false;
    }
  });

  const download = $("#download-data");
  download.addEventListener("click", async () => {
    say($("#privacy-error"), "");
    say($("#privacy-status"), "");
    try {
      const data = await busy(download, async () => (await gql("mutation { exportMyData { data } }")).exportMyData.data);
      const day = new Date().toISOString().slice(0, 10);
      downloadJson(data, `happy-my-data-${day}.json`);
      say($("#privacy-status"), t("privacy.downloaded"));
    } catch (failure) {
      say($("#privacy-error"), failure.message);
    }
  });

  const dialog = $("#delete-dialog");
  $("#delete-account").addEventListener("click", () => {
    say($("#delete-error"), "");
    $("#delete-text").textContent = t("delete.text", {
      points: formatNumber(profile ? profile.balance.available : 0),
    });
    dialog.showModal();
  });
  const confirm = $("#delete-confirm");
  confirm.addEventListener("click", async () => {
    say($("#delete-error"), "");
    try {
      await busy(confirm, () => gql("mutation { deleteAccount { deletedAt } }"));
      dialog.close();
      onDeleted();
    } catch (failure) {
      say($("#delete-error"), failure.message);
    }
  });
}

/** The birth date as YYYY-MM-DD, null when all three fields are empty, undefined if invalid. */
function readBirthDate(form) {
  const [day, month, year] = BIRTH_PARTS.map((name) => form.elements[name].value.trim());
  if (!day && !month && !year) return null;
  if (![day, month, year].every((part) => /^\d+$/.test(part)) || year.length !== 4) return undefined;
  const [d, m, y] = [Number(day), Number(month), Number(year)];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return undefined;
  }
  return `${year}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/** Mark the field the API (or the page) named as invalid and put the focus on it. */
function markInvalid(form, field) {
  const inputs = field === "birthDate" ? BIRTH_PARTS.map((name) => form.elements[name]) : [form.elements[field]];
  const present = inputs.filter(Boolean);
  for (const input of present) input.setAttribute("aria-invalid", "true");
  present[0]?.focus();
}

export async function loadProfile() {
  say($("#profile-error"), "");
  say($("#profile-status"), "");
  say($("#consents-status"), "");
  say($("#privacy-status"), "");
  const form = $("#profile-form");
  const deleteButton = $("#delete-account");
  form.setAttribute("aria-busy", "true");
  deleteButton.disabled = true; // its confirmation names the points at stake: load them first
  try {
    profile = (await gql(PROFILE_QUERY)).me;
    paintProfile();
    deleteButton.disabled = false;
  } catch (failure) {
    say($("#profile-error"), failure.message);
  } finally {
    form.removeAttribute("aria-busy");
  }
}

export function forgetProfile() {
  profile = null;
  $("#profile-form").reset();
}

export function paintProfile() {
  if (!profile) return;
  const form = $("#profile-form");
  $("#profile-phone").textContent = profile.phone;
  for (const name of FIELDS) form.elements[name].value = profile[name] ?? "";
  const [year, month, day] = profile.birthDate ? profile.birthDate.split("-") : ["", "", ""];
  form.elements.birthDay.value = day ? String(Number(day)) : "";
  form.elements.birthMonth.value = month ? String(Number(month)) : "";
  form.elements.birthYear.value = year;
  const granted = new Map(profile.marketingConsents.map((c) => [c.channel, c.granted]));
  const fieldset = $("#consents");
  const legend = fieldset.querySelector("legend");
  fieldset.replaceChildren(
    legend,
    ...CHANNELS.map((channel) =>
      h(
        "div",
        { class: "switch" },
        h("input", {
          type: "checkbox",
          id: `consent-${channel}`,
          name: "consent",
          value: channel,
          checked: granted.get(channel) === true,
        }),
        h("label", { for: `consent-${channel}`, text: t(`consents.${channel}`) }),
      ),
    ),
  );
}
