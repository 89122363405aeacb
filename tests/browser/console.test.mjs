// The office's console in a real browser against a real server and
// database: an office account made with `sipas user add` sets its password
// through its link, signs in with the keyboard, loads survey files (a good
// one counted, a bad one's rows listed), pairs a kiosk and prints its
// sheet, publishes a quarter early and withdraws it, sees users and the
// audit log, and signs out; an agency account and a viewer see only their
// agencies and screens.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, assertEqual, currentQuarter, until } from './lib.mjs';
import { consoleNav, kioskReady, setConsolePassword, signIn, tableRows } from './pages.mjs';

const PASSWORD = 'một câu dài đủ mười ký tự';

// Today in Vietnam, YYYY-MM-DD: ratings dated today fall in the current quarter.
function vietnamToday() {
	return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

// A survey CSV (sipas-2017, overall only) of `n` paper ratings at `agency`, dated today.
function surveyCsv(tc, name, agency, sector, n, prefix) {
	const rows = ['"response_id","submitted_at","agency","sector","channel","overall"'];
	for (let i = 0; i < n; i++)
		rows.push(`"${prefix}-${i}","${vietnamToday()}","${agency}","${sector}","paper",${3 + (i % 3)}`);
	const path = join(tc.dir, name);
	writeFileSync(path, rows.join('\n') + '\n');
	return path;
}

// What /console/api/me answers in the page's session.
function meStatus(page) {
	return page.evaluate(() => fetch('/console/api/me', { credentials: 'same-origin' }).then((r) => r.status));
}

// The result text of a page's status region (role=status) once it has `re`.
async function statusText(page, re) {
	const el = page.getByRole('status').filter({ hasText: re }).first();
	await el.waitFor();
	return (await el.textContent()).trim();
}

export const tests = [{
	name: 'console_office_works_the_console',
	timeout: 180000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const link = tc.userLink(srv.base, { login: 'ana', name: 'Nguyễn Thị An', role: 'office' });
		const browser = await tc.browser();
		const page = await tc.page(browser);
		const period = currentQuarter();
		// under the server's own Content-Security-Policy: nothing refused, no script error
		const refused = [];
		page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
		page.on('pageerror', (e) => refused.push(String(e)));

		// the password, through the one-time link; the link then works no more
		await setConsolePassword(page, link, PASSWORD);
		await page.goto(link);
		await page.getByLabel('Mật khẩu mới', { exact: true }).fill('another long password');
		await page.getByLabel('Nhập lại mật khẩu mới').fill('another long password');
		await page.getByRole('button', { name: 'Đặt mật khẩu' }).click();
		await page.getByText(/^Liên kết này không dùng được/).first().waitFor();

		// signed out, a page goes to the sign-in page, which comes back to it
		await page.goto(`${srv.base}/console/imports`);
		await page.waitForURL((u) => new URL(u).pathname === '/console/login');
		assertEqual(new URL(page.url()).searchParams.get('next'), '/console/imports', 'the sign-in page\'s next');

		// a wrong password: one message that does not say which was wrong
		await page.getByLabel('Tên đăng nhập').fill('ana');
		await page.getByLabel('Mật khẩu').fill('not the password');
		await page.getByRole('button', { name: 'Đăng nhập' }).click();
		await page.getByRole('link', { name: 'Tên đăng nhập hoặc mật khẩu không đúng.' }).waitFor();
		assertEqual(await page.getByLabel('Mật khẩu').getAttribute('aria-invalid'), 'true', 'the password field marked');

		// sign in with the keyboard alone
		await page.getByLabel('Tên đăng nhập').focus();
		await page.keyboard.press('Control+A');
		await page.keyboard.type('ana');
		await page.keyboard.press('Tab');
		await page.keyboard.type(PASSWORD);
		await page.keyboard.press('Enter');
		await page.waitForURL((u) => new URL(u).pathname === '/console/imports');
		assertEqual(await consoleNav(page), ['Tổng quan', 'Trực tiếp', 'Cảnh báo', 'Máy đánh giá', 'Ý kiến', 'Nhập dữ liệu', 'Công bố quý', 'Tài khoản', 'Nhật ký'],
			'an office account\'s screens');

		// a survey file: its rows counted, and in the database
		await page.getByLabel('Tệp', { exact: true }).setInputFiles(surveyCsv(tc, 'good.csv', 'SO-XD', 'xay-dung', 6, 'G'));
		await page.getByRole('button', { name: 'Nạp tệp' }).click();
		const done = await statusText(page, /^Đã nạp/);
		assert(/6 dòng, 6 dòng mới, 0 dòng đã có/.test(done), `the import's result: ${done}`);
		assertEqual(tc.sql("SELECT count(*) FROM responses WHERE response_id LIKE 'G-%'"), [['6']], 'imported rows');
		// the same again: nothing new
		await page.getByRole('button', { name: 'Nạp tệp' }).click();
		const again = await statusText(page, /0 dòng mới/);
		assert(/6 dòng đã có/.test(again), `the second import's result: ${again}`);

		// a bad file: every bad row listed by line and column, nothing stored
		const bad = join(tc.dir, 'bad.csv');
		writeFileSync(bad, '"response_id","submitted_at","agency","sector","channel","overall"\n' +
			`"B-1","${vietnamToday()}","NO-SUCH","xay-dung","paper",4\n` +
			`"B-2","${vietnamToday()}","SO-XD","xay-dung","paper",4\n` +
			'"B-3","2026-11-31","SO-XD","xay-dung","paper",4\n');
		await page.getByLabel('Tệp', { exact: true }).setInputFiles(bad);
		await page.getByRole('button', { name: 'Nạp tệp' }).click();
		await statusText(page, /2 dòng sai/);
		const rows = await tableRows(page, 'Các dòng sai của bad.csv');
		assertEqual(rows.map((r) => [r[0], r[1]]), [['2', 'agency'], ['4', 'submitted_at']], 'the bad rows\' line and column');
		assert(/NO-SUCH/.test(rows[0][2]), `the first bad row's message: ${rows[0][2]}`);
		assertEqual(tc.sql("SELECT count(*) FROM responses WHERE response_id LIKE 'B-%'"), [['0']], 'rows of the bad file stored');

		// pair a kiosk: the sheet shows its QR code and PIN, and the code pairs a tablet
		await page.getByRole('link', { name: 'Máy đánh giá' }).click();
		await page.getByLabel('Mã cơ quan').fill('P-HONGBANG');
		await page.getByLabel('Tên quầy').fill('Quầy 7');
		await page.getByLabel('Mã lĩnh vực').fill('dat-dai');
		await page.getByRole('button', { name: 'Tạo mã ghép nối' }).click();
		await page.getByRole('heading', { name: /^Mã ghép nối cho .* – Quầy 7$/ }).waitFor();
		const devices = await tableRows(page, 'Các máy đánh giá');
		assert(devices.some((r) => r[1] === 'P-HONGBANG' && r[2] === 'Quầy 7'), `the new kiosk in the list: ${JSON.stringify(devices)}`);
		await page.getByRole('link', { name: 'Mở phiếu in (mã QR)' }).click();
		await page.waitForURL((u) => new URL(u).pathname === '/console/devices/sheet');
		const qr = page.getByRole('img', { name: /^Mã QR ghép nối máy đánh giá của Quầy 7$/ });
		await qr.waitFor();
		assert(await qr.evaluate((svg) => svg.localName === 'svg' && svg.querySelectorAll('path').length > 0 &&
			svg.getBoundingClientRect().width > 100), 'the QR code is drawn');
		const pin = (await page.locator('#s-pin').textContent()).trim();
		assert(/^\d{4,8}$/.test(pin), `the sheet's PIN: ${pin}`);
		const pairUrl = (await page.locator('#s-url').textContent()).trim();
		// the address is the service's public one (not this test server's port): its code pairs here
		const code = new URL(pairUrl).pathname;
		assert(code.startsWith('/pair/'), `the sheet's pairing address: ${pairUrl}`);
		await page.emulateMedia({ media: 'print' });
		assert(!(await page.getByRole('navigation').isVisible()) && await qr.isVisible(), 'printed: the sheet without the header');
		await page.emulateMedia({ media: 'screen' });
		const tablet = await tc.page(browser);
		await tablet.goto(srv.base + code);
		await tablet.waitForURL((u) => new URL(u).pathname === '/kiosk');
		await kioskReady(tablet);
		await tablet.close();

		// publish the quarter early: refused until the words are typed
		await page.goto(`${srv.base}/console/quarter`);
		await statusText(page, new RegExp(`^Quý ${period} chưa được công bố`));
		assertEqual(await page.getByRole('link', { name: /^Xem trước báo cáo/ }).getAttribute('href'),
			`/console/preview/${period}/index.html`, 'the preview link');
		await page.getByRole('button', { name: 'Công bố…' }).click();
		await page.getByRole('button', { name: 'Công bố', exact: true }).click();
		await page.getByRole('link', { name: /^Hãy gõ đúng/ }).waitFor();
		const words = page.getByLabel(/^Để xác nhận công bố sớm, hãy gõ CÔNG BỐ SỚM/);
		assertEqual(await words.getAttribute('aria-invalid'), 'true', 'the words field marked');
		assertEqual(tc.sql('SELECT count(*) FROM publications'), [['0']], 'publications after the refusal');
		await words.fill('công bố sớm');
		await page.getByRole('button', { name: 'Công bố', exact: true }).click();
		await statusText(page, new RegExp(`^Đã công bố quý ${period}`));
		assertEqual((await page.request.get(`${srv.base}/results/${period}/`)).status(), 200, 'the public report after publishing');
		const history = await tableRows(page, `Các lần công bố và rút lại quý ${period}`);
		assert(history.length === 1 && history[0][1] === 'Công bố (sipas-2017)' && history[0][2] === 'ana',
			`the publications: ${JSON.stringify(history)}`);

		// withdraw it, after a confirmation, with the keyboard: the focus goes
		// into the confirmation and comes back once it is done
		await page.getByRole('button', { name: 'Rút lại…' }).focus();
		await page.keyboard.press('Enter');
		assertEqual(await page.evaluate(() => document.activeElement.textContent), 'Rút lại', 'the focus in the confirmation');
		await page.keyboard.press('Enter');
		await statusText(page, new RegExp(`^Đã rút lại quý ${period}`));
		assertEqual(await page.evaluate(() => document.activeElement.id), 'publish', 'the focus once withdrawn');
		assertEqual((await page.request.get(`${srv.base}/results/${period}/`)).status(), 404, 'the public report after withdrawing');

		// users: the account, and a new one with its link
		await page.getByRole('link', { name: 'Tài khoản' }).click();
		const users = await tableRows(page, 'Các tài khoản bảng điều khiển');
		assert(users.some((r) => r[0] === 'ana' && r[1] === 'Nguyễn Thị An' && r[2] === 'Văn phòng'), `the users: ${JSON.stringify(users)}`);
		await page.getByLabel('Tên đăng nhập').fill('binh');
		await page.getByLabel('Họ và tên').fill('Trần Văn Bình');
		await page.getByLabel('Vai trò').selectOption('viewer');
		await page.getByLabel('Mã cơ quan').fill('SO-XD');
		await page.getByRole('button', { name: 'Thêm tài khoản' }).click();
		await page.getByRole('heading', { name: 'Đã tạo tài khoản binh' }).waitFor();
		await page.getByText(`${srv.base}/console/password/`).waitFor();
		await until('binh in the list', async () => (await tableRows(page, 'Các tài khoản bảng điều khiển')).some((r) => r[0] === 'binh'));

		// the audit log has what was done here
		await page.getByRole('link', { name: 'Nhật ký' }).click();
		const audit = await tableRows(page, 'Nhật ký thao tác, mới nhất trước');
		assert(audit.some((r) => r.join(' ').includes('binh')), `the audit log names the new account: ${JSON.stringify(audit.slice(0, 5))}`);
		assert(audit.some((r) => r.join(' ').includes(period)), `the audit log names the quarter: ${JSON.stringify(audit.slice(0, 5))}`);

		// sign out: the session is over, and pages go to the sign-in page
		await page.getByRole('button', { name: 'Đăng xuất' }).click();
		await page.waitForURL((u) => new URL(u).pathname === '/console/login');
		assertEqual(await meStatus(page), 401, '/console/api/me after signing out');
		await page.goto(`${srv.base}/console/users`);
		await page.waitForURL((u) => new URL(u).pathname === '/console/login');
		assertEqual(refused, [], 'CSP refusals and script errors');

		// the day's work left an intact audit chain; one row edited by hand breaks it there
		const intact = tc.sipas('audit', 'verify');
		assert(/^audit log intact: \d+ entries, head [0-9a-f]{64}$/m.test(intact), `audit verify: ${intact}`);
		const [[edited]] = tc.sql("SELECT min(id) FROM audit WHERE action = 'publish'");
		execFileSync('sqlite3', [tc.db, `UPDATE audit SET actor = 'someone-else' WHERE id = ${edited}`]);
		let broken = '';
		try {
			tc.sipas('audit', 'verify');
		} catch (e) {
			broken = e.message;
		}
		assert(broken.includes(`audit log broken at entry ${edited}: edited`), `audit verify after an edit: ${broken}`);
		return `${audit.length} audit entries shown; the chain intact, then broken at entry ${edited} by hand`;
	},
}, {
	name: 'console_agency_and_viewer_see_only_their_agencies',
	timeout: 120000,
	async fn(tc) {
		tc.sipas('init');
		tc.sipas('import', '--form', 'sipas-2017', surveyCsv(tc, 'hb.csv', 'P-HONGBANG', 'dat-dai', 4, 'H'));
		tc.sipas('import', '--form', 'sipas-2017', surveyCsv(tc, 'xd.csv', 'SO-XD', 'xay-dung', 4, 'X'));
		const srv = await tc.server();
		tc.pairingLink(srv.base, { agency: 'P-HONGBANG', counter: 'Quầy HB' });
		tc.pairingLink(srv.base, { agency: 'SO-XD', counter: 'Quầy XD', sectors: ['xay-dung'] });
		const link = tc.userLink(srv.base, { login: 'hb', name: 'Cán bộ Hồng Bàng', role: 'agency', agencies: ['P-HONGBANG'] });
		const page = await tc.page(await tc.browser());
		await setConsolePassword(page, link, PASSWORD);
		await signIn(page, srv.base, 'hb', PASSWORD);
		assertEqual(new URL(page.url()).pathname, '/console', 'where signing in goes');
		assertEqual(await consoleNav(page), ['Tổng quan', 'Trực tiếp', 'Cảnh báo', 'Máy đánh giá', 'Ý kiến'], 'an agency account\'s screens');

		const groups = await tableRows(page, /^Chỉ số hài lòng quý/);
		assertEqual(groups.map((r) => r[0].match(/\(([^)]+)\)$/)[1]), ['P-HONGBANG'], 'the agencies of the overview');
		assertEqual(groups[0][1], '4', 'P-HONGBANG\'s ratings');
		const counters = await tableRows(page, 'Số đánh giá hôm nay của từng quầy');
		assertEqual(counters.map((r) => [r[0], r[1]]), [['P-HONGBANG', 'Quầy HB']], 'the counters of the overview');

		await page.getByRole('link', { name: 'Máy đánh giá' }).click();
		const devices = await tableRows(page, 'Các máy đánh giá');
		assertEqual(devices.map((r) => [r[1], r[2]]), [['P-HONGBANG', 'Quầy HB']], 'the devices the agency sees');

		// another agency's kiosk is refused, and nothing is made for it
		await page.getByLabel('Mã cơ quan').fill('SO-XD');
		await page.getByLabel('Tên quầy').fill('Quầy lạ');
		await page.getByLabel('Mã lĩnh vực').fill('xay-dung');
		await page.getByRole('button', { name: 'Tạo mã ghép nối' }).click();
		await page.getByText('Tài khoản của bạn không có quyền làm việc này.').first().waitFor();
		assertEqual(tc.sql("SELECT count(*) FROM devices WHERE counter = 'Quầy lạ'"), [['0']], 'devices made for another agency');

		// an office screen says it is not for this role, and shows nothing of it
		await page.goto(`${srv.base}/console/users`);
		await page.getByText('Màn hình này không dành cho vai trò của tài khoản bạn.').waitFor();
		assert(!(await page.getByRole('table').isVisible()), 'no users table for an agency account');

		// a viewer given SO-XD: the overview of SO-XD alone, and no other screen
		const viewerLink = tc.userLink(srv.base, { login: 'xem', name: 'Người xem', role: 'viewer', agencies: ['SO-XD'] });
		const viewer = await tc.page(await tc.browser());
		await setConsolePassword(viewer, viewerLink, PASSWORD);
		await signIn(viewer, srv.base, 'xem', PASSWORD);
		assertEqual(await consoleNav(viewer), ['Tổng quan', 'Trực tiếp', 'Cảnh báo', 'Ý kiến'], 'a viewer\'s screens');
		const seen = await tableRows(viewer, /^Chỉ số hài lòng quý/);
		assertEqual(seen.map((r) => r[0].match(/\(([^)]+)\)$/)[1]), ['SO-XD'], 'the agencies of a viewer\'s overview');
		await viewer.goto(`${srv.base}/console/devices`);
		await viewer.getByText('Màn hình này không dành cho vai trò của tài khoản bạn.').waitFor();
	},
}];
