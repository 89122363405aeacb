// The kiosk between citizens and for its staff: the start screen goes back
// to Vietnamese when nobody touches it; the citizen's screen has no staff
// controls, the staff PIN opens a staff mode that changes the sector (a
// wrong PIN is refused, five lock it); an unpaired kiosk tells the citizen
// to ask the office, with no command line.
import { assert, assertEqual, responses, until } from './lib.mjs';
import { enterPin, face, kioskReady, openStaffMode, pairKiosk, pinHeading, rate, setLang, staffButton,
	staffHeading, SETTLE } from './pages.mjs';

export const tests = [{
	name: 'kiosk_back_to_vietnamese_when_idle',
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base);
		const page = await tc.page(await tc.browser());
		await page.clock.install();   // the kiosk's timers run on a clock the case moves
		await pairKiosk(page, url);
		await setLang(page, 'en');
		await kioskReady(page, 'en');
		await page.clock.fastForward(30000);
		assertEqual(await page.evaluate(() => document.documentElement.lang), 'en', 'language 30 s after the switch');
		await page.clock.fastForward(31000);
		await until('the start screen back in Vietnamese', async () =>
			(await page.evaluate(() => document.documentElement.lang)) === 'vi' && face(page, 3).isVisible());
		await kioskReady(page, 'vi');
	},
}, {
	name: 'kiosk_staff_mode',
	timeout: 90000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base, { sectors: ['dat-dai', 'xay-dung'], pin: '123456' });
		const page = await tc.page(await tc.browser());
		await page.goto(url);
		await page.getByRole('heading', { name: 'Chọn lĩnh vực cho quầy này' }).waitFor();
		await page.getByRole('button', { name: 'Xây dựng', exact: true }).click();
		await kioskReady(page);
		// the citizen's screen: no sector control, in either language
		for (const lang of ['vi', 'en']) {
			await setLang(page, lang);
			await kioskReady(page, lang);
			assertEqual(await page.getByRole('button', { name: /Đổi lĩnh vực|Change sector|Xây dựng|Đất đai/ }).count(), 0,
				`sector controls on the citizen's screen [${lang}]`);
		}
		await setLang(page, 'vi');
		// a wrong PIN is refused; the right one opens the staff mode
		await enterPin(page, '000000');
		await page.getByText('Mã PIN không đúng.').waitFor();
		assert(await pinHeading(page).isVisible(), 'still on the PIN screen after a wrong PIN');
		await enterPin(page, '123456');
		await staffHeading(page).waitFor();
		assert(!(await page.getByText(/HTTPS/).first().isVisible()), 'no HTTPS warning on a secure page');
		await page.getByRole('button', { name: 'Đất đai', exact: true }).click();
		await kioskReady(page);
		await rate(page, 3);
		await until('the rating stored', () => responses(tc, 'kiosk-2018').length === 1);
		assertEqual(tc.sql('SELECT s.code FROM responses r JOIN sectors s ON s.id = r.sector_id'), [['dat-dai']],
			'the rating is for the sector chosen in staff mode');
		// the staff mode can be left
		await openStaffMode(page, '123456');
		await page.getByRole('button', { name: 'Thoát chế độ cán bộ' }).click();
		await kioskReady(page);
		// five wrong tries lock the PIN, and the kiosk says so
		for (let i = 0; i < 5; i++) {
			await enterPin(page, '999999');
			await page.getByText(i < 4 ? 'Mã PIN không đúng.' : /Đã nhập sai quá nhiều lần/).waitFor();
		}
		await enterPin(page, '123456');
		await page.getByText(/Đã nhập sai quá nhiều lần/).waitFor();
		assert(!(await staffHeading(page).isVisible()), 'a locked PIN opens nothing');
		await page.getByRole('button', { name: 'Quay lại' }).click();
		await kioskReady(page);
		assert(await staffButton(page).isVisible(), 'the way into staff mode is back on the start screen');
	},
}, {
	name: 'kiosk_unpaired_asks_the_office',
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const page = await tc.page(await tc.browser());
		await page.goto(`${srv.base}/kiosk`);
		await page.getByRole('heading', { name: 'Máy chưa được ghép nối' }).waitFor();
		for (const lang of ['vi', 'en']) {
			await setLang(page, lang);
			const text = await page.locator('body').innerText();
			assert(!/sipas|--pair|device add/.test(text), `the unpaired kiosk shows a command line [${lang}]: ${text}`);
			assert(/văn phòng|office/i.test(text), `the unpaired kiosk says to ask the office [${lang}]: ${text}`);
		}
	},
}];
