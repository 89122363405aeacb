// console-overview.js - /console: the quarter so far (default the current
// one) for the agencies the user may see: each agency's index with its
// confidence interval and verdict, each counter's ratings today, and the
// per-dossier rate of the agencies with dossier records.
import { $, api, clearErrors, currentQuarter, fill, fmtNumber, fmtTime, h, lang, onLang, showError, startPage, t, table } from "./console.js";

let shown = null;   // the last overview reply

function pct(x) {
	if (x == null)
		return "—";
	return `${(x * 100).toLocaleString(lang() === "vi" ? "vi-VN" : "en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}

function render() {
	if (!shown)
		return;
	const d = shown;
	fill($("result"), t("c.overview.asOf", { period: d.period, from: d.from, to: d.to, at: fmtTime(d.as_of) }));
	fill($("groups"), table(t("c.overview.groupsCaption", { period: d.period }),
		[t("c.agency"), t("c.overview.n"), t("c.overview.index"), t("c.overview.interval"), t("c.overview.target"), t("c.overview.verdict")],
		(d.groups || []).map((g) => [
			h("span", {}, g.agency_name || g.agency, h("span", { class: "c-code" }, ` (${g.agency})`)),
			fmtNumber(g.n), pct(g.index),
			g.low == null ? "—" : `${pct(g.low)} – ${pct(g.high)}`,
			pct(g.target),
			// no verdict where no target applies
			g.verdict ? h("span", { class: `c-verdict c-verdict-${g.verdict}` }, t(`c.verdict.${g.verdict}`)) : "—",
		]), t("c.overview.noGroups")));
	fill($("counters"), table(t("c.overview.countersCaption"),
		[t("c.agency"), t("c.counter"), t("c.device"), t("c.overview.today"), t("c.overview.lastPost")],
		(d.counters || []).map((c) => [c.agency, c.counter, String(c.device_id), fmtNumber(c.today), fmtTime(c.last_post_at)]),
		t("c.overview.noCounters")));
	const share = (g, k) => pct(g.finished ? g[k] / g.finished : null);
	fill($("dossiers"), table(t("c.overview.dossiersCaption", { period: d.period }),
		[t("c.agency"), t("c.overview.finished"), t("c.overview.late"), t("c.overview.complaint"),
			t("c.overview.unhappy"), t("c.overview.none"), t("c.overview.cells")],
		(d.dossiers || []).map((g) => [
			g.agency ? h("span", {}, g.agency_name || g.agency, h("span", { class: "c-code" }, ` (${g.agency})`))
				: t("c.overview.allAgencies"),
			fmtNumber(g.finished), share(g, "late"), share(g, "complaint"), share(g, "unhappy"), share(g, "none"),
			t("c.overview.cellsOf", { cells: fmtNumber(g.cells), active: fmtNumber(g.active_cells) }),
		]), t("c.overview.noDossiers")));
}

async function load(period) {
	clearErrors($("problem"));
	fill($("result"), t("c.loading"));
	const res = await api(`/console/api/overview?period=${encodeURIComponent(period)}`);
	if (res.status !== 200 || !res.data) {
		fill($("result"));
		showError($("problem"), res, { period: "period" });
		return;
	}
	shown = res.data;
	render();
}

const user = await startPage("/console");
if (user) {
	onLang(render);
	$("period").value = new URLSearchParams(location.search).get("period") || currentQuarter();
	$("period-form").addEventListener("submit", (e) => {
		e.preventDefault();
		const p = $("period").value.trim().toUpperCase();
		history.replaceState(null, "", `?period=${encodeURIComponent(p)}`);
		load(p);
	});
	load($("period").value);
}
