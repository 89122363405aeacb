// The console's Live and Alerts screens for the office, by keyboard:
// ratings posted by a kiosk show in Live with their share, interval,
// target and reasons, and as a point of the funnel plot, inline with its
// title; the alert the kiosk's falling ratings opened shows in Alerts
// with its evidence.
import { assert, assertEqual } from './lib.mjs';
import { setConsolePassword, signIn, tableRows } from './pages.mjs';

const PASSWORD = 'một câu dài đủ mười ký tự';

// A kiosk of SO-XD for land posts 30 ratings now: 20 satisfied, then 10
// not, for a long wait, which its CUSUM flags (the alert engine).
export async function liveData(tc, base) {
	const token = tc.sipas('device', 'add', '--agency', 'SO-XD', '--counter', 'Quầy 1', '--sector', 'dat-dai').trim();
	const now = new Date(Date.now() - 60000).toISOString().replace(/\.\d+Z$/, 'Z');
	const responses = Array.from({ length: 30 }, (_, i) => ({
		response_id: `L-${i}`, form: 'kiosk-2018', agency: 'SO-XD', sector: 'dat-dai', channel: 'kiosk',
		submitted_at: now, answers: i < 20 ? { overall: 3 } : { overall: 1, reason: 'long-wait' },
	}));
	const res = await fetch(`${base}/api/responses/batch`, {
		method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ responses }),
	});
	assertEqual(res.status, 200, 'the batch is stored');
	assert(!(await res.text()).includes('"error"'), 'every rating is stored');
}

export const tests = [{
	name: 'console_live_and_alerts_by_keyboard',
	timeout: 90000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		await liveData(tc, srv.base);
		const link = tc.userLink(srv.base, { login: 'ana', name: 'Nguyễn Thị An', role: 'office' });
		const browser = await tc.browser();
		const page = await tc.page(browser);
		// the strict policy refuses inline script and style: none is tried
		const refused = [];
		page.on('console', (m) => {
			if (/Content Security Policy/i.test(m.text()))
				refused.push(m.text());
		});
		await setConsolePassword(page, link, PASSWORD);
		await signIn(page, srv.base, 'ana', PASSWORD);

		// the header's link, by keyboard
		await page.getByRole('navigation', { name: 'Các màn hình' }).getByRole('link', { name: 'Trực tiếp' }).focus();
		await page.keyboard.press('Enter');
		await page.waitForURL((u) => new URL(u).pathname === '/console/live');
		let rows = await tableRows(page, 'Đánh giá Hôm nay, theo Cơ quan');
		assertEqual(rows.length, 1, 'one agency');
		assertEqual(rows[0].slice(0, 3), ['SO-XD', '30', '66,7 %'], 'SO-XD: 30 ratings, 20 satisfied');
		assertEqual(rows[0][4], '95,0 %', 'the target for every sector');
		assertEqual(rows[0][6], 'Phải chờ đợi lâu: 10', 'the reasons, in words');
		const funnel = page.getByRole('img', { name: /^Tỷ lệ hài lòng theo số đánh giá, hôm nay, theo cơ quan/ });
		await funnel.waitFor();
		assert((await funnel.locator('title').allTextContents()).some((x) => x.includes('SO-XD')), 'SO-XD is a point');

		// opened alone, the plot is a picture of its own
		const alone = await page.context().newPage();
		await alone.goto(`${srv.base}/api/live/funnel.svg?window=today&by=agency`);
		assertEqual(await alone.evaluate(() => document.documentElement.namespaceURI), 'http://www.w3.org/2000/svg',
			'the funnel opened alone is an SVG document');
		assert((await alone.evaluate(() => document.querySelector('svg[role="img"]').getBoundingClientRect().width)) > 100,
			'and is drawn');
		await alone.close();

		// by sector over 7 days, chosen and shown by keyboard
		await page.getByLabel('Khoảng thời gian').focus();
		await page.keyboard.press('ArrowDown');
		await page.getByLabel('Theo', { exact: true }).focus();
		await page.keyboard.press('ArrowDown');
		await page.getByRole('button', { name: 'Xem' }).focus();
		await page.keyboard.press('Enter');
		rows = await tableRows(page, 'Đánh giá 7 ngày qua, theo Lĩnh vực');
		assertEqual(rows[0].slice(0, 3), ['dat-dai', '30', '66,7 %'], 'land');
		assertEqual(rows[0][4], '90,0 %', "land's target");
		assert(new URL(page.url()).search === '?window=7d&by=sector', `the view is in the address: ${page.url()}`);

		await page.getByRole('navigation', { name: 'Các màn hình' }).getByRole('link', { name: 'Cảnh báo' }).focus();
		await page.keyboard.press('Enter');
		await page.waitForURL((u) => new URL(u).pathname === '/console/alerts');
		rows = await tableRows(page, 'Cảnh báo, mới nhất trước');
		// the kiosk's chart, and the agency's for land, may both have signalled
		const kiosk = rows.find((r) => r[3].startsWith('Quầy 1 ('));
		assert(kiosk, `the kiosk's alert: ${JSON.stringify(rows)}`);
		assertEqual(kiosk.slice(0, 3), ['Mức hài lòng giảm', 'SO-XD', 'dat-dai'], 'the alert');
		assertEqual(kiosk[5], 'Đang mở', 'still open');
		assert(kiosk[6].includes('cusum: ') && kiosk[6].includes('ratings: '), `its evidence: ${kiosk[6]}`);
		assertEqual(refused, [], 'nothing refused by the Content-Security-Policy');
		return 'Live and Alerts shown';
	},
}, {
	// A viewer is offered no grouping by officer, even from the address,
	// and sees the agencies it was given only.
	name: 'console_live_viewer_sees_no_officers',
	timeout: 60000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		await liveData(tc, srv.base);
		const link = tc.userLink(srv.base, { login: 'vien', role: 'viewer', agencies: ['SO-TP'] });
		const browser = await tc.browser();
		const page = await tc.page(browser);
		await setConsolePassword(page, link, PASSWORD);
		await signIn(page, srv.base, 'vien', PASSWORD, '?next=%2Fconsole%2Flive%3Fby%3Dofficer');
		await page.getByText('Chưa có đánh giá nào trong khoảng thời gian này.').waitFor();
		assertEqual(await page.getByLabel('Theo', { exact: true }).locator('option').allTextContents(),
			['Cơ quan', 'Lĩnh vực', 'Quầy'], 'no grouping by officer');
		assertEqual(await page.getByLabel('Theo', { exact: true }).inputValue(), 'agency', 'by agency instead');
		return 'no officers for a viewer';
	},
}];
