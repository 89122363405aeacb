// console-password.js - /console/password/{token}: the person an account
// was made for (or reset) sets their own password through the one-time
// link the office gave them.  The token is only in this page's URL.
import { $, api, clearErrors, fill, h, showError, startPublicPage, t } from "./console.js";

const MIN = 10;   // characters, the server's rule too
const m = /^\/console\/password\/([^/?#]+)\/?$/.exec(location.pathname);
let token = "";
try {
	token = m ? decodeURIComponent(m[1]) : "";
} catch {
	token = "";
}

function problem(field, key) {
	showError($("problem"), { status: 400, error: { field, message: t(key, { min: MIN }) } }, { password: "password", again: "again" });
}

function linkUnusable() {
	$("password-form").hidden = true;
	showError($("problem"), { status: 404, error: { message: t("c.setpw.badLink") } });
}

async function setPassword(e) {
	e.preventDefault();
	clearErrors($("problem"));
	const password = $("password").value;
	if ([...password].length < MIN)
		return problem("password", "c.setpw.tooShort");
	if (password !== $("again").value)
		return problem("again", "c.setpw.differ");
	$("submit").disabled = true;
	const res = await api("/console/api/password", { method: "POST", body: { token, password }, signedOut: true });
	$("submit").disabled = false;
	if (res.status === 200) {
		$("password-form").hidden = true;
		const login = res.data && res.data.login ? res.data.login : "";
		fill($("done"), h("p", {}, t("c.setpw.done", { login })),
			h("p", {}, h("a", { class: "btn", href: "/console/login" }, t("c.setpw.toLogin"))));
		$("done").hidden = false;
		$("done").focus();
		return;
	}
	if (res.status === 404 || (res.error && res.error.field === "token"))
		return linkUnusable();
	showError($("problem"), res, { password: "password" });
}

startPublicPage();
if (!token)
	linkUnusable();
$("password-form").addEventListener("submit", setPassword);
