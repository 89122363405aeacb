// The pairing link pairs one tablet once; a revoked kiosk is told so.
import { assert, sleep, until } from './lib.mjs';
import { pairKiosk, face } from './pages.mjs';

export const tests = [{
	name: 'pairing',
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { id, url } = tc.pairingLink(srv.base);
		assert(id, 'device add printed the device id');
		const [[agencyName]] = tc.sql("SELECT name FROM agencies WHERE code = 'P-HONGBANG'");
		const browser = await tc.browser();

		// First opening: the tablet gets its token and shows the agency.
		const page = await tc.page(browser);
		await pairKiosk(page, url);
		await page.getByText(agencyName).first().waitFor({ state: 'visible' });
		const token = await page.evaluate(() => localStorage.getItem('sipas.kiosk.token'));
		assert(token && token.length > 20, `a token in localStorage sipas.kiosk.token (got ${token})`);
		const [[pairedAt]] = tc.sql(`SELECT paired_at IS NOT NULL FROM devices WHERE id = ${Number(id)}`);
		assert(pairedAt === '1', 'devices.paired_at is set');

		// The same link in a fresh context: refused, and it says so.
		const other = await tc.page(browser);
		const resp = await other.goto(url);
		await other.getByText(/Mã ghép nối này đã được dùng/)
			.first().waitFor({ state: 'visible' });
		assert(new URL(other.url()).pathname.startsWith('/pair/'), `the refused tablet stays on /pair/ (is on ${other.url()}, status ${resp && resp.status()})`);
		assert(await other.evaluate(() => localStorage.getItem('sipas.kiosk.token')) === null,
			'the refused tablet has no token');
		assert(!(await face(other, 3).isVisible()), 'the refused tablet shows no faces');

		// Revoked: the paired kiosk, reloaded, says it was revoked or unpaired.
		// A revocation takes effect within a second (docs/collector.md).
		tc.sipas('device', 'revoke', id);
		await sleep(1500);
		await page.reload();
		await until('the kiosk to say it was revoked', async () =>
			page.getByText(/thu hồi|chưa được ghép|hủy ghép|revoked|not paired|unpaired/i).first().isVisible(),
		{ timeout: 15000 });
		assert(!(await face(page, 3).isVisible()), 'a revoked kiosk shows no faces');
	},
}];
