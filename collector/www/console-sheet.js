// console-sheet.js - /console/devices/sheet: the A4 sheet for the staff of
// a counter, printed once a kiosk's pairing code is made: its QR code, the
// agency and counter, how to pair, and the staff PIN.  It reads the
// pairing reply the devices page left in sessionStorage (this tab only),
// so the code and PIN are never in a URL or a server log.
import { $, fill, fmtTime, h, onLang, SHEET_KEY, startPage, t } from "./console.js";

let data = null;

function read() {
	try {
		const d = JSON.parse(sessionStorage.getItem(SHEET_KEY));
		return d && typeof d === "object" && typeof d.pair_url === "string" ? d : null;
	} catch {
		return null;
	}
}

// The QR code: the server's SVG parsed as SVG (never as HTML) and put in
// the page as an image with a name in the page's language.
function qr(svgText) {
	const doc = new DOMParser().parseFromString(svgText || "", "image/svg+xml");
	const svg = doc.documentElement;
	if (!svg || svg.localName !== "svg" || doc.querySelector("parsererror"))
		return h("p", { class: "c-problem" }, t("c.sheet.noQr"));
	for (const s of svg.querySelectorAll("script, foreignObject"))
		s.remove();
	const node = document.importNode(svg, true);
	node.removeAttribute("width");
	node.removeAttribute("height");
	node.setAttribute("role", "img");
	node.setAttribute("aria-label", t("c.sheet.qr", { counter: data.counter }));
	return node;
}

function render() {
	if (!data)
		return;
	fill($("qr"), qr(data.qr_svg));
	fill($("s-agency"), data.agency_name ? `${data.agency_name} (${data.agency})` : data.agency);
	fill($("s-counter"), data.counter);
	fill($("s-sectors"), (data.sectors || []).join(", ") || t("c.devices.allSectors"));
	fill($("s-expires"), fmtTime(data.expires_at));
	fill($("s-pin"), data.pin || "—");
	fill($("s-url"), data.pair_url);
}

const user = await startPage("/console/devices");
if (user) {
	data = read();
	if (!data) {
		fill($("page-status"), h("p", { class: "c-problem" }, t("c.sheet.none")),
			h("p", {}, h("a", { href: "/console/devices" }, t("c.sheet.back"))));
	} else {
		$("sheet").hidden = false;
		onLang(render);
		render();
		$("print").addEventListener("click", () => window.print());
	}
}
