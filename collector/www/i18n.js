// i18n.js - the page language: Vietnamese first, English on request.
// The choice is kept in localStorage "sipas.lang".  Static text is marked in
// the HTML with data-i18n="key" (text) and data-i18n-label="key"
// (aria-label); pages that build their own text re-render through onLang().
import { strings } from "./strings.js";

const KEY = "sipas.lang";
const LANGS = ["vi", "en"];
const listeners = [];
let current = read();

function read() {
	try {
		const v = localStorage.getItem(KEY);
		return LANGS.includes(v) ? v : "vi";
	} catch {
		return "vi";
	}
}

export function lang() {
	return current;
}

// An interface string, with {name} replaced from vars.
export function t(key, vars) {
	return tIn(current, key, vars);
}

// The same in a given language, for text shown in both.
export function tIn(l, key, vars) {
	let s = (strings[l] || strings.vi)[key] ?? strings.vi[key] ?? key;
	if (vars)
		s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
	return s;
}

// A text from a form: {"vi": ..., "en": ...}; Vietnamese when the other
// language is missing.
export function pick(text) {
	if (text == null)
		return "";
	if (typeof text === "string")
		return text;
	return text[current] ?? text.vi ?? "";
}

// The language a form text is actually shown in (for its lang attribute).
export function pickLang(text) {
	return text && typeof text === "object" && text[current] == null ? "vi" : current;
}

// Labels of a choice list in the current language, falling back to vi.
export function pickList(labels, i) {
	if (!labels)
		return "";
	const list = labels[current] ?? labels.vi ?? [];
	return list[i] ?? (labels.vi || [])[i] ?? "";
}

export function onLang(fn) {
	listeners.push(fn);
}

function apply() {
	document.documentElement.lang = current;
	for (const el of document.querySelectorAll("[data-i18n]"))
		el.textContent = t(el.dataset.i18n);
	for (const el of document.querySelectorAll("[data-i18n-label]"))
		el.setAttribute("aria-label", t(el.dataset.i18nLabel));
	for (const b of document.querySelectorAll(".lang-switch")) {
		b.textContent = t("switch");
		b.lang = current === "vi" ? "en" : "vi";
	}
}

export function setLang(l) {
	if (!LANGS.includes(l) || l === current)
		return;
	current = l;
	try {
		localStorage.setItem(KEY, l);
	} catch {
		/* not remembered; still switched */
	}
	apply();
	for (const fn of listeners)
		fn(l);
}

// Wire every .lang-switch button and show the page in the chosen language.
export function initLang() {
	for (const b of document.querySelectorAll(".lang-switch"))
		b.addEventListener("click", () => setLang(current === "vi" ? "en" : "vi"));
	apply();
}
