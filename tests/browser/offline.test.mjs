// Offline: ratings taken while the server is down wait in the tablet's queue,
// survive a reload (the service worker serves the page), and each arrives
// exactly once when the server is back on the same port; the service
// worker's shell holds every file the kiosk page loads.
import { assert, assertEqual, responses, restartOnPort, sleep, until } from './lib.mjs';
import { kioskReady, pairKiosk, rate, startPairedKiosk, unsentCount } from './pages.mjs';

export const tests = [{
	name: 'offline_queue',
	timeout: 90000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const port = srv.port;
		const { url } = tc.pairingLink(srv.base);
		const page = await tc.page(await tc.browser());
		await pairKiosk(page, url);
		// The kiosk's service worker is active (it will serve the next load).
		await until('an active service worker for /kiosk', () => page.evaluate(async () => {
			const reg = await navigator.serviceWorker.getRegistration('/kiosk');
			return !!(reg && reg.active && reg.active.state === 'activated');
		}), { timeout: 10000 });

		await srv.stop('SIGTERM');
		for (const value of [3, 1, 2])
			await rate(page, value);
		assertEqual(responses(tc, 'kiosk-2018').length, 0, 'nothing stored while the server is down');
		await until('the status mark to show 3 unsent', async () => (await unsentCount(page)) === 3);

		await page.reload();
		await kioskReady(page);
		assert(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the reloaded page came from the service worker');
		await until('the status mark to show 3 unsent after the reload', async () => (await unsentCount(page)) === 3);

		await restartOnPort(tc, port);
		await until('the three queued ratings to arrive', () => responses(tc, 'kiosk-2018').length >= 3, { timeout: 45000, interval: 250 });
		await until('the status mark to show 0 unsent', async () => (await unsentCount(page)) === 0);
		await sleep(1500);
		const rows = responses(tc, 'kiosk-2018');
		assertEqual(rows.map((r) => r.hex), ['03', '01', '02'], 'each queued rating exactly once, in order');
		assertEqual(new Set(rows.map((r) => r.response_id)).size, 3, 'distinct response ids');
	},
}, {
	// A module the kiosk imports but sw.js does not keep would break the
	// kiosk's reload while the server is down (the import fails offline).
	name: 'offline_shell_holds_every_file_the_kiosk_loads',
	async fn(tc) {
		const { srv, page } = await startPairedKiosk(tc, { serviceWorkers: 'block' });
		const loaded = new Set();
		page.on('request', (r) => {
			const u = new URL(r.url());
			if (u.origin === srv.base && u.pathname !== '/sw.js' && !u.pathname.startsWith('/api/'))
				loaded.add(u.pathname);
		});
		await page.goto(`${srv.base}/kiosk`, { waitUntil: 'load' });
		await kioskReady(page);
		const sw = await (await fetch(`${srv.base}/sw.js`)).text();
		const shell = JSON.parse(`[${/const SHELL = \[([^\]]*)\]/.exec(sw)[1].replace(/,\s*$/, '')}]`);
		const modules = [...loaded].filter((p) => p.endsWith('.js'));
		assert(modules.length >= 2, `the kiosk loaded its modules (saw ${[...loaded].join(' ')})`);
		const missing = [...loaded].filter((p) => !shell.includes(p));
		assertEqual(missing, [], 'files the kiosk loaded that the service worker does not keep');
		return `${loaded.size} files, all in the shell`;
	},
}];
