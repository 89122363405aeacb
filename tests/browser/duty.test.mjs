// The officer on duty at a kiosk: the staff mode (behind the PIN) sets the
// shift by the officer's code and shows their name, which the citizen's
// screens never show; the kiosk's ratings then carry the officer in the
// database; a code of no active officer of the agency is refused; the
// kiosk's heartbeat reaches the server at start, and every 5 minutes
// with the number of ratings waiting in the tablet's queue.  axe on the
// staff mode with the officer shown, in both languages.
import { AXE_PATH, assert, assertEqual, until } from './lib.mjs';
import { axeViolations, describeViolations, kioskReady, openStaffMode, pairKiosk, rate, setLang, staffHeading,
	unsentCount } from './pages.mjs';

const NAME = 'Nguyễn Văn An';

export const tests = [{
	name: 'kiosk_staff_mode_sets_the_officer_on_duty',
	timeout: 90000,
	async fn(tc) {
		tc.sipas('init');
		tc.sipas('staff', 'add', '--agency', 'P-HONGBANG', '--code', 'CB-01', '--name', NAME);
		tc.sipas('staff', 'add', '--agency', 'SO-XD', '--code', 'CB-02', '--name', 'Trần Thị Bình');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base, { pin: '123456' });
		// bypassCSP: the server's Content-Security-Policy would refuse the injected axe script
		const page = await tc.page(await tc.browser(), { bypassCSP: true });
		await page.goto(url);
		await page.waitForURL((u) => new URL(u).pathname === '/kiosk');
		await kioskReady(page);
		// the heartbeat at start, with the (empty) queue
		await until('the kiosk\'s heartbeat', () => {
			const rows = tc.sql('SELECT heartbeat_at IS NOT NULL, queued FROM devices');
			return rows.length === 1 && rows[0][0] === '1' && rows[0][1] === '0';
		});
		await openStaffMode(page, '123456');
		await page.getByText('Chưa có cán bộ nhận ca trực tại quầy hôm nay.').waitFor();
		// another agency's officer is refused, and nothing is set
		const code = page.getByLabel('Mã cán bộ');
		await code.fill('CB-02');
		await page.getByRole('button', { name: 'Nhận ca' }).click();
		await page.getByText(/Mã này không phải của cán bộ đang làm việc/).waitFor();
		assertEqual(tc.sql('SELECT count(*) FROM devices WHERE officer_id IS NOT NULL'), [['0']], 'no shift after a refused code');
		assertEqual(await code.inputValue(), 'CB-02', 'the refused code stays in its field, to be corrected');
		// by keyboard: type the code (any case) over it and press Enter
		await code.focus();
		await page.keyboard.press('Control+A');
		await page.keyboard.type('cb-01');
		await page.keyboard.press('Enter');
		await page.getByText(NAME).waitFor();
		assertEqual(tc.sql('SELECT s.code FROM devices d JOIN staff s ON s.id = d.officer_id'), [['CB-01']],
			'the shift is set in the database');
		const found = [];
		for (const lang of ['vi', 'en']) {
			await setLang(page, lang);
			await staffHeading(page).waitFor();
			assert(await page.getByText(NAME).isVisible(), `the officer's name in the staff mode [${lang}]`);
			found.push(describeViolations(`staff mode with the officer on duty [${lang}]`, await axeViolations(page, AXE_PATH)));
		}
		assertEqual(found.filter(Boolean), [], 'axe on the staff mode');
		await setLang(page, 'vi');
		await page.getByRole('button', { name: 'Thoát chế độ cán bộ' }).click();
		await kioskReady(page);
		// the citizen's screens never name the officer
		for (const lang of ['vi', 'en']) {
			await setLang(page, lang);
			await kioskReady(page, lang);
			const text = await page.locator('body').innerText();
			assert(!text.includes(NAME) && !text.includes('CB-01'), `the officer on the citizen's screen [${lang}]: ${text}`);
		}
		await setLang(page, 'vi');
		await rate(page, 1);
		const text = await page.locator('body').innerText();
		assert(!text.includes(NAME), `the officer on the screen after a rating: ${text}`);
		await until('the rating stored with its officer', () => {
			const rows = tc.sql('SELECT s.code FROM responses r JOIN staff s ON s.id = r.officer_id');
			return rows.length === 1 && rows[0][0] === 'CB-01';
		});
		// the shift is ended from the staff mode
		await openStaffMode(page, '123456');
		await page.getByText(NAME).waitFor();
		await page.getByRole('button', { name: 'Kết thúc ca trực' }).click();
		await page.getByText('Chưa có cán bộ nhận ca trực tại quầy hôm nay.').waitFor();
		assertEqual(tc.sql('SELECT count(*) FROM devices WHERE officer_id IS NOT NULL'), [['0']], 'the shift ended');
	},
}, {
	name: 'kiosk_heartbeat_tells_the_queue_every_five_minutes',
	timeout: 90000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base);
		const page = await tc.page(await tc.browser());
		await page.clock.install();   // the kiosk's timers run on a clock the case moves
		await pairKiosk(page, url);
		const beat = () => tc.sql('SELECT heartbeat_at, queued, queue_growing FROM devices')[0];
		await until('the heartbeat at start', () => beat()[1] === '0');
		const first = beat();
		// the network drops the kiosk's batches: its ratings wait in the queue
		await page.route('**/api/responses/batch', (r) => r.abort('failed'));
		await rate(page, 3);
		await rate(page, 2);
		await until('two ratings waiting', async () => (await unsentCount(page)) === 2);
		await page.clock.fastForward(300000);
		await until('the 5-minute heartbeat with 2 waiting', () => beat()[1] === '2');
		assertEqual(beat()[2], '1', 'a longer queue than at the last heartbeat');
		assert(Number(beat()[0]) >= Number(first[0]), 'heartbeat_at moves on');
		await rate(page, 3);
		await page.clock.fastForward(300000);
		await until('the next heartbeat with 3 waiting', () => beat()[1] === '3');
		assertEqual(beat()[2], '2', 'two heartbeats in a row with a longer queue');
		// the batches get through again: the queue empties and the count falls back
		await page.unroute('**/api/responses/batch');
		await page.clock.fastForward(60000);
		await until('the queue sent', async () => (await unsentCount(page)) === 0, { timeout: 20000 });
		await page.clock.fastForward(300000);
		await until('a heartbeat with an empty queue', () => beat()[1] === '0');
		assertEqual(beat()[2], '0', 'a shorter queue resets the count');
		assertEqual(tc.sql('SELECT count(*) FROM responses')[0], ['3'], 'the three ratings stored');
	},
}];
