// The kiosk page, with everything it loads, weighs at most 60 KB on the wire.
import { assert } from './lib.mjs';
import { kioskReady, startPairedKiosk } from './pages.mjs';

const BUDGET = 60 * 1024;

export const tests = [{
	name: 'kiosk_weight',
	async fn(tc) {
		// No service worker, so that every byte the page needs comes over the network.
		const { srv, page } = await startPairedKiosk(tc, { serviceWorkers: 'block' });

		const cdp = await page.context().newCDPSession(page);
		await cdp.send('Network.enable');
		await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
		const urls = new Map(), sizes = new Map();
		cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
		cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
		await page.goto(`${srv.base}/kiosk`, { waitUntil: 'load' });
		await kioskReady(page);
		await page.waitForTimeout(500);

		const list = [...sizes].map(([id, n]) => [urls.get(id) || id, n]);
		const total = list.reduce((s, [, n]) => s + n, 0);
		tc.log(list.map(([u, n]) => `${n}\t${u}`).join('\n'));
		assert(list.some(([u]) => new URL(u).pathname === '/kiosk'), 'the document itself was measured');
		assert(total <= BUDGET, `the kiosk transferred ${total} bytes, over ${BUDGET}:\n` +
			list.map(([u, n]) => `      ${n}  ${u}`).join('\n'));
		return `${total} bytes in ${list.length} responses (budget ${BUDGET})`;
	},
}];
