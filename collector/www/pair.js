// pair.js - /pair/{code}: trade the one-time pairing code for this kiosk's
// device token, keep the token in localStorage (never in a URL) and open
// the kiosk.  A failure is told in both languages, the chosen one first.
import { initLang, onLang, t, tIn } from "./i18n.js";
import { request } from "./api.js";
import { h, fill } from "./dom.js";
import { storePairing } from "./storage.js";

const $ = (id) => document.getElementById(id);
const m = /^\/pair\/([^/?#]+)\/?$/.exec(location.pathname);
let code = "";
try {
	code = m ? decodeURIComponent(m[1]) : "";
} catch {
	code = "";
}
let state = { busy: true };

function both(key, vars) {
	return h("div", { class: "bilingual" },
		h("p", { lang: "vi" }, tIn("vi", key, vars)),
		h("p", { lang: "en" }, tIn("en", key, vars)));
}

function render() {
	const problem = $("problem");
	$("retry").hidden = !state.retry;
	if (state.busy || state.done) {
		fill($("status"), h("p", {}, t(state.done ? "pair.done" : "pair.busy")));
		problem.hidden = true;
		return;
	}
	fill($("status"));
	const todo = state.todo ? both("pair.todo") : null;
	if (todo)
		todo.classList.add("quiet");
	fill(problem, both(state.key, state.vars), todo);
	problem.hidden = false;
}

function fail(key, vars, { retry = false, todo = true } = {}) {
	state = { key, vars, retry, todo };
	render();
	$("problem").focus();
}

async function pair() {
	state = { busy: true };
	render();
	if (!code)
		return fail("pair.missing");
	const res = await request("/api/pair", { method: "POST", body: { code } });
	if (res.status === 200 && res.data && typeof res.data.token === "string" && res.data.token) {
		try {
			storePairing(res.data.token);
		} catch {
			return fail("pair.storage");
		}
		state = { done: true };
		render();
		location.replace("/kiosk");
		return;
	}
	const msg = (res.error && res.error.message) || "";
	if (res.status === 401 || res.status === 404 || res.status === 400)
		return fail(/used/i.test(msg) ? "pair.used" : /expir/i.test(msg) ? "pair.expired" : "pair.unknown");
	if (res.status === 429)
		return fail("pair.tooMany", { s: res.retryAfter ?? 60 }, { retry: true, todo: false });
	if (res.status === 0)
		return fail("pair.network", null, { retry: true, todo: false });
	return fail("pair.server", { status: res.status }, { retry: true, todo: false });
}

initLang();
onLang(render);
$("retry").addEventListener("click", pair);
pair();
