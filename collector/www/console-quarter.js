// console-quarter.js - /console/quarter: a quarter's state (ended,
// published, its publications and the audit head they were signed with),
// the preview of its report as it would be published (a new tab: the
// report may not be framed), publishing and withdrawing.  Both ask first;
// publishing a quarter that has not ended asks the office to type the
// words EARLY_WORDS, which the server checks again.
import { $, api, clearErrors, confirmStep, currentQuarter, fill, fmtTime, h, onLang, showError, startPage, t, table } from "./console.js";

const EARLY_WORDS = "CÔNG BỐ SỚM";
let q = null;   // the quarter's reply

function typedWords() {
	return $("early-words").value.normalize("NFC").trim().replace(/\s+/g, " ").toLocaleUpperCase("vi");
}

// A publication's action in words; the stored word when it has none.
function actionName(action) {
	const key = `c.quarter.action.${action}`;
	const s = t(key);
	return s === key ? String(action) : s;
}

function render() {
	if (!q) {
		$("actions").hidden = true;
		return;
	}
	const started = q.started !== false;
	const facts = [
		[t("c.quarter.stateEnded"), q.ended ? t("c.yes") : t(started ? "c.quarter.notEnded" : "c.quarter.notStarted")],
		[t("c.quarter.statePublished"), q.published ? t("c.quarter.publishedAt", { at: fmtTime(q.published_at) }) : t("c.no")],
		[t("c.quarter.auditHead"), h("span", { class: "c-mono" }, q.audit_head || "—")],
	];
	fill($("state"), h("dl", { class: "c-facts" }, facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))));
	fill($("result"), t(q.published ? "c.quarter.isPublished" : "c.quarter.isNot", { period: q.period }));
	$("preview").href = `/console/preview/${encodeURIComponent(q.period)}/index.html`;
	// a quarter that has not begun has nothing to publish
	$("publish").hidden = !started;
	fill($("publish"), t(q.published ? "c.quarter.republish" : "c.quarter.publish"));
	$("withdraw").hidden = !q.published;
	$("actions").hidden = false;
	fill($("publish-text"), t(q.ended ? "c.quarter.publishText" : "c.quarter.publishEarly", { period: q.period }));
	$("early").hidden = q.ended;
	fill($("early-label"), t("c.quarter.typeWords"), " ", h("strong", { lang: "vi" }, EARLY_WORDS), t("c.quarter.typeWordsAfter"));
	fill($("early-hint"), t("c.quarter.earlyHint"));
	fill($("history"), table(t("c.quarter.historyCaption", { period: q.period }),
		[t("c.quarter.when"), t("c.quarter.what"), t("c.quarter.who")],
		(q.publications || []).map((p) => [fmtTime(p.at), p.form ? `${actionName(p.action)} (${p.form})` : actionName(p.action),
			p.actor || t("c.quarter.unknownActor")]),
		t("c.quarter.noHistory")));
}

async function load(period) {
	clearErrors($("problem"));
	$("publish-confirm").hidden = true;
	$("withdraw-confirm").hidden = true;
	fill($("result"), t("c.loading"));
	const res = await api(`/console/api/quarter?period=${encodeURIComponent(period)}`);
	if (res.status !== 200 || !res.data) {
		q = null;
		render();
		fill($("result"));
		fill($("state"));
		fill($("history"));
		showError($("problem"), res, { period: "period" });
		return;
	}
	q = res.data;
	render();
}

async function act(path, body, panel, done) {
	clearErrors($("problem"));
	const res = await api(path, { method: "POST", body });
	if (res.status !== 200) {
		showError($("problem"), res, { confirm_early: "early-words", period: "period" });
		return;
	}
	panel.hidden = true;
	await load(q.period);
	fill($("result"), t(done, { period: q.period }));
	$("publish").focus();
}

function publish() {
	const body = { period: q.period, confirm_early: "" };
	if (!q.ended) {
		if (typedWords() !== EARLY_WORDS) {
			showError($("problem"), { status: 409, error: { field: "confirm_early", message: t("c.quarter.wrongWords", { words: EARLY_WORDS }) } },
				{ confirm_early: "early-words" });
			return;
		}
		body.confirm_early = EARLY_WORDS;
	}
	act("/console/api/publish", body, $("publish-confirm"), "c.quarter.published");
}

const user = await startPage("/console/quarter");
if (user) {
	onLang(render);
	$("period").value = new URLSearchParams(location.search).get("period") || currentQuarter();
	$("period-form").addEventListener("submit", (e) => {
		e.preventDefault();
		const p = $("period").value.trim().toUpperCase();
		history.replaceState(null, "", `?period=${encodeURIComponent(p)}`);
		load(p);
	});
	confirmStep($("publish"), $("publish-confirm"), $("publish-no"));
	confirmStep($("withdraw"), $("withdraw-confirm"), $("withdraw-no"));
	$("publish").addEventListener("click", () => { $("early-words").value = ""; });
	$("publish-yes").addEventListener("click", publish);
	$("withdraw-yes").addEventListener("click", () =>
		act("/console/api/withdraw", { period: q.period }, $("withdraw-confirm"), "c.quarter.withdrawn"));
	load($("period").value);
}
