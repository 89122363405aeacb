// console-comments.js - /console/comments: the citizens' comments and
// unhappy reasons of the user's agencies, newest first, filtered by words
// (found without diacritics), days, agency, sector and rating, a page at a
// time; the same list as CSV; office and agency users mark one handled
// with a note (audited), a viewer reads.
import { $, api, clearErrors, currentUser, fill, fmtTime, h, lang, onLang, showError, startPage, t, table } from "./console.js";

const FIELDS = ["q", "from", "to", "agency", "sector", "rating"];
let shown = [];
let next = null;
let query = "";
let editing = null;   // the id whose note form is open

function reasonsText(reasons) {
	return (reasons || []).map((r) => r[lang()] || r.vi || r.code).join("; ") || "—";
}

function ratingText(c) {
	if (!c.rating)
		return "—";
	const label = c.rating_label && (c.rating_label[lang()] || c.rating_label.vi);
	return label ? `${c.rating} – ${label}` : String(c.rating);
}

function handledCell(c) {
	if (c.handled)
		return h("div", {}, h("p", { class: "c-ok" }, t("c.comments.handledBy", { by: c.handled.by, at: fmtTime(c.handled.at) })),
			h("p", {}, c.handled.note));
	return t("c.comments.open");
}

function noteForm(c) {
	const id = `note-${c.id}`;
	const form = h("form", { class: "c-note", novalidate: "novalidate" },
		h("div", { class: "c-field" },
			h("label", { for: id }, t("c.comments.note")),
			h("textarea", { id, name: "note", rows: "3", maxlength: "1000", required: "required" })),
		h("div", { class: "c-actions" },
			h("button", { type: "submit", class: "btn c-small" }, t("c.comments.save")),
			h("button", { type: "button", class: "btn btn-secondary c-small", onclick: () => {
				editing = null;
				render();
				$(`mark-${c.id}`)?.focus();
			} }, t("c.cancel"))));
	form.addEventListener("submit", (e) => {
		e.preventDefault();
		mark(c, form.querySelector("textarea"));
	});
	return form;
}

function actionCell(c) {
	const user = currentUser();
	if (!user || user.role === "viewer")
		return "—";
	if (editing === c.id)
		return noteForm(c);
	return h("button", { type: "button", class: "btn btn-secondary c-small", id: `mark-${c.id}`, onclick: () => {
		editing = c.id;
		render();
		$(`note-${c.id}`)?.focus();
	} }, c.handled ? t("c.comments.renote") : t("c.comments.mark"));
}

function render() {
	fill($("comments"), table(t("c.comments.caption"),
		[t("c.comments.at"), t("c.agency"), t("c.comments.sectorCol"), t("c.counter"), t("c.comments.channel"),
			t("c.comments.ratingCol"), t("c.comments.reasons"), t("c.comments.comment"), t("c.comments.state"), t("c.actions")],
		shown.map((c) => [fmtTime(c.at), c.agency_name || c.agency, c.sector_name || c.sector, c.counter || "—",
			t(`c.comments.ch.${c.channel}`), ratingText(c), reasonsText(c.reasons), c.comment || "—", handledCell(c), actionCell(c)]),
		t("c.comments.none")));
	$("more").hidden = !next;
}

async function mark(c, textarea) {
	clearErrors($("problem"));
	const note = textarea.value.trim();
	const res = await api(`/console/api/comments/${c.id}/handled`, { method: "POST", body: { note } });
	if (res.status !== 200 || !res.data) {
		showError($("problem"), res, { note: textarea.id });
		return;
	}
	c.handled = res.data.handled;
	editing = null;
	render();
	fill($("result"), t("c.comments.marked"));
	$(`mark-${c.id}`)?.focus();
}

async function load(more) {
	clearErrors($("problem"));
	if (!more) {
		const q = new URLSearchParams();
		for (const f of FIELDS) {
			const v = $(f).value.trim();
			if (v)
				q.set(f, v);
		}
		query = q.toString();
		history.replaceState(null, "", `?${query}`);
		$("export").href = `/console/api/comments.csv?${query}`;
		shown = [];
		next = null;
	}
	fill($("result"), t("c.loading"));
	const page = new URLSearchParams(query);
	if (more && next)
		page.set("before", String(next));
	const res = await api(`/console/api/comments?${page}`);
	if (res.status !== 200 || !res.data) {
		fill($("result"));
		showError($("problem"), res, { q: "q", from: "from", to: "to", agency: "agency", sector: "sector", rating: "rating" });
		return;
	}
	shown = shown.concat(res.data.comments || []);
	next = res.data.next;
	render();
	fill($("result"), t("c.comments.count", { n: shown.length }));
}

const user = await startPage("/console/comments");
if (user) {
	onLang(render);
	const q = new URLSearchParams(location.search);
	for (const f of FIELDS)
		if (q.get(f))
			$(f).value = q.get(f);
	$("filter-form").addEventListener("submit", (e) => {
		e.preventDefault();
		load(false);
	});
	$("more").addEventListener("click", () => load(true));
	load(false);
}
