// console.js - what every page of the office's console shares (docs/console.md):
// its interface text added to the pages' string table, the signed-in user
// (GET /console/api/me, or the sign-in page with ?next= on 401), the header
// (skip link, brand, language switch, and the navigation showing only the
// screens the user's role may use), the sign-out button, requests to
// /console/api/ (cookie session; every state-changing request carries the
// X-CSRF-Token of the sign-in reply), and errors shown in a summary that
// links to the field they name.
import { strings } from "./strings.js";
import { consoleStrings } from "./console-strings.js";
import { initLang, onLang, lang, t } from "./i18n.js";
import { h, fill } from "./dom.js";

// The console's text lives beside the public pages' in one table, so the
// language switch and data-i18n work the same on every page.
for (const l of Object.keys(consoleStrings))
	Object.assign(strings[l], consoleStrings[l]);

export { onLang, lang, t, h, fill };
export const $ = (id) => document.getElementById(id);

// The screens of the header, in its order; roles: who may open them (the
// API refuses the others with 403 whatever a page shows).
const SCREENS = [
	{ path: "/console", key: "c.nav.overview", roles: ["office", "agency", "viewer"] },
	{ path: "/console/live", key: "c.nav.live", roles: ["office", "agency", "viewer"] },
	{ path: "/console/alerts", key: "c.nav.alerts", roles: ["office", "agency", "viewer"] },
	{ path: "/console/devices", key: "c.nav.devices", roles: ["office", "agency"] },
	{ path: "/console/comments", key: "c.nav.comments", roles: ["office", "agency", "viewer"] },
	{ path: "/console/imports", key: "c.nav.imports", roles: ["office"] },
	{ path: "/console/quarter", key: "c.nav.quarter", roles: ["office"] },
	{ path: "/console/users", key: "c.nav.users", roles: ["office"] },
	{ path: "/console/audit", key: "c.nav.audit", roles: ["office"] },
];

// Where the devices page leaves a pairing's reply for the printable sheet.
export const SHEET_KEY = "sipas.console.sheet";

let csrf = "";
let user = null;

// The sign-in page, coming back to this page once signed in.
export function loginUrl() {
	return `/console/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

// The error of a reply: the collector's {"error": {code, message, field}}
// (or the same fields at the top level); null when there is none.
function errorOf(data) {
	if (!data || typeof data !== "object")
		return null;
	if (data.error && typeof data.error === "object")
		return data.error;
	return typeof data.code === "string" ? data : null;
}

// Seconds from a Retry-After header, or null.
function retryAfter(v) {
	return v && /^\d+$/.test(v.trim()) ? Number(v) : null;
}

// A JSON request to the console's API: {status, data, error, retryAfter};
// status 0 when the server could not be reached.  A 401 sends the page to
// the sign-in page unless {signedOut: true} says the caller handles it.
// Never throws.
export async function api(path, { method = "GET", body, signedOut = false } = {}) {
	const headers = { Accept: "application/json" };
	if (body !== undefined)
		headers["Content-Type"] = "application/json";
	if (method !== "GET" && csrf)
		headers["X-CSRF-Token"] = csrf;
	let res;
	try {
		res = await fetch(path, {
			method, headers, cache: "no-store", credentials: "same-origin",
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch (e) {
		return { status: 0, data: null, error: { code: "network", message: String(e) }, retryAfter: null };
	}
	let data = null;
	if ((res.headers.get("Content-Type") || "").includes("json")) {
		try {
			data = await res.json();
		} catch {
			data = null;
		}
	}
	if (res.status === 401 && !signedOut)
		location.assign(loginUrl());
	return { status: res.status, data, error: errorOf(data), retryAfter: retryAfter(res.headers.get("Retry-After")) };
}

// The same for a multipart form with upload progress (fetch has none):
// onProgress(loaded, total) while the body goes out.
export function upload(path, formData, onProgress) {
	return new Promise((resolve) => {
		const xhr = new XMLHttpRequest();
		xhr.open("POST", path);
		xhr.withCredentials = true;
		xhr.setRequestHeader("Accept", "application/json");
		if (csrf)
			xhr.setRequestHeader("X-CSRF-Token", csrf);
		xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0));
		xhr.addEventListener("load", () => {
			let data = null;
			try {
				data = JSON.parse(xhr.responseText);
			} catch {
				data = null;
			}
			if (xhr.status === 401)
				location.assign(loginUrl());
			resolve({ status: xhr.status, data, error: errorOf(data), retryAfter: retryAfter(xhr.getResponseHeader("Retry-After")) });
		});
		const fail = () => resolve({ status: 0, data: null, error: { code: "network" }, retryAfter: null });
		xhr.addEventListener("error", fail);
		xhr.addEventListener("abort", fail);
		xhr.send(formData);
	});
}

// Keep the signed-in user of a sign-in or /me reply.
export function remember(data) {
	user = data;
	csrf = data && typeof data.csrf === "string" ? data.csrf : "";
}

export function currentUser() {
	return user;
}

// What a failed request means to the person, in the page's language.
export function describeError(res) {
	if (res.status === 0)
		return t("c.err.network");
	if (res.status === 403)
		return t("c.err.forbidden");
	if (res.status === 429)
		return t("c.err.tooMany", { s: res.retryAfter ?? 60 });
	if (res.status === 413)
		return t("c.err.tooLarge");
	const msg = res.error && res.error.message;
	if (msg)
		return msg;
	return t("c.err.server", { status: res.status });
}

// Show in `box` (an .error-summary) what went wrong: its message, and when
// the error names a field of the page (fields: API field name -> input
// id), a link to that field, which is marked invalid.  Clears earlier
// marks.  Focuses the summary so a screen reader reads it.
export function showError(box, res, fields = {}) {
	clearErrors(box);
	const field = res.error && res.error.field;
	const id = field && fields[field];
	const input = id && $(id);
	const text = describeError(res);
	let item = h("li", {}, text);
	if (input) {
		input.setAttribute("aria-invalid", "true");
		input.setAttribute("aria-describedby", `${id}-error`);
		input.after(h("p", { class: "error-message", id: `${id}-error` }, text));
		item = h("li", {}, h("a", { href: `#${id}`, onclick: (e) => { e.preventDefault(); input.focus(); } }, text));
	}
	fill(box, h("h2", {}, t("c.err.title")), h("ul", {}, item));
	box.hidden = false;
	box.focus();
}

export function clearErrors(box) {
	for (const el of document.querySelectorAll("[aria-invalid='true']")) {
		el.removeAttribute("aria-invalid");
		el.removeAttribute("aria-describedby");
	}
	for (const el of document.querySelectorAll(".error-message"))
		el.remove();
	if (box) {
		fill(box);
		box.hidden = true;
	}
}

// A time of the API (ISO 8601) in Vietnam time, "2026-11-27 10:15"; "—"
// for none.
export function fmtTime(iso) {
	if (!iso)
		return "—";
	const ms = Date.parse(iso);
	if (Number.isNaN(ms))
		return String(iso);
	const d = new Date(ms + 7 * 3600 * 1000);
	const p = (n) => String(n).padStart(2, "0");
	return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

// The current quarter in Vietnam time (UTC+7 all year): 2026Q4.
export function currentQuarter() {
	const d = new Date(Date.now() + 7 * 3600 * 1000);
	return `${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
}

// A number in the page's language (1.234 in Vietnamese, 1,234 in English).
export function fmtNumber(n) {
	return n == null ? "—" : Number(n).toLocaleString(lang() === "vi" ? "vi-VN" : "en-GB");
}

// The header every page shares, built here so that a page holds only its
// <head> and its <main> around an empty <header class="c-header">: the skip
// link first in the body, the bar (brand, #who, the language switch) and,
// on a signed-in page, the navigation #nav that renderHeader fills.  Its
// text comes from data-i18n, so it must be built before initLang() wires
// the switch and translates the page.
function buildHeader(withNav) {
	const header = document.querySelector("header.c-header");
	document.body.prepend(h("a", { class: "c-skip", href: "#main", "data-i18n": "c.skip" }));
	fill(header,
		h("div", { class: "c-bar" },
			h("a", { class: "brand", href: "/console", "data-i18n": "c.brand" }),
			h("div", { class: "c-tools" },
				h("div", { id: "who", class: "c-who" }),
				h("button", { type: "button", class: "lang-switch" }))),
		withNav ? h("nav", { id: "nav", class: "c-nav", "data-i18n-label": "c.nav.label" }) : null);
}

// The header's signed-in part: a link per screen the role may use (the
// current one marked), who is signed in, and the sign-out button.
function renderHeader() {
	const nav = $("nav");
	const who = $("who");
	if (!nav || !user)
		return;
	const here = location.pathname.replace(/\/$/, "");
	fill(nav, h("ul", {}, SCREENS.filter((s) => s.roles.includes(user.role)).map((s) =>
		h("li", {}, h("a", { href: s.path, "aria-current": here === s.path ? "page" : null }, t(s.key))))));
	if (who)
		fill(who,
			h("span", { class: "c-user" }, t("c.signedInAs", { name: user.name || user.login, role: t(`c.role.${user.role}`) })),
			h("button", { type: "button", class: "c-signout", onclick: signOut }, t("c.signOut")));
}

export async function signOut() {
	await api("/console/api/logout", { method: "POST", signedOut: true });
	remember(null);
	location.replace("/console/login");
}

// Start a signed-in page: the header, the language, the user (to the
// sign-in page when signed out), the navigation.  `screen` is the page's
// path in SCREENS; a role that may not use it sees a message instead of the
// page (#screen hidden).
// Resolves to the user, or null when the page cannot go on.
export async function startPage(screen) {
	buildHeader(true);
	initLang();
	onLang(renderHeader);
	const status = $("page-status");
	const res = await api("/console/api/me");
	if (res.status === 401)
		return null;
	if (res.status !== 200 || !res.data) {
		if (status)
			fill(status, h("p", { class: "c-problem" }, describeError(res)));
		return null;
	}
	remember(res.data);
	renderHeader();
	const s = SCREENS.find((x) => x.path === screen);
	if (s && !s.roles.includes(user.role)) {
		if (status)
			fill(status, h("p", { class: "c-problem" }, t("c.err.notForRole")));
		const main = $("screen");
		if (main)
			main.hidden = true;
		return null;
	}
	if (status)
		fill(status);
	return user;
}

// A page the signed-out may use (sign-in, setting a password): the header
// without navigation, and the language.
export function startPublicPage() {
	buildHeader(false);
	initLang();
}

// Wire a confirmation step: `open` shows `panel` (and focuses its first
// control), `cancel` hides it and gives the focus back to `open`.
export function confirmStep(open, panel, cancel) {
	open.addEventListener("click", () => {
		panel.hidden = false;
		const first = panel.querySelector("input, button");
		if (first)
			first.focus();
	});
	cancel.addEventListener("click", () => {
		panel.hidden = true;
		open.focus();
	});
}

// A table with a caption and column headers; rows of cells (strings or
// nodes).  Empty: `empty` in a paragraph instead.
export function table(caption, headers, rows, empty) {
	if (!rows.length)
		return h("p", { class: "c-empty" }, empty);
	// a table wider than the screen scrolls in its own box, which the
	// keyboard can reach
	return h("div", { class: "c-table-wrap", role: "region", tabindex: "0", "aria-label": caption },
		h("table", { class: "c-table" },
			h("caption", {}, caption),
			h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
			h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => i === 0 ?
				h("th", { scope: "row" }, c) : h("td", {}, c)))))));
}
