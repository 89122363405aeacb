// The published quarterly report in a real browser: it loads with no
// console error under its own Content-Security-Policy, axe-core finds no
// serious or critical violation on either page, and it prints to an A4 PDF.
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
