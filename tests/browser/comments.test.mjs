// The console's Comments screen in a real browser against a real server:
// an agency user signs in, finds a citizen's comment by typing its words
// without diacritics, marks it handled with a note using the keyboard
// alone, and sees it marked; another agency's comment is never shown; the
// office finds the mark in the audit log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, assertEqual } from './lib.mjs';
import { consoleNav, setConsolePassword, signIn, tableRows } from './pages.mjs';

const PASSWORD = 'một câu dài đủ mười ký tự';

export const tests = [{
	name: 'comments_an_agency_finds_and_handles_a_comment',
	timeout: 120000,
	async fn(tc) {
		tc.sipas('init');
		const csv = join(tc.dir, 'comments.csv');
		writeFileSync(csv, 'response_id,submitted_at,agency,sector,channel,overall,comment\n' +
			'c1,2026-08-03T09:00:00+07:00,P-HONGBANG,dat-dai,phone,2,Thái độ công chức chưa tốt\n' +
			'c2,2026-08-04T09:00:00+07:00,P-HONGBANG,dat-dai,phone,4,Hồ sơ đất đai nhanh\n' +
			'c3,2026-08-05T09:00:00+07:00,P-LECHAN,dat-dai,phone,1,Thái độ ở Lê Chân\n');
		tc.sipas('import', '--form', 'sipas-2017', csv);
		const srv = await tc.server();
		const agencyLink = tc.userLink(srv.base, { login: 'hb', name: 'Cán bộ Hồng Bàng', role: 'agency', agencies: ['P-HONGBANG'] });
		const officeLink = tc.userLink(srv.base, { login: 'ana', name: 'Nguyễn Thị An', role: 'office' });
		const browser = await tc.browser();
		const page = await tc.page(browser);
		const refused = [];
		page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
		page.on('pageerror', (e) => refused.push(String(e)));
		await setConsolePassword(page, agencyLink, PASSWORD);
		await signIn(page, srv.base, 'hb', PASSWORD);
		assert((await consoleNav(page)).includes('Ý kiến'), 'the Comments screen in the navigation');
		await page.getByRole('navigation', { name: 'Các màn hình' }).getByRole('link', { name: 'Ý kiến' }).click();
		await page.waitForURL((u) => new URL(u).pathname === '/console/comments');
		const all = await tableRows(page, 'Ý kiến của người dân, mới nhất trước');
		assertEqual(all.length, 2, 'the agency\'s comments, and no other agency\'s');
		assert(!all.some((r) => r.join(' ').includes('Lê Chân')), 'another agency\'s comment is not shown');

		// words without diacritics, typed and sent with the keyboard
		await page.getByLabel('Tìm chữ').focus();
		await page.keyboard.type('thai do');
		await page.keyboard.press('Enter');
		await page.getByRole('status').filter({ hasText: /^1 ý kiến\.$/ }).waitFor();
		const found = await tableRows(page, 'Ý kiến của người dân, mới nhất trước');
		assertEqual(found.length, 1, 'one comment found');
		assert(found[0].includes('Thái độ công chức chưa tốt'), `the comment found: ${JSON.stringify(found)}`);
		assert(found[0].includes('Chưa xử lý'), 'not handled yet');

		// mark it handled with a note, keyboard only
		await page.getByRole('button', { name: 'Đánh dấu đã xử lý' }).focus();
		await page.keyboard.press('Enter');
		assertEqual(await page.evaluate(() => document.activeElement.getAttribute('name')), 'note', 'the note field focused');
		await page.keyboard.type('Đã gọi điện xin lỗi công dân');
		await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		await page.getByRole('status').filter({ hasText: 'Đã đánh dấu đã xử lý.' }).waitFor();
		const marked = await tableRows(page, 'Ý kiến của người dân, mới nhất trước');
		assert(/Đã xử lý: hb/.test(marked[0].join(' ')) && marked[0].join(' ').includes('Đã gọi điện xin lỗi công dân'),
			`the comment shown handled: ${JSON.stringify(marked)}`);
		assertEqual(tc.sql("SELECT handled_by, note FROM comment_notes"), [['hb', 'Đã gọi điện xin lỗi công dân']],
			'the mark stored');
		// a reload shows it from the server, filter kept
		await page.reload();
		const again = await tableRows(page, 'Ý kiến của người dân, mới nhất trước');
		assert(again.length === 1 && /Đã xử lý: hb/.test(again[0].join(' ')), `after a reload: ${JSON.stringify(again)}`);

		// the office reads the mark in the audit log
		const office = await tc.page(browser);
		await setConsolePassword(office, officeLink, PASSWORD);
		await signIn(office, srv.base, 'ana', PASSWORD);
		await office.goto(`${srv.base}/console/audit?action=comment.handled`);
		const audit = await tableRows(office, 'Nhật ký thao tác, mới nhất trước');
		assertEqual(audit.length, 1, 'one audit entry');
		assert(audit[0].includes('hb') && audit[0].includes('comment.handled') && audit[0].includes('ok'),
			`the audit entry: ${JSON.stringify(audit)}`);
		assertEqual(refused, [], 'no script error or refusal under the server\'s policy');
	},
}];
