// A kiosk that serves several sectors: the officer picks the counter's
// sector on the tablet before handing it over, and changes it later in the
// staff mode; the officer's screens show no rating; the ratings are stored
// for the sector picked.
import { assert, assertEqual, until } from './lib.mjs';
import { face, kioskReady, openStaffMode, rate, SETTLE } from './pages.mjs';

export const tests = [{
	name: 'kiosk_officer_picks_the_sector',
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base, { sectors: ['dat-dai', 'xay-dung'], pin: '135790' });
		const page = await tc.page(await tc.browser());
		await page.goto(url);
		await page.waitForURL((u) => new URL(u).pathname === '/kiosk');
		await page.getByRole('heading', { name: 'Chọn lĩnh vực cho quầy này' }).waitFor();
		assertEqual(await face(page, 3).count(), 0, 'no face before a sector is picked');
		await page.getByRole('button', { name: 'Xây dựng', exact: true }).click();
		await kioskReady(page);
		await rate(page, 3);
		await until('the rating stored', () =>
			tc.sql("SELECT s.code FROM responses r JOIN sectors s ON s.id = r.sector_id").length === 1);
		assertEqual(tc.sql("SELECT s.code FROM responses r JOIN sectors s ON s.id = r.sector_id"),
			[['xay-dung']], 'the rating is for the sector the officer picked');
		// in the staff mode: the sectors, and nothing of the rating
		await openStaffMode(page, '135790');
		await page.getByRole('heading', { name: 'Chọn lĩnh vực cho quầy này' }).waitFor();
		const text = await page.locator('main').innerText();
		for (const word of ['Rất hài lòng', 'Không hài lòng', 'Hài lòng'])
			assert(!text.includes(word), `the officer's screen shows "${word}"`);
		// the choice survives a reload
		// the current sector is marked (CSS adds a tick to its name)
		await page.waitForTimeout(SETTLE);
		await page.getByRole('button', { name: /Xây dựng/ }).click();
		await page.reload();
		await kioskReady(page);
	},
}];
