// kiosk.js - the three-face rating at a one-stop counter.
//
// Screens: unpaired / failed / nosector (what an officer must do), officer
// (choose the sector once paired), start (the faces), reason (the
// follow-up after the lowest face), thanks, pin (the staff PIN) and staff
// (the staff mode: change the sector; set or end the officer on duty,
// whose name is shown there and never on a citizen's screen).  The
// citizen's screens hold no staff control but the way to the PIN; the
// staff's screens warn when the page is not a secure context (no offline
// copy of the page).  Every rating is written to the IndexedDB queue
// (queue.js) before it is sent; send.js's pump posts the queue in batches.
// A heartbeat tells the server every 5 minutes (and at start) how many
// ratings wait in the queue.
import { initLang, lang, onLang, setLang, t, pick, pickLang, pickList } from "./i18n.js";
import { request, vietnamTime, randomId } from "./api.js";
import { openQueue } from "./queue.js";
import { startSending, refusedCount } from "./send.js";
import { KEY, get, set, getJSON } from "./storage.js";
import { h, fill } from "./dom.js";

// How long a screen waits for a touch: then the citizen has left (the next
// one starts on the faces, in Vietnamese) or the staff mode closes.
const IDLE = { reason: 20000, thanks: 5000, dossier: 120000, lang: 60000, staff: 60000 };
const HOLD = 60000;          // a rating awaiting its follow-up is not sent before
const GHOST = 400;           // taps this soon after a screen change are ignored
const HEARTBEAT = 300000;    // the server hears from the kiosk this often
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
let queue, token, config, form, sector;
let pump = () => {};         // send.js's, once the tablet has a token
let screen = "loading", why = "";
let shownAt = 0, idleTimer = 0;
let pinError = null, pinBusy = false;   // {key, vars} of the PIN screen's refusal
let pending = null;          // the rating whose follow-up is on screen
let dossier = "", dossierError = "";   // the code, or the text refused
// The officer on duty as the server last said: {code, name}; null: none;
// undefined: not heard yet.  Shown in the staff mode only.
let duty, dutyError = null, dutyBusy = false, dutyTyped = "";

/* ---- screens ---- */

function show(name, reason) {
	screen = name;
	why = reason || "";
	shownAt = performance.now();
	pinError = null;
	dutyError = null;
	armIdle();
	render();
	if (name === "pin")
		$("k-pin").focus({ preventScroll: true });
	else
		$("k-title").focus({ preventScroll: true });
}

// The current screen's idle time in ms; 0: it waits.
function idleTime() {
	switch (screen) {
	case "reason": return IDLE.reason;
	case "thanks": return IDLE.thanks;
	case "pin": case "staff": return IDLE.staff;
	case "start": return dossier || dossierError ? IDLE.dossier : lang() !== "vi" ? IDLE.lang : 0;
	default: return 0;
	}
}

function armIdle() {
	clearTimeout(idleTimer);
	const ms = idleTime();
	if (ms)
		idleTimer = setTimeout(idle, ms);
}

function idle() {
	if (screen === "reason") {
		finishReason(null, true);
	} else if (screen === "start") {
		setLang("vi");
		setDossier("");
	} else {
		backToStart();
	}
}

// The next citizen starts in Vietnamese.
function backToStart() {
	show("start");
	setLang("vi");
}

function ghost() {
	return performance.now() - shownAt < GHOST;
}

// The staff's warning that this page cannot work offline, or null.
function insecureWarning() {
	return window.isSecureContext ? null : h("p", { class: "k-warning", role: "note" }, t("k.insecure"));
}

function sectorChoices() {
	return h("div", { class: "k-choices" }, config.sectors.map((s) =>
		h("button", {
			type: "button", class: "k-choice", lang: "vi",
			"aria-current": s.code === sector ? "true" : null,
			onclick: () => chooseSector(s.code),
		}, s.name)));
}

function pinForm() {
	const input = h("input", {
		id: "k-pin", type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "6",
		"aria-invalid": pinError ? "true" : null, "aria-describedby": pinError ? "k-pin-err" : null,
	});
	return h("form", {
		class: "k-pin", onsubmit: (e) => {
			e.preventDefault();
			checkPin(input.value.trim());
		},
	}, h("label", { for: "k-pin" }, t("k.pinLabel")), input,
	h("button", { type: "submit", class: "k-small", disabled: pinBusy }, t("k.pinOpen")),
	pinError ? h("p", { id: "k-pin-err", class: "k-error", role: "alert" }, t(pinError.key, pinError.vars)) : null);
}

function render() {
	const title = $("k-title"), body = $("k-body"), tools = $("k-tools");
	title.removeAttribute("lang");
	title.removeAttribute("data-i18n");
	fill(tools);
	fill($("k-place"));
	if (config) {
		const s = config.sectors.find((x) => x.code === sector);
		fill($("k-place"), h("span", { lang: "vi" }, config.agency.name, " · ", config.counter || ""),
			s && screen !== "officer" ? h("span", { lang: "vi", class: "k-sector" }, s.name) : null);
	}
	const simple = (head, text, extra) => {
		title.textContent = t(head);
		fill(body, h("p", { class: "k-text" }, t(text)), extra);
	};
	switch (screen) {
	case "loading":
		title.textContent = t("k.loading");
		fill(body);
		break;
	case "unpaired":
		simple(why === "revoked" ? "k.revoked" : why === "role" ? "k.wrongRole" : "k.unpaired",
			why === "revoked" ? "k.revokedText" : why === "role" ? "k.wrongRoleText" : "k.unpairedText",
			[h("p", { class: "k-text", id: "k-kept" }), insecureWarning()]);
		updateStatus();
		break;
	case "failed":
		simple("k.failed", "k.failedText", insecureWarning());
		break;
	case "nosector":
		simple("k.noSector", "k.noSectorText", insecureWarning());
		break;
	case "officer":
		title.textContent = t("k.officer");
		fill(body, h("p", { class: "k-text" }, t("k.officerText")), insecureWarning(), sectorChoices());
		break;
	case "pin":
		title.textContent = t("k.pin");
		fill(body, h("p", { class: "k-text" }, t("k.pinText")), pinForm(),
			h("button", { type: "button", class: "k-choice k-skip", onclick: () => show("start") }, t("k.back")));
		break;
	case "staff": {
		const s = config.sectors.find((x) => x.code === sector);
		title.textContent = t("k.staff");
		fill(body, h("p", { class: "k-text" }, t("k.staffText")), insecureWarning(),
			config.sectors.length > 1
				? [h("h2", { class: "k-h2" }, t("k.officer")), sectorChoices()]
				: h("p", { class: "k-text" }, t("k.oneSector"), " ", h("span", { lang: "vi" }, s ? s.name : "")),
			dutyForm(),
			h("button", { type: "button", class: "k-choice k-skip", onclick: () => show("start") }, t("k.staffLeave")));
		break;
	}
	case "start":
		title.textContent = pick(form.overall.text);
		title.lang = pickLang(form.overall.text);
		fill(body, faces(), dossierForm());
		tools.append(h("button", { type: "button", class: "k-small", onclick: () => ghost() || show("pin") },
			t("k.staffOpen")));
		break;
	case "reason": {
		const q = pending.followup;
		title.textContent = pick(q.text);
		title.lang = pickLang(q.text);
		fill(body, h("div", { class: "k-choices" },
			q.values.map((v, i) => h("button", {
				type: "button", class: "k-choice", onclick: () => ghost() || finishReason(v),
			}, pickList(q.labels, i))),
			h("button", { type: "button", class: "k-choice k-skip", onclick: () => ghost() || finishReason(null) },
				t("k.skip"))));
		break;
	}
	case "thanks":
		simple("k.thanks", "k.thanksText");
		break;
	}
}

function faces() {
	const { min, max } = form.scale;
	const row = h("div", { class: "k-faces" });
	for (let v = min; v <= max; v++) {
		// sad, smiling, laughing: the first, middle and last points of the scale
		const face = v === min ? 1 : v === max ? 3 : 2;
		const svg = document.createElementNS(SVG, "svg");
		const use = document.createElementNS(SVG, "use");
		svg.setAttribute("aria-hidden", "true");
		svg.setAttribute("focusable", "false");
		svg.setAttribute("viewBox", "0 0 100 100");
		use.setAttribute("href", `/static/faces.svg#face-${face}`);
		svg.append(use);
		row.append(h("button", {
			type: "button", class: `k-face k-face-${face}`, "data-value": v,
			onclick: () => ghost() || rate(v),
		}, svg, h("span", {}, pickList(form.scale.labels, v - min))));
	}
	return row;
}

/* ---- dossier code (typed, or from a barcode scanner that types and ends with Enter) ---- */

function parseDossier(text) {
	let s = text.trim();
	if (/^https?:|[?&]dossier=/i.test(s)) {
		try {
			s = (new URL(s, location.origin).searchParams.get("dossier") || "").trim();
		} catch {
			return "";
		}
	}
	if (!s || new TextEncoder().encode(s).length > 64 || /[\u0000-\u001f\u007f]/.test(s))
		return "";
	return s;
}

function setDossier(code, refused) {
	dossier = code;
	dossierError = refused || "";
	if (screen === "start") {
		armIdle();
		render();
		const input = $("k-dossier");
		if (input && dossierError) {
			input.focus({ preventScroll: true });
			input.select();   // the next scan replaces the refused text
		} else {
			$("k-title").focus({ preventScroll: true });
		}
	}
}

function dossierForm() {
	if (dossier)
		return h("div", { class: "k-dossier" },
			h("p", { lang: "vi" }, t("k.dossierSet", { code: dossier })),
			h("button", { type: "button", class: "k-small", onclick: () => setDossier("") }, t("k.dossierClear")));
	const input = h("input", {
		id: "k-dossier", type: "text", autocomplete: "off", spellcheck: "false", enterkeyhint: "done",
		"aria-invalid": dossierError ? "true" : null, "aria-describedby": dossierError ? "k-dossier-err" : null,
	});
	input.value = dossierError;
	return h("form", {
		class: "k-dossier", onsubmit: (e) => {
			e.preventDefault();
			const code = parseDossier(input.value);
			setDossier(code, code ? "" : input.value.trim());
		},
	}, h("label", { for: "k-dossier" }, t("k.dossier")), input,
	h("button", { type: "submit", class: "k-small" }, t("k.dossierUse")),
	dossierError ? h("p", { id: "k-dossier-err", class: "k-error" }, t("k.dossierBad")) : null);
}

// On the start screen a scanner's keystrokes go to the dossier field
// wherever the focus was.
function onKey(e) {
	if (screen !== "start" || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1)
		return;
	const input = $("k-dossier");
	const tg = e.target;
	if (!input || tg === input || tg.tagName === "INPUT" || (e.key === " " && tg.tagName === "BUTTON"))
		return;
	e.preventDefault();
	input.focus();
	input.value = (input.value === dossierError ? "" : input.value) + e.key;
}

/* ---- rating ---- */

function rate(value) {
	const body = {
		response_id: randomId("k-"), form: form.id, agency: config.agency.code, sector,
		channel: "kiosk", submitted_at: vietnamTime(), answers: { [form.overall.id]: value },
	};
	if (dossier)
		body.dossier_code = dossier;
	dossier = "";
	dossierError = "";
	const followup = (form.followups || []).find((q) => q.when && (q.when[form.overall.id] || []).includes(value));
	const rec = { id: body.response_id, body, hold: followup ? Date.now() + HOLD : 0 };
	const saved = queue.add(rec).then(updateStatus, storeFailed);
	if (followup) {
		pending = { rec, saved, followup };
		show("reason");
	} else {
		saved.then(pump);
		show("thanks");
	}
}

// value null: skipped; gone: nobody answered before the idle time.
async function finishReason(value, gone) {
	const p = pending;
	pending = null;
	if (value != null)
		p.rec.body.answers[p.followup.id] = value;
	if (gone)
		backToStart();
	else
		show("thanks");
	p.rec.hold = 0;
	await p.saved;
	if (p.rec.seq != null)
		await queue.put(p.rec).catch(storeFailed);
	pump();
}

function storeFailed() {
	$("k-status").textContent = t("k.noStore");
}

/* ---- what waits to be sent ---- */

async function updateStatus() {
	if (!queue)
		return;
	const n = await queue.count().catch(() => 0);
	const r = refusedCount();
	const parts = [n ? t("k.unsent", { n }) : t("k.allSent")];
	if (r)
		parts.push(t("k.refused", { n: r }));
	if (!queue.durable)
		parts.push(t("k.noStore"));
	$("k-status").textContent = parts.join(" · ");
	const kept = $("k-kept");
	if (kept)
		kept.textContent = n ? t("k.kept", { n }) : "";
}

/* ---- the officer on duty, and the heartbeat ---- */

function dutyNow() {
	if (!duty)
		return t(duty === null ? "k.dutyNone" : "k.dutyUnknown");
	return [t("k.dutyNow"), " ", h("strong", { lang: "vi" }, duty.name), ` (${duty.code})`];
}

function dutyForm() {
	const input = h("input", {
		id: "k-duty", type: "text", autocomplete: "off", spellcheck: "false", autocapitalize: "characters",
		maxlength: "32", "aria-invalid": dutyError ? "true" : null, "aria-describedby": dutyError ? "k-duty-err" : null,
	});
	input.value = dutyError ? dutyTyped : "";   // a refused code stays, to be corrected
	return h("section", { class: "k-duty", "aria-labelledby": "k-duty-h" },
		h("h2", { id: "k-duty-h", class: "k-h2" }, t("k.duty")),
		h("p", { id: "k-duty-now", class: "k-text", tabindex: "-1" }, dutyNow()),
		h("form", {
			class: "k-pin", onsubmit: (e) => {
				e.preventDefault();
				setDuty(input.value.trim());
			},
		}, h("label", { for: "k-duty" }, t("k.dutyCode")), input,
		h("button", { type: "submit", class: "k-small", disabled: dutyBusy }, t("k.dutySet")),
		dutyError ? h("p", { id: "k-duty-err", class: "k-error", role: "alert" }, t(dutyError.key, dutyError.vars)) : null),
		duty ? h("button", { type: "button", class: "k-small", disabled: dutyBusy, onclick: () => setDuty(null) },
			t("k.dutyEnd")) : null);
}

// Start the shift of the officer with `code`, or end it (code null).
async function setDuty(code) {
	if (dutyBusy)
		return;
	dutyTyped = code || "";
	if (code !== null && !/^[A-Za-z0-9._-]{1,32}$/.test(code)) {
		dutyError = { key: "k.dutyFormat" };
	} else {
		dutyBusy = true;
		render();
		const res = await request("/api/kiosk/shift", { method: "POST", token, body: { officer: code } });
		dutyBusy = false;
		if (res.status === 200 && res.data) {
			duty = res.data.officer;
			dutyError = null;
		} else if (res.status === 401) {
			return unpaired(res);
		} else {
			dutyError = res.status === 422 ? { key: "k.dutyRefused" }
				: res.status === 0 ? { key: "k.dutyOffline" } : { key: "k.pinFailed", vars: { status: res.status } };
		}
	}
	if (screen !== "staff")
		return;
	render();
	$(dutyError ? "k-duty" : "k-duty-now").focus({ preventScroll: true });
}

// Tell the server the kiosk is here and how many ratings wait; its answer
// says who is on duty (the staff mode's text is updated in place, so an
// officer typing a code loses nothing).
async function heartbeat() {
	const queued = await queue.count().catch(() => null);
	if (queued === null)
		return;
	const res = await request("/api/kiosk/heartbeat", { method: "POST", token, body: { queued } });
	if (res.status !== 200 || !res.data)
		return;
	duty = res.data.officer;
	const now = $("k-duty-now");
	if (now)
		fill(now, dutyNow());
}

/* ---- start-up ---- */

function unpaired(res) {
	const msg = (res && res.error && res.error.message) || "";
	show("unpaired", res && res.status === 403 ? "role" : /revok/i.test(msg) ? "revoked" : "");
}

async function load() {
	const owner = token.split(".")[0];
	let res = await request("/api/kiosk", { token });
	if (res.status === 401 || res.status === 403)
		return unpaired(res);
	if (res.status === 200 && res.data) {
		config = res.data;
		set(KEY.config, JSON.stringify({ owner, config }));
	} else {
		const c = getJSON(KEY.config);
		if (!c || c.owner !== owner) {
			show("failed");
			return setTimeout(load, 10000);
		}
		config = c.config;
	}
	res = await request(`/api/forms/${encodeURIComponent(config.form)}`);
	if (res.status === 200 && res.data) {
		form = res.data;
		set(KEY.form, JSON.stringify(form));
	} else {
		form = getJSON(KEY.form);
		if (!form || form.id !== config.form) {
			show("failed");
			return setTimeout(load, 10000);
		}
	}
	const codes = (config.sectors || []).map((s) => s.code);
	sector = codes.length === 1 ? codes[0] : codes.includes(get(KEY.sector)) ? get(KEY.sector) : "";
	if (!codes.length)
		show("nosector");
	else if (!sector)
		show("officer");
	else
		show("start");
	pump();
}

function chooseSector(code) {
	sector = code;
	set(KEY.sector, code);
	show("start");
}

/* ---- staff mode: the server checks this kiosk's PIN and counts wrong tries ---- */

async function checkPin(pin) {
	if (pinBusy)
		return;
	if (!/^[0-9]{6}$/.test(pin)) {
		pinError = { key: "k.pinFormat" };
	} else {
		pinBusy = true;
		render();
		const res = await request("/api/kiosk/pin", { method: "POST", token, body: { pin } });
		pinBusy = false;
		if (screen !== "pin")
			return;
		if (res.status === 200)
			return show("staff");
		if (res.status === 401)
			return unpaired(res);
		pinError = res.status === 403 ? { key: "k.pinWrong" }
			: res.status === 429 ? { key: "k.pinLocked", vars: { m: Math.max(1, Math.ceil((res.retryAfter || 60) / 60)) } }
			: res.status === 409 ? { key: "k.pinNone" }
			: res.status === 0 ? { key: "k.pinOffline" } : { key: "k.pinFailed", vars: { status: res.status } };
	}
	render();
	const input = $("k-pin");
	input.focus({ preventScroll: true });
}

async function boot() {
	initLang();
	onLang(() => { render(); updateStatus(); armIdle(); });
	document.addEventListener("keydown", onKey);
	for (const ev of ["pointerdown", "keydown"])
		document.addEventListener(ev, armIdle, true);
	if (window.isSecureContext && navigator.serviceWorker)
		navigator.serviceWorker.register("/sw.js").catch(() => {});
	if (navigator.storage && navigator.storage.persist)
		navigator.storage.persist().catch(() => {});
	queue = await openQueue();
	updateStatus();
	token = get(KEY.token);
	if (!token)
		return show("unpaired");
	pump = startSending(queue, token, { unpaired, changed: updateStatus });
	heartbeat();
	setInterval(heartbeat, HEARTBEAT);
	await load();
}

boot();
