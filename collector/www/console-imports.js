// console-imports.js - /console/imports: load a survey CSV (paper forms) or
// a dossier totals file.  The file goes up as multipart/form-data with the
// progress shown; the reply says how many rows were imported and how many
// were already there, or lists every refused row (line, column, message:
// the server lists up to 100) and nothing is stored.
import { $, clearErrors, fill, fmtNumber, h, showError, startPage, t, table, upload } from "./console.js";

function kind() {
	return document.querySelector("input[name=kind]:checked").value;
}

function showKind() {
	$("form-field").hidden = kind() !== "survey";
}

function showProgress(loaded, total) {
	const p = $("progress");
	if (total) {
		p.max = total;
		p.value = loaded;
		p.setAttribute("aria-valuetext", t("c.imports.sent", { pct: Math.floor((loaded * 100) / total) }));
	} else {
		p.removeAttribute("value");
	}
}

// The refused rows of a 400 reply, each with where it is and why.
function badRows(res) {
	const d = res.data || {};
	const list = d.errors || (d.error && d.error.errors) || [];
	return Array.isArray(list) ? list : [];
}

async function send(e) {
	e.preventDefault();
	const box = $("problem");
	clearErrors(box);
	fill($("result"));
	fill($("rows"));
	const file = $("file").files[0];
	if (!file)
		return showError(box, { status: 400, error: { field: "file", message: t("c.imports.needFile") } }, { file: "file" });
	const fd = new FormData();
	fd.append("kind", kind());
	if (kind() === "survey")
		fd.append("form", $("form").value.trim() || "sipas-2017");
	fd.append("file", file, file.name);
	$("send").disabled = true;
	$("progress-box").hidden = false;
	showProgress(0, file.size);
	fill($("result"), t("c.imports.sending", { name: file.name }));
	const res = await upload("/console/api/imports", fd, showProgress);
	$("send").disabled = false;
	$("progress-box").hidden = true;
	if (res.status === 200 && res.data) {
		const d = res.data;
		const published = Array.isArray(d.published) ? d.published : [];
		fill($("result"), h("p", { class: "c-ok" }, t("c.imports.done", {
			name: file.name, rows: fmtNumber(d.rows), imported: fmtNumber(d.imported), already: fmtNumber(d.already),
		})), published.length ? h("p", { class: "c-problem" }, t("c.imports.published", { periods: published.join(", ") })) : null);
		return;
	}
	const rows = badRows(res);
	if (res.status === 400 && rows.length) {
		fill($("result"), h("p", { class: "c-problem" }, t("c.imports.refused", { name: file.name, n: rows.length }),
			" ", (res.error && res.error.message) || ""));
		fill($("rows"), table(t("c.imports.rowsCaption", { name: file.name }),
			[t("c.imports.line"), t("c.imports.column"), t("c.imports.message")],
			rows.map((r) => [String(r.line ?? "—"), r.column == null || r.column === "" ? "—" : String(r.column), r.message || ""]), ""));
		return;
	}
	showError(box, res, { kind: "kind-survey", form: "form", file: "file" });
}

const user = await startPage("/console/imports");
if (user) {
	for (const r of document.querySelectorAll("input[name=kind]"))
		r.addEventListener("change", showKind);
	showKind();
	$("import-form").addEventListener("submit", send);
}
