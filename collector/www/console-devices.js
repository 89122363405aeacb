// console-devices.js - /console/devices: the kiosks of the agencies the
// user may see, pairing a new one, re-pairing (a new code for the same
// kiosk) and revoking.  A pairing's reply is kept in sessionStorage for
// the printable sheet (/console/devices/sheet), which reads it from there:
// the code and PIN never go into a URL.
import { $, api, clearErrors, confirmStep, currentUser, fill, fmtTime, h, onLang, SHEET_KEY, showError, startPage, t, table } from "./console.js";

let devices = null;

function keepForSheet(data) {
	try {
		sessionStorage.setItem(SHEET_KEY, JSON.stringify(data));
		return true;
	} catch {
		return false;
	}
}

// The new pairing code: where it is, until when, and the way to its sheet.
function showPaired(data) {
	const box = $("paired");
	const kept = keepForSheet(data);
	fill(box,
		h("h3", {}, t("c.devices.pairedH", { agency: data.agency_name || data.agency, counter: data.counter })),
		h("p", {}, t("c.devices.pairedText", { at: fmtTime(data.expires_at) })),
		h("p", {}, t("c.devices.pin"), " ", h("strong", { class: "c-pin" }, data.pin || "—")),
		h("p", {}, h("span", { class: "c-mono" }, data.pair_url)),
		kept ? h("p", {}, h("a", { class: "btn", href: "/console/devices/sheet" }, t("c.devices.sheet"))) :
			h("p", { class: "c-problem" }, t("c.devices.noStorage")));
	box.hidden = false;
	box.focus();
}

function status(d) {
	if (d.revoked_at)
		return t("c.devices.revoked", { at: fmtTime(d.revoked_at) });
	if (!d.paired_at)
		return t("c.devices.waiting");
	return t("c.devices.active");
}

// The actions of a kiosk's row: re-pair, and revoke after a confirmation
// shown in the row.
function actions(d) {
	if (d.role && d.role !== "kiosk")
		return "";
	const name = `${d.agency} – ${d.counter}`;
	const repair = h("button", { type: "button", class: "btn btn-secondary c-small", onclick: () => repairDevice(d) },
		t("c.devices.repair"), h("span", { class: "visually-hidden" }, ` ${name}`));
	if (d.revoked_at)
		return h("div", { class: "c-actions" }, repair);
	const revoke = h("button", { type: "button", class: "btn btn-secondary c-small" },
		t("c.devices.revoke"), h("span", { class: "visually-hidden" }, ` ${name}`));
	const no = h("button", { type: "button", class: "btn btn-secondary c-small" }, t("c.cancel"));
	const confirm = h("div", { class: "c-confirm c-confirm-row", hidden: true },
		h("p", {}, t("c.devices.revokeQ", { name })),
		h("button", { type: "button", class: "btn c-small c-danger", onclick: () => revokeDevice(d) }, t("c.devices.revokeYes")),
		" ", no);
	confirmStep(revoke, confirm, no);
	return h("div", { class: "c-actions" }, repair, " ", revoke, confirm);
}

function render() {
	if (!devices)
		return;
	fill($("list-status"), t("c.devices.count", { n: devices.length }));
	fill($("devices"), table(t("c.devices.caption"),
		[t("c.device"), t("c.agency"), t("c.counter"), t("c.devices.sectorsCol"), t("c.devices.paired"),
			t("c.overview.lastPost"), t("c.devices.state"), t("c.actions")],
		devices.map((d) => [String(d.id), d.agency || "—", d.counter || "—",
			d.role && d.role !== "kiosk" ? "—" : (d.sectors || []).join(", ") || t("c.devices.allSectors"),
			fmtTime(d.paired_at), fmtTime(d.last_post_at),
			status(d), actions(d)]),
		t("c.devices.none")));
}

async function loadList() {
	const res = await api("/console/api/devices");
	if (res.status !== 200 || !res.data) {
		showError($("list-problem"), res);
		return;
	}
	clearErrors($("list-problem"));
	devices = res.data.devices || [];
	render();
}

async function repairDevice(d) {
	const res = await api(`/console/api/devices/${encodeURIComponent(d.id)}/pair`, { method: "POST", body: {} });
	if (res.status !== 200 || !res.data) {
		showError($("list-problem"), res);
		return;
	}
	showPaired(res.data);
	loadList();
}

async function revokeDevice(d) {
	const res = await api(`/console/api/devices/${encodeURIComponent(d.id)}/revoke`, { method: "POST", body: {} });
	if (res.status !== 200) {
		showError($("list-problem"), res);
		return;
	}
	await loadList();
	fill($("list-status"), t("c.devices.revokedNow", { name: `${d.agency} – ${d.counter}` }));
}

async function pair(e) {
	e.preventDefault();
	const box = $("pair-problem");
	clearErrors(box);
	const body = {
		agency: $("agency").value.trim(),
		counter: $("counter").value.trim(),
		sectors: $("sectors").value.split(",").map((s) => s.trim()).filter(Boolean),
	};
	for (const f of ["agency", "counter", "sectors"]) {
		if (!body[f].length)
			return showError(box, { status: 400, error: { field: f, message: t(`c.devices.need.${f}`) } }, { [f]: f });
	}
	$("pair-submit").disabled = true;
	const res = await api("/console/api/devices", { method: "POST", body });
	$("pair-submit").disabled = false;
	if (res.status !== 201 || !res.data) {
		showError(box, res, { agency: "agency", counter: "counter", sectors: "sectors" });
		return;
	}
	$("counter").value = "";
	showPaired(res.data);
	loadList();
}

const user = await startPage("/console/devices");
if (user) {
	onLang(render);
	fill($("agency-list"), (currentUser().agencies || []).map((a) => h("option", { value: a })));
	if ((user.agencies || []).length === 1)
		$("agency").value = user.agencies[0];
	$("pair-form").addEventListener("submit", pair);
	loadList();
}
