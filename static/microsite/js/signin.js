// Sign in (and first-time registration): mobile number -> SMS code -> signed in.

import { requestCode, verifyCode } from "./api.js";
import { $, busy, say } from "./dom.js";
import { t } from "./i18n.js";

let phone = null;
let resendAt = 0;
let timer = null;

export function setupSignIn({ onSignedIn, showScreen }) {
  const phoneForm = $("#phone-form");
  const codeForm = $("#code-form");
  const resend = $("#resend");

  phoneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#phone");
    const error = $("#phone-error");
    say(error, "");
    input.removeAttribute("aria-invalid");
    try {
      await busy(phoneForm.querySelector("button[type=submit]"), async () => {
        const sent = await requestCode(input.value.trim());
        codeSent(sent);
      });
      showScreen("code");
      $("#code").focus();
    } catch (failure) {
      input.setAttribute("aria-invalid", "true");
      say(error, failure.message);
      input.focus();
    }
  });

  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#code");
    const error = $("#code-error");
    say(error, "");
    say($("#code-status"), "");
    const code = input.value.replace(/\D/g, "");
    if (code.length !== 6) {
      input.setAttribute("aria-invalid", "true");
      say(error, t("code.invalidFormat"));
      input.focus();
      return;
    }
    try {
      const session = await busy(codeForm.querySelector("button[type=submit]"), () =>
        verifyCode(phone, code),
      );
      input.value = "";
      input.removeAttribute("aria-invalid");
      stopTimer();
      onSignedIn(session);
    } catch (failure) {
      input.setAttribute("aria-invalid", "true");
      say(error, failure.message);
      input.select();
    }
  });

  resend.addEventListener("click", async () => {
    say($("#code-error"), "");
    try {
      await busy(resend, async () => codeSent(await requestCode(phone)));
      say($("#code-status"), t("code.resent"));
      $("#code").focus();
    } catch (failure) {
      say($("#code-error"), failure.message);
    }
    paintResend();
  });

  $("#change-number").addEventListener("click", () => {
    stopTimer();
    say($("#code-error"), "");
    say($("#code-status"), "");
    showScreen("phone");
    $("#phone").focus();
  });
}

function codeSent(sent) {
  phone = sent.phone;
  resendAt = Date.now() + sent.resendAfterSeconds * 1000;
  $("#phone").value = sent.phone;
  paintSignIn();
  stopTimer();
  timer = setInterval(paintResend, 1000);
}

function stopTimer() {
  if (timer) clearInterval(timer);
  timer = null;
}

function paintResend() {
  const resend = $("#resend");
  if (resend.getAttribute("aria-busy")) return;
  const seconds = Math.ceil((resendAt - Date.now()) / 1000);
  if (seconds > 0) {
    resend.disabled = true;
    resend.textContent = t("code.resendIn", { seconds });
  } else {
    resend.disabled = false;
    resend.textContent = t("code.resend");
    stopTimer();
  }
}

/** Re-draw the texts that carry data (after a language switch). */
export function paintSignIn() {
  if (phone) $("#code-sent").textContent = t("code.sent", { phone });
  paintResend();
}
