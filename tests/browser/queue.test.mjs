// A queued rating that the server refuses (400) is dropped and counted in the
// status mark, and the ratings behind it still go.
import { assertEqual, responses, restartOnPort, sleep, until } from './lib.mjs';
import { kioskReady, rate, startPairedKiosk, statusMark } from './pages.mjs';

export const tests = [{
	name: 'queue_refused_item',
	timeout: 90000,
	async fn(tc) {
		const { srv, page } = await startPairedKiosk(tc);

		// Three ratings queued while the server is down ...
		await srv.stop('SIGTERM');
		for (const value of [2, 3, 2])
			await rate(page, value);
		// ... the oldest made unreadable for the server in the kiosk's own
		// queue (collector/www/queue.js: IndexedDB "sipas-kiosk", store "queue").
		const ids = await page.evaluate(() => new Promise((ok, fail) => {
			const open = indexedDB.open('sipas-kiosk');
			open.onerror = () => fail(open.error);
			open.onsuccess = () => {
				const tx = open.result.transaction('queue', 'readwrite');
				const store = tx.objectStore('queue');
				const out = [];
				store.openCursor().onsuccess = (e) => {
					const c = e.target.result;
					if (!c)
						return;
					const rec = c.value;
					if (out.length === 0) {
						rec.body.answers.overall = 5;   // off the scale 1..3
						c.update(rec);
					}
					out.push(rec.id);
					c.continue();
				};
				tx.oncomplete = () => ok(out);
				tx.onerror = () => fail(tx.error);
			};
		}));
		assertEqual(ids.length, 3, 'three ratings in the queue');

		await restartOnPort(tc, srv.port);
		await page.reload();
		await kioskReady(page);
		await until('the two good ratings to arrive', () => responses(tc, 'kiosk-2018').length >= 2, { timeout: 30000, interval: 250 });
		await until('the status mark to show all sent and one refused', async () => {
			const s = await statusMark(page);
			return s && s.unsent === 0 && s.refused === 1;
		}, { timeout: 10000 });
		await sleep(500);
		const rows = responses(tc, 'kiosk-2018');
		assertEqual(rows.map((r) => [r.response_id, r.hex]), [[ids[1], '03'], [ids[2], '02']],
			'the two ratings behind the refused one, once each');
	},
}];
