// console-alerts.js - /console/alerts: the alerts of the user's agencies
// (GET /api/alerts), newest first, open, closed or both, each with the
// evidence its rule saw when it opened.
import { $, api, clearErrors, fill, fmtTime, h, onLang, showError, startPage, t, table } from "./console.js";

let shown = null;

// The evidence object as "key: value" lines.
function evidence(ev) {
	const list = Object.entries(ev || {});
	if (!list.length)
		return "—";
	return h("ul", { class: "c-evidence" }, list.map(([k, v]) =>
		h("li", {}, h("span", { class: "c-code" }, `${k}: `), typeof v === "object" ? JSON.stringify(v) : String(v))));
}

function render() {
	if (!shown)
		return;
	fill($("result"), t("c.alerts.count", { n: shown.length }));
	fill($("alerts"), table(t("c.alerts.caption"),
		[t("c.alerts.kind"), t("c.agency"), t("c.live.b.sector"), t("c.counter"), t("c.alerts.opened"), t("c.alerts.closed"), t("c.alerts.evidence")],
		shown.map((a) => [t(`c.alerts.k.${a.kind}`), a.agency, a.sector || "—", a.device == null ? "—" : h("span", {}, a.counter || "—", h("span", { class: "c-code" }, ` (${a.device})`)),
			fmtTime(a.opened_at), a.closed_at ? fmtTime(a.closed_at) : t("c.alerts.stillOpen"), evidence(a.evidence)]),
		t("c.alerts.none")));
}

async function load() {
	clearErrors($("problem"));
	const state = $("state").value;
	history.replaceState(null, "", `?state=${encodeURIComponent(state)}`);
	fill($("result"), t("c.loading"));
	const res = await api(`/api/alerts?state=${encodeURIComponent(state)}`);
	if (res.status !== 200 || !res.data) {
		fill($("result"));
		showError($("problem"), res, { state: "state" });
		return;
	}
	shown = res.data.alerts || [];
	render();
}

const user = await startPage("/console/alerts");
if (user) {
	onLang(render);
	const state = new URLSearchParams(location.search).get("state");
	if (state && $("state").querySelector(`option[value='${CSS.escape(state)}']`))
		$("state").value = state;
	$("state-form").addEventListener("submit", (e) => {
		e.preventDefault();
		load();
	});
	load();
}
