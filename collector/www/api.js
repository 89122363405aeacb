// api.js - JSON requests to the collector, the server's clock, ids and
// timestamps.  The clock offset (server time - local time, from each
// answer's Date header) is kept in localStorage "sipas.clockOffset" so a
// kiosk restarted while the server is down still dates its ratings.
const OFFSET_KEY = "sipas.clockOffset";
let offset = 0;
try {
	offset = Number(localStorage.getItem(OFFSET_KEY)) || 0;
} catch {
	/* no storage: start from the local clock */
}

function noteDate(header, sentAt, now) {
	const server = Date.parse(header || "");
	if (Number.isNaN(server))
		return;
	// Date has whole seconds: take the middle of that second, and the
	// middle of the round trip.
	const o = server + 500 - Math.round((sentAt + now) / 2);
	if (Math.abs(o - offset) < 1000)
		return;
	offset = o;
	try {
		localStorage.setItem(OFFSET_KEY, String(o));
	} catch {
		/* kept for this page only */
	}
}

// Seconds to wait from a Retry-After header (seconds or an HTTP date), or null.
function retryAfter(v) {
	if (!v)
		return null;
	if (/^\d+$/.test(v.trim()))
		return Number(v);
	const d = Date.parse(v);
	return Number.isNaN(d) ? null : Math.max(0, Math.ceil((d - serverNow()) / 1000));
}

// request(path, {method, body, token}) -> {status, data, error, retryAfter};
// status 0 when the server could not be reached.  Never throws.
export async function request(path, { method = "GET", body, token } = {}) {
	const headers = { Accept: "application/json" };
	if (body !== undefined)
		headers["Content-Type"] = "application/json";
	if (token)
		headers.Authorization = `Bearer ${token}`;
	const sentAt = Date.now();
	let res;
	try {
		res = await fetch(path, {
			method, headers, cache: "no-store", credentials: "same-origin",
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch (e) {
		return { status: 0, data: null, error: { code: "network", message: String(e) }, retryAfter: null };
	}
	noteDate(res.headers.get("Date"), sentAt, Date.now());
	let data = null;
	if ((res.headers.get("Content-Type") || "").includes("json")) {
		try {
			data = await res.json();
		} catch {
			data = null;
		}
	}
	return {
		status: res.status, data,
		error: data && data.error ? data.error : null,
		retryAfter: retryAfter(res.headers.get("Retry-After")),
	};
}

export function serverNow() {
	return Date.now() + offset;
}

// An ISO 8601 time in Vietnam (+07:00), e.g. 2026-11-27T10:15:00+07:00.
export function vietnamTime(ms = serverNow()) {
	const d = new Date(ms + 7 * 3600 * 1000);
	const p = (n) => String(n).padStart(2, "0");
	return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
		`${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}+07:00`;
}

// prefix + 16 random bytes in hex.
export function randomId(prefix) {
	const b = crypto.getRandomValues(new Uint8Array(16));
	return prefix + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
