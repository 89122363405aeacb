// axe-core finds no serious or critical violation on any page, in Vietnamese
// and in English.
import { AXE_PATH } from './lib.mjs';
import { answerByKeyboard, axeViolations, describeViolations, face, kioskReady, pairKiosk, setLang, SETTLE, tamper, thanks } from './pages.mjs';

export const tests = [{
	name: 'a11y_axe',
	timeout: 120000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base);
		const link = tc.phoneLink(srv.base);
		const browser = await tc.browser();
		// bypassCSP: the server's Content-Security-Policy would refuse the injected axe script.
		const page = await tc.page(browser, { bypassCSP: true });
		const found = [];
		const check = async (where) => {
			for (const lang of ['vi', 'en']) {
				await setLang(page, lang);
				found.push(describeViolations(`${where} [${lang}]`, await axeViolations(page, AXE_PATH)));
			}
			await setLang(page, 'vi');
		};
		const open = async (path, ready) => {
			await page.goto(path.startsWith('http') ? path : srv.base + path);
			if (ready)
				await ready();
		};

		await open('/');
		await check('/');
		await open('/results');
		await check('/results');
		await open('/pair/not-a-code', () => page.getByText('Mã ghép nối không đúng.').first().waitFor());
		await check('/pair/<bad>');

		await pairKiosk(page, url);
		await check('/kiosk start');
		for (const lang of ['vi', 'en']) {
			await setLang(page, lang);
			await kioskReady(page, lang);
			await page.waitForTimeout(SETTLE);
			await face(page, 3, lang).click();
			await thanks(page).waitFor({ state: 'visible' });
			found.push(describeViolations(`/kiosk thank-you [${lang}]`, await axeViolations(page, AXE_PATH)));
			await kioskReady(page, lang).catch(() => {});
		}
		await setLang(page, 'vi');

		await open(link, () => page.getByRole('radio').first().waitFor());
		await check('/s/ first screen');
		await answerByKeyboard(page, { stopBefore: /^(gửi|submit|send)\b/i });
		await check('/s/ review');

		await open(tamper(link));
		await check('refusal page');

		const problems = found.filter(Boolean);
		if (problems.length)
			throw new Error(`serious or critical accessibility violations:\n${problems.join('\n')}`);
	},
}];
