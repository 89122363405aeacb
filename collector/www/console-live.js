// console-live.js - /console/live: the collector's ratings of today, the
// last 7 or 30 days or the quarter so far, by agency, sector, counter or
// officer on duty (GET /api/live, in the user's scope): each group's
// ratings, share satisfied with its 95 % interval, target, dossier-based
// rate and the reasons given with the unhappy face; and the funnel plot of
// the groups against each target they have (GET /api/live/funnel.svg),
// drawn inline, the table above being its text.
import { $, api, clearErrors, fill, fmtNumber, h, lang, onLang, showError, startPage, t, table } from "./console.js";

let shown = null;     // the last /api/live reply
let reasonText = {};  // follow-up value code -> {vi, en}, from the kiosk form

function pct(x) {
	if (x == null)
		return "—";
	return `${(x * 100).toLocaleString(lang() === "vi" ? "vi-VN" : "en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}

// What names a group in its view.
function groupName(g, by) {
	if (by === "sector")
		return g.sector;
	if (by === "counter")
		return h("span", {}, g.counter || "—", h("span", { class: "c-code" }, ` (${g.device})`));
	if (by === "officer")
		return h("span", {}, g.officer_name || g.officer, h("span", { class: "c-code" }, ` (${g.officer})`));
	return g.agency;
}

function reasons(g) {
	const list = Object.entries(g.reasons || {});
	if (!list.length)
		return "—";
	return list.map(([code, n]) => `${(reasonText[code] && reasonText[code][lang()]) || code}: ${fmtNumber(n)}`).join("; ");
}

function render() {
	if (!shown)
		return;
	const d = shown;
	const by = d.by;
	const headers = [t(`c.live.b.${by}`)];
	if (by === "counter" || by === "officer")
		headers.push(t("c.agency"), t("c.live.b.sector"));
	headers.push(t("c.live.n"), t("c.live.share"), t("c.live.interval"), t("c.live.target"), t("c.live.dossierRate"), t("c.live.reasons"));
	fill($("result"), t("c.live.asOf", { window: t(`c.live.w.${d.window}`), from: d.from, to: d.to }));
	fill($("groups"), table(t("c.live.caption", { window: t(`c.live.w.${d.window}`), by: t(`c.live.b.${by}`) }), headers,
		(d.groups || []).map((g) => [groupName(g, by),
			...(by === "counter" || by === "officer" ? [g.agency, g.sector] : []),
			fmtNumber(g.n), pct(g.share), `${pct(g.lo)} – ${pct(g.hi)}`, pct(g.target), pct(g.dossier_rate), reasons(g)]),
		t("c.live.none")));
}

// Each plot names its parts with the same ids: make them its own, and
// the references to them, so that several plots share a page.
function ownIds(svg, k) {
	for (const el of [svg, ...svg.querySelectorAll("[id]")])
		if (el.id)
			el.id = `${el.id}-${k}`;
	for (const attr of ["aria-labelledby", "aria-describedby"])
		for (const el of [svg, ...svg.querySelectorAll(`[${attr}]`)])
			if (el.getAttribute(attr))
				el.setAttribute(attr, el.getAttribute(attr).split(/\s+/).map((x) => `${x}-${k}`).join(" "));
	return svg;
}

// One funnel plot per target the groups are judged against, inline so
// that its title and description reach a screen reader.
async function funnels(query) {
	const targets = [...new Set((shown.groups || []).filter((g) => g.target != null).map((g) => g.target))];
	const figures = [];
	for (const target of targets) {
		let text = "";
		try {
			const res = await fetch(`/api/live/funnel.svg?${query}&target=${target}`, { credentials: "same-origin", cache: "no-store" });
			text = res.ok ? await res.text() : "";
		} catch {
			text = "";
		}
		const svg = text && new DOMParser().parseFromString(text, "text/html").querySelector("svg[role='img']");
		if (svg)
			figures.push(h("figure", { class: "c-funnel" }, ownIds(document.importNode(svg, true), figures.length),
				h("figcaption", {}, t("c.live.funnelCaption", { target: pct(target) }))));
	}
	fill($("funnels"), figures.length ? figures : h("p", { class: "c-empty" }, t("c.live.noFunnel")));
}

async function load() {
	clearErrors($("problem"));
	const q = new URLSearchParams({ window: $("window").value, by: $("by").value });
	history.replaceState(null, "", `?${q}`);
	fill($("result"), t("c.loading"));
	const res = await api(`/api/live?${q}`);
	if (res.status !== 200 || !res.data) {
		fill($("result"));
		showError($("problem"), res, { window: "window", by: "by" });
		return;
	}
	shown = res.data;
	render();
	await funnels(q.toString());
}

// The reasons' words, from the kiosk form's follow-ups.
async function loadReasons() {
	const res = await api("/api/forms/kiosk-2018");
	for (const f of (res.data && res.data.followups) || [])
		(f.values || []).forEach((v, i) => {
			reasonText[v] = { vi: f.labels && f.labels.vi && f.labels.vi[i], en: f.labels && f.labels.en && f.labels.en[i] };
		});
}

const user = await startPage("/console/live");
if (user) {
	// per-officer figures are the office's and the officer's own agency's
	if (user.role === "viewer")
		$("by").querySelector("option[value='officer']").remove();
	onLang(render);
	const q = new URLSearchParams(location.search);
	for (const f of ["window", "by"])
		if (q.get(f) && $(f).querySelector(`option[value='${CSS.escape(q.get(f))}']`))
			$(f).value = q.get(f);
	$("view-form").addEventListener("submit", (e) => {
		e.preventDefault();
		load();
	});
	await loadReasons();
	load();
}
