// queue.js - the kiosk's ratings waiting to be sent, in IndexedDB
// ("sipas-kiosk", store "queue"), written with strict durability before any
// attempt to send.  Records: {seq, id: response_id, body, hold}; a record is
// not sent before its hold time (a rating whose follow-up may still come).
// Without IndexedDB the queue lives in memory and queue.durable is false.
const DB = "sipas-kiosk";
const STORE = "queue";

function done(req) {
	return new Promise((ok, fail) => {
		req.onsuccess = () => ok(req.result);
		req.onerror = () => fail(req.error);
	});
}

function committed(tx) {
	return new Promise((ok, fail) => {
		tx.oncomplete = () => ok();
		tx.onerror = tx.onabort = () => fail(tx.error || new Error("transaction aborted"));
	});
}

class IdbQueue {
	constructor(db) {
		this.db = db;
		this.durable = true;
	}

	async write(fn) {
		const tx = this.db.transaction(STORE, "readwrite", { durability: "strict" });
		const r = fn(tx.objectStore(STORE));
		await committed(tx);
		return r;
	}

	// Store a record; resolves with its seq once committed.
	async add(rec) {
		const req = await this.write((s) => s.add(rec));
		rec.seq = req.result;
		return rec.seq;
	}

	put(rec) {
		return this.write((s) => s.put(rec));
	}

	remove(seqs) {
		return this.write((s) => { for (const k of seqs) s.delete(k); });
	}

	count() {
		return done(this.db.transaction(STORE).objectStore(STORE).count());
	}

	// Up to max records whose hold has passed, oldest first.
	ready(max, now) {
		return new Promise((ok, fail) => {
			const out = [];
			const req = this.db.transaction(STORE).objectStore(STORE).openCursor();
			req.onerror = () => fail(req.error);
			req.onsuccess = () => {
				const c = req.result;
				if (!c || out.length >= max)
					return ok(out);
				if (!(c.value.hold > now))
					out.push(c.value);
				c.continue();
			};
		});
	}
}

class MemoryQueue {
	constructor() {
		this.items = [];
		this.seq = 0;
		this.durable = false;
	}

	async add(rec) {
		rec.seq = ++this.seq;
		this.items.push(rec);
		return rec.seq;
	}

	async put(rec) {
		const i = this.items.findIndex((x) => x.seq === rec.seq);
		if (i >= 0)
			this.items[i] = rec;
	}

	async remove(seqs) {
		this.items = this.items.filter((x) => !seqs.includes(x.seq));
	}

	async count() {
		return this.items.length;
	}

	async ready(max, now) {
		return this.items.filter((x) => !(x.hold > now)).slice(0, max);
	}
}

export async function openQueue() {
	try {
		const req = indexedDB.open(DB, 1);
		req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
		return new IdbQueue(await done(req));
	} catch {
		return new MemoryQueue();
	}
}
