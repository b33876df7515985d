// Small DOM helpers. Text always goes in with textContent: nothing from the API is
// ever parsed as HTML.

import { t } from "./i18n.js";

export const $ = (selector, root = document) => root.querySelector(selector);

/** h("li", {class: "x", dataset: {id: 1}}, "text", child) -> element */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "text") el.textContent = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Show a message in an error (role=alert) or status (role=status) paragraph. */
export function say(el, message) {
  el.textContent = message ?? "";
  el.hidden = !message;
}

/**
 * Run an async action with a button in its loading state: disabled, aria-busy, a
 * "One moment…" label; restored afterwards whatever happens.
 */
export async function busy(button, action) {
  const label = button.textContent;
  const key = button.dataset.i18n;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = t("busy");
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = key ? t(key) : label;
  }
}

/** An <img> for an SVG document the API sent as markup: never inserted as HTML. */
export function svgImage(svgMarkup, alt) {
  const bytes = new TextEncoder().encode(svgMarkup);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return h("img", { src: `data:image/svg+xml;base64,${btoa(binary)}`, alt, class: "qr-image" });
}

/** Offer JSON data as a file download. */
export function downloadJson(data, filename) {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A link from the API, only if it is http(s): never a javascript: URL. */
export function safeUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value, location.origin);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}
