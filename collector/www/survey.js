// survey.js - the phone questionnaire behind a signed link
// /s/{form}?agency=&sector=&dossier=&exp=&sig= (question pages: one element
// per screen, the first with the form's title and description, then the
// overall question, follow-ups, demographics, comment, a review with
// "change" links, and the receipt).
//
// Screens are addressed by the URL fragment, "#/{step}" or "#/{step}/{question}",
// so the browser's back button walks them.  Answers live in sessionStorage
// under the link, so a reload loses nothing and the response_id made once
// per link makes a re-sent submission a duplicate, not a second rating.
import { initLang, onLang, lang, t, pick, pickLang, pickList } from "./i18n.js";
import { request, vietnamTime, randomId } from "./api.js";
import { h, fill } from "./dom.js";

const COMMENT_MAX = 4000;   // bytes of UTF-8, the server's limit
const $ = (id) => document.getElementById(id);
const q = new URLSearchParams(location.search);
const pathForm = /^\/s\/([^/?#]+)\/?$/.exec(location.pathname);
const link = {
	form: pathForm ? safeDecode(pathForm[1]) : "",
	agency: q.get("agency") || "", sector: q.get("sector") || "", dossier: q.get("dossier") || "",
	exp: q.get("exp") || "", sig: q.get("sig") || "",
};
const KEY = `sipas.survey:${location.pathname}${location.search}`;

let form = null;          // the form JSON
let where = {};           // question id -> step key
let loadError = "";       // "", "badlink", "failed"
let sending = false;
let state = restore();

function safeDecode(s) {
	try {
		return decodeURIComponent(s);
	} catch {
		return "";
	}
}

function restore() {
	let s = null;
	try {
		s = JSON.parse(sessionStorage.getItem(KEY));
	} catch {
		s = null;
	}
	if (!s || typeof s !== "object" || typeof s.id !== "string")
		s = { id: randomId("p-") };
	s.answers = s.answers && typeof s.answers === "object" ? s.answers : {};
	s.comment = typeof s.comment === "string" ? s.comment : "";
	return s;
}

function save() {
	try {
		sessionStorage.setItem(KEY, JSON.stringify(state));
	} catch {
		/* kept for this page only */
	}
}

/* ---- the form's steps ---- */

function followups() {
	return (form.followups || []).filter((f) =>
		Object.entries(f.when || {}).some(([id, vals]) => (vals || []).includes(state.answers[id])));
}

function steps() {
	const s = [];
	for (const el of form.elements || [])
		s.push(`el:${el.id}`);
	s.push("overall");
	if (followups().length)
		s.push("more");
	if ((form.demographics || []).length)
		s.push("about");
	if (form.comment)
		s.push("comment");
	s.push("review");
	return s;
}

function indexQuestions() {
	where = { comment: "comment", [form.overall.id]: "overall" };
	for (const el of form.elements || [])
		for (const c of el.criteria || [])
			where[c.id] = `el:${el.id}`;
	for (const f of form.followups || [])
		where[f.id] = "more";
	for (const d of form.demographics || [])
		where[d.id] = "about";
}

function route() {
	const [, key = "", qid = ""] = location.hash.split("/").map(safeDecode);
	const list = steps();
	return { key: list.includes(key) ? key : list[0], qid };
}

function href(key, qid) {
	return `#/${encodeURIComponent(key)}${qid ? `/${encodeURIComponent(qid)}` : ""}`;
}

/* ---- rendering ---- */

function heading(text, textLang) {
	return h("h1", { id: "title", tabindex: "-1", lang: textLang && textLang !== lang() ? textLang : null }, text);
}

function para(key, vars, cls) {
	return h("p", { class: cls || null }, t(key, vars));
}

function render(moved) {
	const app = $("app");
	if (loadError === "badlink")
		fill(app, heading(t("s.badLink")), para("s.badLinkText"));
	else if (loadError === "failed")
		fill(app, heading(t("s.loadFailed")), para("s.loadFailedText"),
			h("div", { class: "buttons" }, h("button", { type: "button", class: "btn", onclick: load }, t("s.retry"))));
	else if (!form)
		fill(app, heading(t("s.loading")));
	else if (state.receipt)
		fill(app, h("div", { class: "panel" }, heading(t("s.receipt")),
			h("p", {}, t("s.receiptCode")), h("p", { class: "receipt" }, state.receipt)),
		para("s.receiptText"));
	else if (state.end)
		fill(app, heading(t(state.end === "rated" ? "s.rated" : "s.expired")),
			para(state.end === "rated" ? "s.ratedText" : "s.expiredText"));
	else
		renderStep(app);
	document.title = `${$("title").textContent} – ${t("s.title")}`;
	if (moved) {
		const { qid } = route();
		const target = qid && firstControl(qid);
		if (target) {
			target.focus();
		} else {
			const summary = app.querySelector(".error-summary");
			(summary && state.error && state.error.fresh ? summary : $("title")).focus();
		}
		if (state.error && state.error.fresh) {
			state.error.fresh = false;
			save();
		}
	}
}

function firstControl(qid) {
	if (qid === "comment")
		return $("comment");
	const radios = document.getElementsByName(qid);
	return Array.from(radios).find((r) => r.checked) || radios[0] || null;
}

function renderStep(app) {
	const list = steps();
	const { key } = route();
	const i = list.indexOf(key);
	const total = list.length - 1;            // the question screens
	const parts = [];
	if (i > 0)
		parts.push(h("a", { class: "back-link", href: href(list[i - 1]) }, t("s.back")));
	if (i === 0)
		parts.push(h("p", { class: "caption", lang: pickLang(form.title) }, pick(form.title)));
	if (key !== "review")
		parts.push(h("div", { class: "progress" },
			h("label", { for: "progress" }, t("s.step", { i: i + 1, n: total })),
			h("progress", { id: "progress", max: total, value: i + 1 }, `${i + 1}/${total}`)));
	if (state.error && (key === "review" || where[state.error.qid] === key))
		parts.push(errorSummary());
	if (key === "review") {
		parts.push(...review());
	} else {
		parts.push(...questions(key), h("div", { class: "buttons" },
			h("button", { type: "submit", class: "btn" }, t("s.continue"))));
		fill(app, h("form", { novalidate: true, onsubmit: (e) => { e.preventDefault(); next(key); } }, parts));
		return;
	}
	fill(app, ...parts);
}

function questions(key) {
	const first = key === steps()[0];
	const intro = first ? [
		form.description ? h("p", { class: "lead", lang: pickLang(form.description) }, pick(form.description)) : null,
		h("p", { class: "muted" }, t("s.dossier", { code: link.dossier }))] : [];
	if (key.startsWith("el:")) {
		const el = form.elements.find((x) => `el:${x.id}` === key);
		return [heading(pick(el.title), pickLang(el.title)), ...intro,
			...el.criteria.map((c) => scaleQuestion(c.id, c.text))];
	}
	if (key === "overall")
		return [heading(t("s.overall")), ...intro, scaleQuestion(form.overall.id, form.overall.text)];
	if (key === "more")
		return [heading(t("s.more")), ...followups().map((f) => choiceQuestion(f))];
	if (key === "about")
		return [heading(t("s.about")), para("s.aboutText", null, "hint"),
			...form.demographics.map((d) => choiceQuestion(d))];
	return commentQuestion();
}

// An element id from a question id ("e1.1" -> "e1_1"): letters, digits, - and _.
function domId(qid) {
	return qid.replace(/[^A-Za-z0-9_-]/g, "_");
}

function errorFor(qid) {
	return state.error && state.error.qid === qid ? state.error : null;
}

function fieldset(qid, text, options) {
	const err = errorFor(qid);
	const errId = `${domId(qid)}-error`;
	return h("fieldset", { class: `question${err ? " has-error" : ""}`, id: `q-${domId(qid)}`, "aria-describedby": err ? errId : null },
		h("legend", { lang: pickLang(text) !== lang() ? pickLang(text) : null }, pick(text)),
		err ? h("p", { class: "error-message", id: errId }, h("span", { class: "visually-hidden" }, `${t("s.problem")}: `), errorText(err)) : null,
		h("div", { class: "radios" }, options.map((o) => o === "or"
			? h("p", { class: "or" }, t("s.or"))
			: radio(qid, o.value, o.label))));
}

function radio(qid, value, label) {
	const id = `${domId(qid)}-${value === "" ? "-none" : domId(String(value))}`;
	const a = Object.prototype.hasOwnProperty.call(state.answers, qid) ? state.answers[qid] : null;
	const checked = a != null && (value === "" ? a === 0 || a === "" : String(a) === String(value));
	return h("div", { class: "radio" },
		h("input", {
			type: "radio", id, name: qid, value: String(value), checked,
			onchange: () => answer(qid, value),
		}),
		h("label", { for: id }, label));
}

function scaleQuestion(qid, text) {
	const { min, max, labels } = form.scale;
	const opts = [];
	for (let v = min; v <= max; v++)
		opts.push({ value: v, label: pickList(labels, v - min) || String(v) });
	opts.push("or", { value: "", label: t("s.noOpinion") });
	return fieldset(qid, text, opts);
}

function choiceQuestion(c) {
	const opts = c.values.map((v, i) => ({ value: v, label: pickList(c.labels, i) || v }));
	opts.push("or", { value: "", label: t("s.noAnswer") });
	return fieldset(c.id, c.text, opts);
}

function commentQuestion() {
	const err = errorFor("comment");
	const size = () => new TextEncoder().encode(state.comment).length;
	const count = h("p", { class: "count", id: "comment-count" });
	const showCount = () => {
		count.textContent = t("s.count", { n: size(), max: COMMENT_MAX });
		count.classList.toggle("over", size() > COMMENT_MAX);
	};
	const area = h("textarea", {
		id: "comment", name: "comment", rows: "8", spellcheck: "true",
		"aria-describedby": `comment-hint comment-count${err ? " comment-error" : ""}`,
		"aria-invalid": err ? "true" : null,
		oninput: () => {
			state.comment = area.value;
			save();
			showCount();
		},
	});
	area.value = state.comment;
	showCount();
	return [heading(t("s.comment")),
		h("div", { class: "field" },
			h("label", { for: "comment" }, t("s.commentLabel")),
			h("p", { class: "hint", id: "comment-hint" }, t("s.commentHint")),
			err ? h("p", { class: "error-message", id: "comment-error" }, errorText(err)) : null,
			area, count)];
}

function answer(qid, value) {
	state.answers[qid] = value === "" ? (isScale(qid) ? 0 : "") : value;
	if (errorFor(qid))
		state.error = null;
	save();
}

function isScale(qid) {
	const s = where[qid] || "";
	return s.startsWith("el:") || s === "overall";
}

// After a step: the review when the step was reached from it (unless a
// follow-up has just become due), else the next step.
function next(key) {
	if (key === "comment" && new TextEncoder().encode(state.comment).length > COMMENT_MAX) {
		state.error = { qid: "comment", key: "s.tooLong", fresh: true };
		save();
		render(true);
		return;
	}
	const list = steps();
	let to = list[list.indexOf(key) + 1] || "review";
	if (state.fromReview && !(to === "more" && followups().some((f) => !(f.id in state.answers)))) {
		to = "review";
		state.fromReview = false;
		save();
	}
	location.hash = href(to);
}

/* ---- review and submission ---- */

function shown(qid) {
	if (!(qid in state.answers))
		return null;
	const v = state.answers[qid];
	if (v === 0 || v === "")
		return isScale(qid) ? t("s.noOpinion") : t("s.noAnswer");
	if (isScale(qid))
		return pickList(form.scale.labels, v - form.scale.min) || String(v);
	const c = (form.followups || []).concat(form.demographics || []).find((x) => x.id === qid);
	const i = c ? c.values.indexOf(v) : -1;
	return i >= 0 ? pickList(c.labels, i) || v : String(v);
}

function row(qid, text, step) {
	const v = qid === "comment" ? (state.comment.trim() ? state.comment : null) : shown(qid);
	const label = text == null ? t("s.commentLabel") : pick(text);
	return h("div", {},
		h("dt", {}, label),
		h("dd", { class: v == null ? "unanswered" : null }, v ?? (qid === "comment" ? t("s.none") : t("s.notAnswered"))),
		h("dd", { class: "actions" }, h("a", {
			href: href(step, qid), onclick: () => { state.fromReview = true; save(); },
		}, t("s.change"), h("span", { class: "visually-hidden" }, ` – ${label}`))));
}

function review() {
	const out = [heading(t("s.review"))];
	for (const el of form.elements || [])
		out.push(h("h2", {}, pick(el.title)),
			h("dl", { class: "summary" }, el.criteria.map((c) => row(c.id, c.text, `el:${el.id}`))));
	out.push(h("h2", {}, t("s.overall")), h("dl", { class: "summary" },
		row(form.overall.id, form.overall.text, "overall"),
		followups().map((f) => row(f.id, f.text, "more"))));
	if ((form.demographics || []).length)
		out.push(h("h2", {}, t("s.about")), h("dl", { class: "summary" },
			form.demographics.map((d) => row(d.id, d.text, "about"))));
	if (form.comment)
		out.push(h("h2", {}, t("s.comment")), h("dl", { class: "summary" }, row("comment", null, "comment")));
	out.push(para("s.reviewText"),
		h("div", { class: "buttons" }, h("button", {
			type: "button", class: "btn", id: "submit", "aria-disabled": sending ? "true" : null, onclick: submit,
		}, t(sending ? "s.sending" : "s.submit"))));
	return out;
}

function errorText(err) {
	return t(err.key || "s.errField", err.vars);
}

function errorSummary() {
	const err = state.error;
	const text = errorText(err);
	return h("div", { class: "error-summary", tabindex: "-1", "aria-labelledby": "error-summary-title" },
		h("h2", { id: "error-summary-title" }, t("s.problem")),
		h("ul", {}, h("li", {}, err.qid
			? h("a", { href: href(where[err.qid], err.qid), onclick: () => { state.fromReview = true; save(); } }, text)
			: text)),
		err.detail ? h("p", { class: "muted", lang: "en" }, err.detail) : null);
}

function body() {
	const asked = new Set(Object.keys(where));
	const due = new Set(followups().map((f) => f.id));
	const answers = {};
	for (const [k, v] of Object.entries(state.answers)) {
		if (!asked.has(k) || k === "comment" || v === 0 || v === "" || v == null)
			continue;
		if ((form.followups || []).some((f) => f.id === k) && !due.has(k))
			continue;
		answers[k] = v;
	}
	if (!state.submittedAt) {
		state.submittedAt = vietnamTime();
		save();
	}
	const b = {
		response_id: state.id, form: form.id, agency: link.agency, sector: link.sector,
		dossier_code: link.dossier, submitted_at: state.submittedAt, answers,
	};
	if (form.comment && state.comment.trim())
		b.comment = state.comment.trim();
	return b;
}

function fail(error) {
	state.error = { ...error, fresh: true };
	save();
	sending = false;
	if (error.qid && route().key !== "review")
		location.hash = href("review");
	else
		render(true);
}

async function submit() {
	if (sending)
		return;
	const b = body();
	if (!Object.keys(b.answers).length)
		return fail({ qid: form.overall.id, key: "s.errNone" });
	sending = true;
	state.error = null;
	const btn = $("submit");
	btn.setAttribute("aria-disabled", "true");
	btn.textContent = t("s.sending");
	const summary = document.querySelector(".error-summary");
	if (summary)
		summary.remove();
	const query = new URLSearchParams({
		form: link.form, agency: link.agency, sector: link.sector, dossier: link.dossier, exp: link.exp, sig: link.sig,
	});
	const res = await request(`/api/responses?${query}`, { method: "POST", body: b });
	if ((res.status === 201 || res.status === 200) && res.data && res.data.receipt) {
		sending = false;
		state = { id: state.id, receipt: res.data.receipt, answers: {}, comment: "" };
		save();
		render(true);
		return;
	}
	if (res.status === 401 || res.status === 409) {
		sending = false;
		state.end = res.status === 409 ? "rated" : "expired";
		save();
		render(true);
		return;
	}
	const e = res.error || {};
	if (res.status === 400) {
		const field = String(e.field || "").replace(/^answers\./, "");
		if (field in where)
			return fail({
				qid: field, detail: e.message,
				key: field === form.overall.id && /no question/i.test(e.message || "") ? "s.errNone"
					: field === "comment" && /longer/i.test(e.message || "") ? "s.tooLong" : "s.errField",
			});
		if (["form", "agency", "sector", "dossier_code", "link"].includes(field)) {
			sending = false;
			state.end = "expired";
			save();
			render(true);
			return;
		}
	}
	if (res.status === 0)
		return fail({ key: "s.errNetwork" });
	if (res.status === 429 || res.status === 503)
		return fail({ key: "s.errBusy", vars: { s: res.retryAfter ?? 30 } });
	return fail({ key: "s.errServer", vars: { status: res.status }, detail: e.message });
}

/* ---- start ---- */

async function load() {
	loadError = "";
	render(false);
	if (!link.form || !link.agency || !link.sector || !link.dossier || !link.exp || !link.sig) {
		loadError = "badlink";
		render(true);
		return;
	}
	const res = await request(`/api/forms/${encodeURIComponent(link.form)}`);
	if (res.status === 200 && res.data && res.data.overall && res.data.scale) {
		form = res.data;
		indexQuestions();
	} else {
		loadError = res.status === 404 ? "badlink" : "failed";
	}
	render(loadError !== "");
}

initLang();
onLang(() => render(false));
window.addEventListener("hashchange", () => render(true));
save();
load();
