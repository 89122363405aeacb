// records.test.mjs - the console's overview shows the per-dossier rate from
// dossier records (docs/onestop.md) within the user's scope: an agency
// account sees its own agency's row, with its shares and cells, and no
// other agency's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertEqual } from './lib.mjs';
import { setConsolePassword, signIn, tableRows } from './pages.mjs';

const PASSWORD = 'correct horse battery staple';

// Today in Vietnam, YYYY-MM-DD: records finished today are in the quarter under way.
function vietnamToday() {
	return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

// Two dossiers of P-HONGBANG (one late) and one of SO-XD, finished today.
function recordsCsv(tc) {
	const day = vietnamToday(), at = (s) => `${day}T00:00:${s}+07:00`;
	const rows = ['dossier,agency,received_by,sector,procedure,channel,received_at,due_at,finished_at,complaint,updated_at',
		`H1,P-HONGBANG,,dat-dai,1.004227,direct,${at('00')},${at('00')},${at('30')},0,${at('30')}`,
		`H2,P-HONGBANG,,dat-dai,1.004227,online,${at('00')},${day},${at('00')},0,${at('00')}`,
		`X1,SO-XD,,xay-dung,1.009972,direct,${at('00')},${day},${at('00')},1,${at('00')}`];
	const path = join(tc.dir, 'records.csv');
	writeFileSync(path, rows.join('\n') + '\n');
	return path;
}

export const tests = [{
	name: 'console_overview_shows_the_per_dossier_rate_in_scope',
	timeout: 120000,
	async fn(tc) {
		tc.sipas('init');
		tc.sipas('dossiers', 'import', '--records', recordsCsv(tc));
		const srv = await tc.server();
		const link = tc.userLink(srv.base, { login: 'hb', name: 'Cán bộ Hồng Bàng', role: 'agency', agencies: ['P-HONGBANG'] });
		const page = await tc.page(await tc.browser());
		await setConsolePassword(page, link, PASSWORD);
		await signIn(page, srv.base, 'hb', PASSWORD);
		const rows = await tableRows(page, /^Hồ sơ giải quyết xong quý/);
		assertEqual(rows, [['UBND phường Hồng Bàng (P-HONGBANG)', '2', '50,0 %', '0,0 %', '0,0 %', '50,0 %', '1/1']],
			'the per-dossier rate an agency account sees');
		return 'P-HONGBANG alone: 2 dossiers, one late';
	},
}];
