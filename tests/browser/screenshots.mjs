// screenshots.mjs DIR - PNGs of the kiosk (start, reason follow-up, thank-you)
// and of the phone questionnaire (first screen), in Vietnamese, at 1280x800
// and 390x844, and of the published report's first two printed A4 pages
// (the repository's fixture quarter), into DIR (make screenshots:
// docs/screenshots).  Not a test:
// a real server on a temporary database, stopped at the end.
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Case, killAllServers } from './lib.mjs';
import { face, kioskReady, pairKiosk, SETTLE, skipButton, thanks } from './pages.mjs';
import { publishFixtureQuarter } from './report.test.mjs';

const out = resolve(process.argv[2] || 'docs/screenshots');
mkdirSync(out, { recursive: true });
const SIZES = [[1280, 800], [390, 844]];

const tc = new Case('screenshots');
let status = 0;
try {
	tc.sipas('init');
	const srv = await tc.server();
	const browser = await tc.browser();
	for (const [width, height] of SIZES) {
		const size = `${width}x${height}`;
		const page = await tc.page(browser, { viewport: { width, height }, deviceScaleFactor: 1 });
		const shot = async (name) => {
			await page.mouse.move(width - 1, height - 1);   // no hover effect on what was tapped
			const path = `${out}/${name}-${size}.png`;
			await page.screenshot({ path });
			console.log(path);
		};

		await pairKiosk(page, tc.pairingLink(srv.base).url);
		await page.waitForTimeout(300);   // fonts and images settled
		await shot('kiosk-start');
		await page.waitForTimeout(SETTLE);
		await face(page, 1).click();
		await skipButton(page).waitFor();
		await page.waitForTimeout(SETTLE);
		await shot('kiosk-reason');
		await skipButton(page).click();
		await thanks(page).waitFor();
		await shot('kiosk-thanks');

		await page.goto(tc.phoneLink(srv.base));
		await page.getByRole('radio').first().waitFor();
		await page.waitForTimeout(300);
		await shot('questionnaire-first');
		await page.context().close();
	}

	// The report as printed: A4 at 96 dpi is 794 x 1123 CSS pixels.
	const rc = new Case('screenshots.report');
	tc.defer(() => rc.close());
	publishFixtureQuarter(rc);
	const rsrv = await rc.server();
	const page = await rc.page(browser, { viewport: { width: 794, height: 1123 }, deviceScaleFactor: 1 });
	await page.emulateMedia({ media: 'print' });
	await page.goto(`${rsrv.base}/results/2026Q3/`);
	for (const n of [1, 2]) {
		const path = `${out}/report-page${n}.png`;
		await page.screenshot({ path, fullPage: true, clip: { x: 0, y: (n - 1) * 1123, width: 794, height: 1123 } });
		console.log(path);
	}
} catch (e) {
	console.error(`screenshots: ${e.stack || e}`);
	console.error(`log: ${tc.logPath}`);
	status = 1;
} finally {
	await tc.close();
	killAllServers();
	if (!status)
		rmSync(tc.dir, { recursive: true, force: true });
}
process.exitCode = status;
