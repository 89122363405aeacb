// console-users.js - /console/users (office): the accounts, adding one,
// disabling one, and a new one-time password link (reset).  The link is
// shown once, here, for the office to hand to the person; it is valid 15
// minutes and works once.
import { $, api, clearErrors, confirmStep, fill, fmtTime, h, onLang, showError, startPage, t, table } from "./console.js";

let users = null;

// A one-time link just made, for whom and until when.
function showLink(data, key) {
	const box = $("link");
	fill(box,
		h("h3", {}, t(key, { login: data.login })),
		h("p", {}, t("c.users.linkText", { at: fmtTime(data.expires_at) })),
		h("p", {}, h("span", { class: "c-mono c-select" }, data.link)));
	box.hidden = false;
	box.focus();
}

function state(u) {
	if (u.disabled)
		return t("c.users.disabled");
	return u.has_password ? t("c.users.active") : t("c.users.noPassword");
}

function actions(u) {
	const reset = h("button", { type: "button", class: "btn btn-secondary c-small", onclick: () => resetUser(u) },
		t("c.users.reset"), h("span", { class: "visually-hidden" }, ` ${u.login}`));
	if (u.disabled)
		return h("div", { class: "c-actions" }, reset);
	const disable = h("button", { type: "button", class: "btn btn-secondary c-small" },
		t("c.users.disable"), h("span", { class: "visually-hidden" }, ` ${u.login}`));
	const no = h("button", { type: "button", class: "btn btn-secondary c-small" }, t("c.cancel"));
	const confirm = h("div", { class: "c-confirm c-confirm-row", hidden: true },
		h("p", {}, t("c.users.disableQ", { login: u.login })),
		h("button", { type: "button", class: "btn c-small c-danger", onclick: () => disableUser(u) }, t("c.users.disableYes")),
		" ", no);
	confirmStep(disable, confirm, no);
	return h("div", { class: "c-actions" }, reset, " ", disable, confirm);
}

function render() {
	if (!users)
		return;
	fill($("list-status"), t("c.users.count", { n: users.length }));
	fill($("users"), table(t("c.users.caption"),
		[t("c.users.login"), t("c.users.name"), t("c.users.role"), t("c.users.agencies"), t("c.devices.state"),
			t("c.users.created"), t("c.actions")],
		users.map((u) => [u.login, u.name, t(`c.role.${u.role}`), (u.agencies || []).join(", ") || "—", state(u),
			fmtTime(u.created_at), actions(u)]),
		t("c.users.none")));
}

async function loadList() {
	const res = await api("/console/api/users");
	if (res.status !== 200 || !res.data) {
		showError($("list-problem"), res);
		return;
	}
	clearErrors($("list-problem"));
	users = res.data.users || [];
	render();
}

async function resetUser(u) {
	const res = await api(`/console/api/users/${encodeURIComponent(u.login)}/reset`, { method: "POST", body: {} });
	if (res.status !== 200 || !res.data) {
		showError($("list-problem"), res);
		return;
	}
	showLink(res.data, "c.users.resetH");
	loadList();
}

async function disableUser(u) {
	const res = await api(`/console/api/users/${encodeURIComponent(u.login)}/disable`, { method: "POST", body: {} });
	if (res.status !== 200) {
		showError($("list-problem"), res);
		return;
	}
	await loadList();
	fill($("list-status"), t("c.users.disabledNow", { login: u.login }));
}

async function add(e) {
	e.preventDefault();
	const box = $("add-problem");
	clearErrors(box);
	const body = {
		login: $("login").value.trim(),
		name: $("name").value.trim(),
		role: $("role").value,
		agencies: $("agencies").value.split(",").map((s) => s.trim()).filter(Boolean),
	};
	for (const f of ["login", "name"]) {
		if (!body[f])
			return showError(box, { status: 400, error: { field: f, message: t(`c.users.need.${f}`) } }, { [f]: f });
	}
	const res = await api("/console/api/users", { method: "POST", body });
	if (res.status !== 201 || !res.data) {
		showError(box, res, { login: "login", name: "name", role: "role", agencies: "agencies", agency: "agencies" });
		return;
	}
	$("add-form").reset();
	showLink(res.data, "c.users.addedH");
	loadList();
}

const user = await startPage("/console/users");
if (user) {
	onLang(render);
	$("add-form").addEventListener("submit", add);
	loadList();
}
