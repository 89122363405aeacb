// The phone questionnaire by keyboard only stores a complete response that
// `sipas score` counts, and its receipt is shown again after a reload; a
// tampered link is refused with a page saying why.
import { assert, assertEqual, responses } from './lib.mjs';
import { answerByKeyboard, receipt, tamper } from './pages.mjs';

export const tests = [{
	name: 'phone_keyboard',
	timeout: 90000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const link = tc.phoneLink(srv.base);
		const browser = await tc.browser();
		const page = await tc.page(browser);
		const resp = await page.goto(link);
		assertEqual(resp.status(), 200, `GET ${link}`);
		await answerByKeyboard(page);
		await receipt(page).waitFor({ state: 'visible' });
		// the receipt code survives a reload of the page
		const code = await page.getByText(/^[0-9a-f]{32}$/).textContent();
		await page.reload();
		await page.getByText(/đã được đánh giá/).first().waitFor({ state: 'visible' });
		await page.getByText(code, { exact: true }).waitFor({ state: 'visible' });

		const rows = responses(tc, 'sipas-2017');
		assertEqual(rows.length, 1, 'one sipas-2017 response stored');
		const [[agency, sector, dossier, comment]] = tc.sql(
			'SELECT a.code, s.code, r.dossier_code, r.comment FROM responses r JOIN agencies a ON a.id = r.agency_id JOIN sectors s ON s.id = r.sector_id');
		assertEqual([agency, sector, dossier], ['SO-XD', 'xay-dung', 'HS-1'], 'the link\'s agency, sector and dossier');
		assertEqual(comment, 'Cán bộ nhiệt tình.', 'the comment typed');
		const bytes = rows[0].hex.match(/../g);
		assert(bytes.length >= 20 && bytes.every((b) => b === '04'), `every question answered 4 (answers ${rows[0].hex})`);
		const all = tc.score('sipas-2017').groups[0];
		assertEqual([all.agency, all.sector, all.n], [null, null, 1], 'sipas score counts the response');
		assert(all.overall && all.overall.n === 1, `the overall question answered (${JSON.stringify(all.overall)})`);

		// One character of the signature changed: 403 and a page that says why.
		const bad = await tc.page(browser);
		const refused = await bad.goto(tamper(link));
		assertEqual(refused.status(), 403, 'a tampered link');
		await bad.getByText(/chữ ký|không hợp lệ|bị thay đổi|signature|not valid|invalid/i).first().waitFor({ state: 'visible' });
	},
}];
