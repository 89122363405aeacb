// console-audit.js - /console/audit (office): the audit log's entries,
// newest first, filtered by day, actor and action, and the head of its
// hash chain (`sipas audit verify` checks the chain); below it, the
// notifications given up after 24 hours of retries.
import { $, api, clearErrors, fill, fmtTime, h, onLang, showError, startPage, t, table } from "./console.js";

let shown = null;
let failed = null;

function renderFailed() {
	if (!failed)
		return;
	fill($("failed"), table(t("c.notify.caption"),
		[t("c.notify.delivery"), t("c.notify.endpoint"), t("c.notify.event"), t("c.notify.created"), t("c.notify.failed"),
			t("c.notify.attempts"), t("c.notify.error")],
		failed.map((x) => [x.delivery, `${x.endpoint} (${x.kind}) ${x.target}`, x.event, fmtTime(x.created_at),
			fmtTime(x.failed_at), String(x.attempts), x.error || "—"]),
		t("c.notify.none")));
}

async function loadFailed() {
	const res = await api("/console/api/notify/failed");
	if (res.status === 200 && res.data)
		failed = res.data.failed || [];
	renderFailed();
}

function render() {
	renderFailed();
	if (!shown)
		return;
	fill($("result"), t("c.audit.count", { n: shown.entries.length }), " ",
		t("c.audit.head"), " ", h("span", { class: "c-mono" }, shown.head || "—"));
	fill($("entries"), table(t("c.audit.caption"),
		["#", t("c.audit.at"), t("c.audit.actor"), t("c.audit.address"), t("c.audit.action"), t("c.audit.subject"), t("c.audit.outcome")],
		shown.entries.map((x) => [String(x.id), fmtTime(x.at), x.actor || "—", x.address || "—", x.action || "—",
			x.subject || "—", x.outcome || "—"]),
		t("c.audit.none")));
}

async function load() {
	clearErrors($("problem"));
	const q = new URLSearchParams();
	for (const f of ["since", "actor", "action", "limit"]) {
		const v = $(f).value.trim();
		if (v)
			q.set(f, v);
	}
	history.replaceState(null, "", `?${q}`);
	fill($("result"), t("c.loading"));
	const res = await api(`/console/api/audit?${q}`);
	if (res.status !== 200 || !res.data) {
		fill($("result"));
		showError($("problem"), res, { since: "since", actor: "actor", action: "action", limit: "limit" });
		return;
	}
	shown = { head: res.data.head, entries: res.data.entries || [] };
	render();
}

const user = await startPage("/console/audit");
if (user) {
	onLang(render);
	const q = new URLSearchParams(location.search);
	for (const f of ["since", "actor", "action", "limit"])
		if (q.get(f))
			$(f).value = q.get(f);
	$("filter-form").addEventListener("submit", (e) => {
		e.preventDefault();
		load();
	});
	load();
	loadFailed();
}
