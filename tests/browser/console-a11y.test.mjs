// axe-core finds no violation at all (of any impact) on any page of the
// office's console, in Vietnamese and in English, signed out and signed
// in, with its results, lists and confirmations shown; and every page has
// the one header console.js builds, reachable and usable by keyboard.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, assertEqual, AXE_PATH, currentQuarter } from './lib.mjs';
import { describeViolations, setConsolePassword, setLang, signIn } from './pages.mjs';
import { liveData } from './console-live.test.mjs';

const PASSWORD = 'một câu dài đủ mười ký tự';

// Every violation axe finds on the page as it is, whatever its impact.
async function allViolations(page) {
	if (!(await page.evaluate(() => typeof window.axe !== 'undefined')))
		await page.addScriptTag({ path: AXE_PATH });
	const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
	return res.violations;
}

export const tests = [{
	name: 'console_axe_every_page_both_languages',
	timeout: 180000,
	async fn(tc) {
		tc.sipas('init');
		// a rating this quarter, so that it can be published
		const csv = join(tc.dir, 'one.csv');
		writeFileSync(csv, '"response_id","submitted_at","agency","sector","channel","overall"\n' +
			`"R-1","${new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10)}","SO-XD","xay-dung","paper",5\n`);
		tc.sipas('import', '--form', 'sipas-2017', csv);
		// a citizen's comment, for the Comments screen
		const comments = join(tc.dir, 'comments.csv');
		writeFileSync(comments, 'response_id,submitted_at,agency,sector,channel,overall,comment\n' +
			'C-1,2026-08-03,P-HONGBANG,dat-dai,phone,2,Thái độ công chức chưa tốt\n');
		tc.sipas('import', '--form', 'sipas-2017', comments);
		const srv = await tc.server();
		tc.pairingLink(srv.base, { agency: 'P-HONGBANG', counter: 'Quầy 1' });
		await liveData(tc, srv.base);
		const link = tc.userLink(srv.base, { login: 'ana', name: 'Nguyễn Thị An', role: 'office' });
		const browser = await tc.browser();
		// bypassCSP: the server's Content-Security-Policy would refuse the injected axe script.
		const page = await tc.page(browser, { bypassCSP: true });
		const found = [];
		let checked = 0;
		const check = async (where) => {
			for (const lang of ['vi', 'en']) {
				await setLang(page, lang);
				found.push(describeViolations(`${where} [${lang}]`, await allViolations(page)));
				checked++;
			}
			await setLang(page, 'vi');
		};
		// Each page state on its own: one that cannot be reached is a
		// problem, and the others are still checked.
		const section = async (where, fn) => {
			try {
				await fn();
				await check(where);
			} catch (e) {
				found.push(`${where}: could not be checked: ${String(e.message).split('\n')[0]}`);
			}
		};
		const open = async (path, ready) => {
			await page.goto(srv.base + path);
			await ready();
		};

		await section('/console/password/<token>', () => open(new URL(link).pathname,
			() => page.getByLabel('Nhập lại mật khẩu mới').waitFor()));
		await section('/console/password/<token> too short', async () => {
			await page.getByLabel('Mật khẩu mới', { exact: true }).fill('short');
			await page.getByRole('button', { name: 'Đặt mật khẩu' }).click();
			await page.getByRole('link', { name: /^Mật khẩu cần ít nhất 10 ký tự/ }).waitFor();
		});
		await section('/console/password/<token> set', () => setConsolePassword(page, link, PASSWORD));
		await section('/console/password/<used>', async () => {
			await open(new URL(link).pathname, () => page.getByLabel('Nhập lại mật khẩu mới').waitFor());
			await page.getByLabel('Mật khẩu mới', { exact: true }).fill(PASSWORD);
			await page.getByLabel('Nhập lại mật khẩu mới').fill(PASSWORD);
			await page.getByRole('button', { name: 'Đặt mật khẩu' }).click();
			await page.getByText(/^Liên kết này không dùng được/).first().waitFor();
		});
		await section('/console/login', () => open('/console/login', () => page.getByLabel('Tên đăng nhập').waitFor()));
		await section('/console/login refused', async () => {
			await page.getByLabel('Tên đăng nhập').fill('ana');
			await page.getByLabel('Mật khẩu').fill('not the password');
			await page.getByRole('button', { name: 'Đăng nhập' }).click();
			await page.getByRole('link', { name: 'Tên đăng nhập hoặc mật khẩu không đúng.' }).waitFor();
		});
		await signIn(page, srv.base, 'ana', PASSWORD);
		await section('/console', () => open('/console', () => page.getByRole('table').first().waitFor()));
		await section('/console/devices paired', async () => {
			await open('/console/devices', () => page.getByRole('table').waitFor());
			await page.getByLabel('Mã cơ quan').fill('P-HONGBANG');
			await page.getByLabel('Tên quầy').fill('Quầy 2');
			await page.getByLabel('Mã lĩnh vực').fill('dat-dai');
			await page.getByRole('button', { name: 'Tạo mã ghép nối' }).click();
			await page.getByRole('link', { name: 'Mở phiếu in (mã QR)' }).waitFor();
		});
		await section('/console/devices revoke confirmation', async () => {
			await page.getByRole('button', { name: /^Thu hồi P-HONGBANG – Quầy 1$/ }).click();
			await page.getByRole('button', { name: 'Thu hồi máy' }).waitFor();
		});
		await section('/console/devices/sheet', async () => {
			await page.getByRole('link', { name: 'Mở phiếu in (mã QR)' }).click();
			await page.getByRole('img', { name: /^Mã QR/ }).waitFor();
		});
		await section('/console/imports', () => open('/console/imports', () => page.getByLabel('Tệp', { exact: true }).waitFor()));
		await section('/console/imports bad rows', async () => {
			const bad = join(tc.dir, 'bad.csv');
			writeFileSync(bad, '"response_id","submitted_at","agency","sector","channel","overall"\n' +
				'"B-1","2026-11-31","NO-SUCH","xay-dung","paper",4\n');
			await page.getByLabel('Tệp', { exact: true }).setInputFiles(bad);
			await page.getByRole('button', { name: 'Nạp tệp' }).click();
			await page.getByRole('table').waitFor();
		});
		await section('/console/quarter', () => open('/console/quarter', () => page.getByRole('button', { name: 'Công bố…' }).waitFor()));
		await section('/console/quarter publish early, refused', async () => {
			await page.getByRole('button', { name: 'Công bố…' }).click();
			await page.getByRole('button', { name: 'Công bố', exact: true }).click();
			await page.getByRole('link', { name: /^Hãy gõ đúng/ }).waitFor();
		});
		await section('/console/quarter published', async () => {
			await page.getByLabel(/^Để xác nhận công bố sớm/).fill('CÔNG BỐ SỚM');
			await page.getByRole('button', { name: 'Công bố', exact: true }).click();
			await page.getByRole('status').filter({ hasText: `Đã công bố quý ${currentQuarter()}` }).waitFor();
			await page.getByRole('button', { name: 'Rút lại…' }).click();
		});
		await section('/console/users', () => open('/console/users', () => page.getByRole('table').waitFor()));
		await section('/console/users added', async () => {
			await page.getByLabel('Tên đăng nhập').fill('binh');
			await page.getByLabel('Họ và tên').fill('Trần Văn Bình');
			await page.getByRole('button', { name: 'Thêm tài khoản' }).click();
			await page.getByRole('heading', { name: 'Đã tạo tài khoản binh' }).waitFor();
		});
		await section('/console/audit', () => open('/console/audit', () => page.getByRole('table').waitFor()));
		await section('/console/audit failed notifications', async () => {
			tc.sipas('notify', 'add', '--all', '--webhook', 'https://hooks.example.vn/sipas');
			execFileSync('sqlite3', [tc.db, 'INSERT INTO outbox(delivery, endpoint_id, event, body, created_at, next_at, ' +
				"attempts, failed_at, last_error) VALUES ('00112233445566778899aabbccddeeff', 1, 'test', '{}', " +
				"strftime('%s', 'now') - 86400, 0, 12, strftime('%s', 'now'), 'HTTP 500')"]);
			await open('/console/audit', () => page.getByRole('table', { name: 'Thông báo không gửi được, mới nhất trước' })
				.getByText('HTTP 500').waitFor());
		});
		await section('/console/live', () => open('/console/live', () => page.getByRole('figure').waitFor()));
		await section('/console/alerts', () => open('/console/alerts', () => page.getByRole('table').waitFor()));
		await section('/console/comments', () => open('/console/comments', () => page.getByRole('table').waitFor()));
		await section('/console/comments note form', async () => {
			await page.getByRole('button', { name: 'Đánh dấu đã xử lý' }).first().click();
			await page.getByLabel('Ghi chú: đã làm gì').waitFor();
		});
		await section('/console/comments note refused', async () => {
			await page.getByRole('button', { name: 'Lưu' }).click();
			await page.getByRole('link', { name: /^the note is/ }).waitFor();
		});
		await section('/console/comments handled', async () => {
			await page.getByLabel('Ghi chú: đã làm gì').fill('Đã gọi điện');
			await page.getByRole('button', { name: 'Lưu' }).click();
			await page.getByRole('status').filter({ hasText: 'Đã đánh dấu đã xử lý.' }).waitFor();
		});

		const problems = found.filter(Boolean);
		if (problems.length)
			throw new Error(`accessibility violations:\n${problems.join('\n')}`);
		return `${checked} page states checked`;
	},
}, {
	// Each page: the skip link first in the body, the first Tab stop (but
	// on the sign-in page, which focuses its field), and Enter on it moves the focus to <main>; one banner; the navigation on
	// the signed-in pages only; the language switch turns the header and
	// the title to English.
	name: 'console_header_on_every_page',
	timeout: 120000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const link = tc.userLink(srv.base, { login: 'ana', name: 'Nguyễn Thị An', role: 'office' });
		const browser = await tc.browser();
		const page = await tc.page(browser);
		const check = async (path, signedIn) => {
			await page.goto(srv.base + path);
			await page.getByRole('button', { name: 'English' }).waitFor();
			if (signedIn)
				await page.getByRole('navigation', { name: 'Các màn hình' }).getByRole('link').first().waitFor();
			assertEqual(await page.evaluate(() => document.body.firstElementChild.getAttribute('href')), '#main',
				`${path}: the skip link first in the body`);
			assertEqual(await page.getByRole('banner').count(), 1, `${path}: one banner`);
			assertEqual(await page.getByRole('navigation').count(), signedIn ? 1 : 0, `${path}: the navigation`);
			// the sign-in page puts the focus in its first field itself
			if (await page.evaluate(() => document.activeElement === document.body))
				await page.keyboard.press('Tab');
			else
				await page.getByRole('link', { name: 'Đến nội dung chính' }).focus();
			assertEqual(await page.evaluate(() => document.activeElement.textContent), 'Đến nội dung chính',
				`${path}: the first Tab stop`);
			await page.keyboard.press('Enter');
			assertEqual(await page.evaluate(() => document.activeElement.id), 'main', `${path}: the skip link's target focused`);
			const title = await page.title();
			await setLang(page, 'en');
			assertEqual(await page.getByRole('banner').getByRole('link').first().textContent(), 'SIPAS – Console',
				`${path}: the brand in English`);
			const english = await page.title();
			assert(english !== title && /SIPAS console$/.test(english), `${path}: the title in English: ${english}`);
			await setLang(page, 'vi');
		};
		await check(new URL(link).pathname, false);
		await setConsolePassword(page, link, PASSWORD);
		await check('/console/login', false);
		await signIn(page, srv.base, 'ana', PASSWORD);
		for (const path of ['/console', '/console/devices', '/console/devices/sheet', '/console/imports',
			'/console/quarter', '/console/users', '/console/audit', '/console/live', '/console/alerts',
			'/console/comments'])
			await check(path, true);
		return '12 pages checked';
	},
}];
