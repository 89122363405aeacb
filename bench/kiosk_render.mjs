// kiosk_render.mjs - `make bench`: how long the kiosk page takes to show its
// faces on a slow tablet, measured in headless Debian Chromium with the CPU
// throttled 4x (Chrome DevTools' emulation), the browser cache and service
// worker off so every file comes from the server.  Prints one line:
//   kiosk first render, CPU 4x slower: median MS (first contentful paint MS), RUNS runs
// Target: at most 1000 ms.  Uses the browser tests' helpers (tests/browser/lib.mjs).
import { Case, killAllServers } from '../tests/browser/lib.mjs';
import { kioskReady, startPairedKiosk } from '../tests/browser/pages.mjs';

const RUNS = Number(process.env.BENCH_RENDER_RUNS || 7);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const tc = new Case('bench.kiosk_render');
try {
	const { srv, page } = await startPairedKiosk(tc, { serviceWorkers: 'block' });
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
	await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
	const shown = [], fcp = [];
	for (let i = 0; i < RUNS; i++) {
		const t0 = Date.now();
		await page.goto(`${srv.base}/kiosk`, { waitUntil: 'commit' });
		await kioskReady(page);
		shown.push(Date.now() - t0);
		fcp.push(await page.evaluate(() =>
			performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));
	}
	console.log(`kiosk first render, CPU 4x slower: median ${median(shown)} ms ` +
		`(first contentful paint ${Math.round(median(fcp))} ms), ${RUNS} runs; target <= 1000 ms`);
} finally {
	await tc.close();
	killAllServers();
}
