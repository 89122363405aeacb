// A tap on each face stores exactly one rating with that value (and the
// reason chosen after the lowest face).
import { assertEqual, responses, sleep, until } from './lib.mjs';
import { rate, startPairedKiosk, unsentCount } from './pages.mjs';

export const tests = [{
	name: 'kiosk_faces',
	async fn(tc) {
		const { page } = await startPairedKiosk(tc);

		for (const value of [1, 2, 3]) {
			await rate(page, value, { reason: value === 1 ? 'Phải chờ đợi lâu' : null });
			await until(`rating ${value} stored`, () => responses(tc, 'kiosk-2018').length === value);
		}
		const rows = responses(tc, 'kiosk-2018');
		assertEqual(rows.map((r) => r.hex), ['01', '02', '03'], 'answers of the three ratings, in order');
		// choices: one byte per choice question, 1 + the value's index (long-wait is the first)
		assertEqual(rows.map((r) => r.choices), ['01', '00', '00'], 'the reason of the unsatisfied rating only');
		assertEqual(new Set(rows.map((r) => r.response_id)).size, 3, 'distinct response ids');
		await until('the status mark to show 0 unsent', async () => (await unsentCount(page)) === 0);
		const all = tc.score('kiosk-2018').groups[0];
		assertEqual([all.agency, all.sector, all.counter.ratings, all.counter.satisfied], [null, null, 3, 2],
			'sipas score: the quarter counts three ratings, two satisfied');
		await sleep(1000);
		assertEqual(responses(tc, 'kiosk-2018').length, 3, 'still three ratings a second later');
	},
}];
