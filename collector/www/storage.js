// storage.js - what a kiosk tablet keeps in localStorage, under keys
// defined here once for the pairing page (pair.js stores the token) and
// the kiosk (kiosk.js, send.js): the device token, the sector chosen, the
// last /api/kiosk answer and form (so a reload works while the server is
// down), and how many ratings the server refused for good.  Reads and
// writes never throw: without storage a read is null and a write is lost
// (the kiosk then works until the next reload).
export const KEY = {
	token: "sipas.kiosk.token", sector: "sipas.kiosk.sector", refused: "sipas.kiosk.refused",
	config: "sipas.kiosk.config", form: "sipas.kiosk.form",
};

export function get(k) {
	try {
		return localStorage.getItem(k);
	} catch {
		return null;
	}
}

// v null or undefined removes k.
export function set(k, v) {
	try {
		if (v == null)
			localStorage.removeItem(k);
		else
			localStorage.setItem(k, v);
	} catch {
		/* kept in memory only */
	}
}

export function getJSON(k) {
	try {
		return JSON.parse(get(k));
	} catch {
		return null;
	}
}

// A new pairing: keep its token and forget the previous pairing's sector
// and set-up (another kiosk's).  Throws when the token cannot be stored,
// since the kiosk page would then not find it.
export function storePairing(token) {
	localStorage.setItem(KEY.token, token);
	for (const k of [KEY.sector, KEY.config])
		localStorage.removeItem(k);
}
