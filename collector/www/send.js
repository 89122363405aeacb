// send.js - the kiosk's send pump: posts the ratings waiting in the queue
// (queue.js) to /api/responses/batch, oldest first, up to 500 at a time.
// A batch the server cannot take whole (413, 400) is halved down to one
// rating; a single rating it cannot read (400), or a batch item refused for
// good (4xx but 429), leaves the queue and is counted (refusedCount); one
// stored (200, 201) or in conflict with a stored rating (409, which no
// retry mends) leaves it too.  Anything else waits: Retry-After for 429 and 503, else a
// backoff of 1 s doubling to 60 s.  A 401 or 403 stops the pump for good:
// the tablet is no longer this kiosk's.  The screens (kiosk.js) call
// pump() after each rating and hear back through the callbacks.
import { request } from "./api.js";
import { KEY, get, set } from "./storage.js";

const BATCH = 500;
const BACKOFF_MAX = 60000;
const EVERY = 30000;          // a pump now and then, whatever happened

// How many ratings the server refused for good on this tablet.
export function refusedCount() {
	return Number(get(KEY.refused)) || 0;
}

function countRefused(n) {
	set(KEY.refused, String(refusedCount() + n));
}

// Start sending queue's ratings with the kiosk's token; returns pump, which
// sends what is ready unless a send runs or the wait is not over.
// on.unpaired(res) is told of a 401 or 403 reply; on.changed() after each
// batch and when a pump ends (the queue's count may have changed).
export function startSending(queue, token, on) {
	let sending = false, notBefore = 0, backoff = 0, batch = BATCH, blocked = false;

	function retryLater(seconds) {
		if (seconds != null) {
			notBefore = Date.now() + Math.max(1, seconds) * 1000;
		} else {
			backoff = backoff ? Math.min(backoff * 2, BACKOFF_MAX) : 1000;
			notBefore = Date.now() + backoff;
		}
		setTimeout(pump, notBefore - Date.now() + 10);
	}

	async function pump() {
		if (sending || blocked || Date.now() < notBefore)
			return;
		sending = true;
		try {
			for (;;) {
				const items = await queue.ready(batch, Date.now());
				if (!items.length)
					break;
				const res = await request("/api/responses/batch", {
					method: "POST", token, body: { responses: items.map((r) => r.body) },
				});
				if (res.status === 401 || res.status === 403) {
					blocked = true;
					on.unpaired(res);
					break;
				}
				if ((res.status === 413 || res.status === 400) && items.length > 1) {
					batch = Math.max(1, items.length >> 1);
					continue;
				}
				if (res.status === 400) {           // a single item the server cannot read
					await queue.remove([items[0].seq]);
					countRefused(1);
					continue;
				}
				if (res.status !== 200 || !res.data || !Array.isArray(res.data.results)) {
					retryLater(res.status === 429 || res.status === 503 ? res.retryAfter : null);
					break;
				}
				const byId = new Map(items.map((r) => [r.id, r]));
				const gone = [];
				let bad = 0, again = false;
				for (const r of res.data.results) {
					const rec = byId.get(r.response_id);
					if (!rec)
						continue;
					if (r.status === 200 || r.status === 201 || r.status === 409) {
						gone.push(rec.seq);
					} else if (r.status >= 400 && r.status < 500 && r.status !== 429) {
						gone.push(rec.seq);
						bad++;
					} else {
						again = true;
					}
				}
				await queue.remove(gone);
				if (bad)
					countRefused(bad);
				on.changed();
				if (again || !gone.length) {
					retryLater(null);
					break;
				}
				backoff = 0;
				batch = Math.min(BATCH, batch * 2);
			}
		} catch {
			retryLater(null);
		} finally {
			sending = false;
			on.changed();
		}
	}

	window.addEventListener("online", () => { notBefore = 0; pump(); });
	setInterval(pump, EVERY);
	return pump;
}
