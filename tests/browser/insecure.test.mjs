// The kiosk works from a host name that is not a secure context
// (http://kiosk.test:PORT): no service worker, no crypto.subtle, yet it pairs
// and a tap stores a rating; its staff mode warns that it needs HTTPS.
import { assert, assertEqual, responses, until } from './lib.mjs';
import { openStaffMode, pairKiosk, rate } from './pages.mjs';

export const tests = [{
	name: 'kiosk_insecure_host',
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const base = `http://kiosk.test:${srv.port}`;
		const { url } = tc.pairingLink(base, { pin: '246810' });
		assert(url.startsWith(`${base}/pair/`), `the pairing link is on ${base} (${url})`);
		const browser = await tc.browser({ args: ['--host-resolver-rules=MAP kiosk.test 127.0.0.1'] });
		const page = await tc.page(browser);
		await pairKiosk(page, url);
		assertEqual(new URL(page.url()).origin, base, 'the kiosk stays on kiosk.test');
		assertEqual(await page.evaluate(() => window.isSecureContext), false, 'window.isSecureContext');
		await rate(page, 2);
		await until('the rating to be stored', () => responses(tc, 'kiosk-2018').length === 1);
		assertEqual(responses(tc, 'kiosk-2018').map((r) => r.hex), ['02'], 'the stored rating');
		await openStaffMode(page, '246810');
		await page.getByText(/không được mở qua HTTPS/).waitFor({ state: 'visible' });
	},
}];
