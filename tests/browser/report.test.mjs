// The published quarterly report in a real browser: it loads with no
// console error under its own Content-Security-Policy, axe-core finds no
// serious or critical violation on either page, and it prints to an A4 PDF.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AXE_PATH, ROOT, assert } from './lib.mjs';
import { axeViolations, describeViolations } from './pages.mjs';

// A database with the repository's fixture quarter, published.
export function publishFixtureQuarter(tc) {
	const fixture = join(ROOT, 'tests/fixtures/sipas-2017-a');
	tc.sipas('init', '--registry', join(fixture, 'registry'));
	tc.sipas('import', '--form', 'sipas-2017', join(fixture, 'responses.csv'));
	tc.sipas('publish', '--period', '2026Q3');
}

export const tests = [{
	name: 'report_renders_prints_and_passes_axe',
	timeout: 90000,
	async fn(tc) {
		publishFixtureQuarter(tc);
		const srv = await tc.server();
		const browser = await tc.browser();
		const found = [];
		for (const file of ['', 'methodology.html']) {
			const errors = [];
			const page = await tc.page(browser);
			page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
			page.on('pageerror', (e) => errors.push(String(e)));
			const resp = await page.goto(`${srv.base}/results/2026Q3/${file}`);
			assert(resp.status() === 200, `/results/2026Q3/${file} answered ${resp.status()}`);
			const pdf = await page.pdf({ format: 'A4', printBackground: true });
			assert(pdf.subarray(0, 4).toString() === '%PDF' && pdf.length > 2000, `a PDF of ${file || 'index.html'}`);
			assert(errors.length === 0, `console errors on ${file || 'index.html'}: ${errors.join('; ')}`);
			// axe is injected past the report's strict policy, in a page of its own
			const checked = await tc.page(browser, { bypassCSP: true });
			await checked.goto(`${srv.base}/results/2026Q3/${file}`);
			found.push(describeViolations(file || 'index.html', await axeViolations(checked, AXE_PATH)));
		}
		const problems = found.filter(Boolean);
		assert(problems.length === 0, `axe found serious or critical violations:\n${problems.join('\n')}`);
		return 'index.html and methodology.html';
	},
}];

// A4 is 210 mm wide and the report's @page margin is 15 mm each side: the
// printable width, in CSS pixels (96 per inch).
const A4_CONTENT_PX = (210 - 2 * 15) / 25.4 * 96;

tests.push({
	name: 'report_fits_the_a4_width',
	timeout: 120000,
	async fn(tc) {
		// the shipped registry (32 agencies, 10 sectors) and a year of demo
		// ratings of both forms: the widest tables a real quarter has
		tc.sipas('init');
		tc.sipas('demo');
		// and a dossier record of every agency that exists in 2026Q3, for
		// the per-dossier table
		const records = ['dossier,agency,sector,procedure,channel,received_at,due_at,finished_at,complaint,updated_at',
			...tc.sql('SELECT code FROM agencies WHERE valid_to IS NULL').map(([code]) =>
				`HS-1,${code},dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,2026-07-15T08:00:00+07:00,1,2026-07-15T08:00:00+07:00`)];
		writeFileSync(join(tc.dir, 'records.csv'), records.join('\n') + '\n');
		tc.sipas('dossiers', 'import', '--records', join(tc.dir, 'records.csv'));
		tc.sipas('publish', '--period', '2026Q3');
		const srv = await tc.server();
		const browser = await tc.browser();
		const page = await tc.page(browser, { viewport: { width: Math.floor(A4_CONTENT_PX), height: 1000 } });
		await page.emulateMedia({ media: 'print' });
		const resp = await page.goto(`${srv.base}/results/2026Q3/`);
		assert(resp.status() === 200, `/results/2026Q3/ answered ${resp.status()}`);
		const pdf = await page.pdf({ format: 'A4' });
		assert(pdf.subarray(0, 4).toString() === '%PDF', 'a PDF of the report');
		const found = await page.evaluate((limit) => {
			const where = (el) => {
				const sec = el.closest('section');
				return `${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''} in ${sec ? '#' + sec.id : 'the page'}`;
			};
			const over = [], hidden = [];
			for (const el of document.body.querySelectorAll('*')) {
				const r = el.getBoundingClientRect();
				if (r.width > 0 && r.right > limit + 0.5)
					over.push(`${where(el)} ends at ${r.right.toFixed(0)} px`);
			}
			for (const c of document.querySelectorAll('caption')) {
				const r = c.getBoundingClientRect();
				if (r.width === 0 || r.height === 0 || getComputedStyle(c).visibility === 'hidden')
					hidden.push(where(c));
			}
			// the reasons column of the counter table must not take most of the width
			const counter = document.querySelector('#mot-cua table');
			let reasons = 0;
			if (counter) {
				const th = [...counter.querySelectorAll('thead th')];
				reasons = th[th.length - 1].getBoundingClientRect().width / counter.getBoundingClientRect().width;
			}
			return { over, hidden, reasons, captions: document.querySelectorAll('caption').length };
		}, A4_CONTENT_PX);
		assert(found.over.length === 0,
			`${found.over.length} elements end beyond the A4 width of ${A4_CONTENT_PX.toFixed(1)} px:\n${[...new Set(found.over)].slice(0, 15).join('\n')}`);
		assert(found.hidden.length === 0, `captions not shown: ${found.hidden.join(', ')}`);
		assert(found.reasons > 0 && found.reasons <= 0.4,
			`the counter table's reasons column takes ${(found.reasons * 100).toFixed(0)} % of its width`);
		return `${found.captions} captions, every element within ${A4_CONTENT_PX.toFixed(1)} px`;
	},
});
