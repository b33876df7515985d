// Profile, marketing consents, download my data, delete my account.

import { gql, unwrap } from "./api.js";
import { $, busy, downloadJson, h, say } from "./dom.js";
import { t } from "./i18n.js";

const CHANNELS = ["SMS", "VIBER", "EMAIL", "PUSH"];
const FIELDS = ["firstName", "lastName", "birthDate", "gender", "city", "email", "language"];

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
      const culprit = failure.field && form.elements[failure.field];
      if (culprit) {
        culprit.setAttribute("aria-invalid", "true");
        culprit.focus();
      }
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
      points: profile ? profile.balance.available : 0,
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
