// console-login.js - /console/login: sign in, then go to ?next= (a console
// page of this site only) or the overview.  A wrong login or password gets
// one message that never says which of the two was wrong.
import { $, api, clearErrors, remember, showError, startPublicPage, t } from "./console.js";

// Where to go once signed in: a path of the console, never another site.
function next() {
	const n = new URLSearchParams(location.search).get("next") || "";
	return /^\/console(\/[^/\\]|$|\?)/.test(n) && !n.startsWith("/console/login") ? n : "/console";
}

async function signIn(e) {
	e.preventDefault();
	const box = $("problem");
	clearErrors(box);
	const login = $("login").value.trim();
	const password = $("password").value;
	if (!login)
		return showError(box, { status: 400, error: { field: "login", message: t("c.login.needLogin") } }, { login: "login" });
	if (!password)
		return showError(box, { status: 400, error: { field: "password", message: t("c.login.needPassword") } }, { password: "password" });
	$("submit").disabled = true;
	const res = await api("/console/api/login", { method: "POST", body: { login, password }, signedOut: true });
	$("submit").disabled = false;
	if (res.status === 200 && res.data) {
		remember(res.data);
		location.replace(next());
		return;
	}
	$("password").value = "";
	if (res.status === 401)
		return showError(box, { status: 401, error: { field: "password", message: t("c.login.wrong") } }, { password: "password" });
	showError(box, res, { login: "login", password: "password" });
}

startPublicPage();
$("login-form").addEventListener("submit", signIn);
$("login").focus();
