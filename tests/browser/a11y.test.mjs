// axe-core finds no serious or critical violation on any page, in Vietnamese
// and in English.
import { AXE_PATH } from './lib.mjs';
import { answerByKeyboard, axeViolations, describeViolations, enterPin, face, kioskReady, pairKiosk, receipt, setLang, SETTLE,
	staffHeading, tamper, thanks } from './pages.mjs';

export const tests = [{
	name: 'a11y_axe',
	timeout: 120000,
	async fn(tc) {
		tc.sipas('init');
		const srv = await tc.server();
		const { url } = tc.pairingLink(srv.base, { sectors: ['dat-dai', 'xay-dung'], pin: '123456' });
		const link = tc.phoneLink(srv.base);
		const browser = await tc.browser();
		// bypassCSP: the server's Content-Security-Policy would refuse the injected axe script.
		const page = await tc.page(browser, { bypassCSP: true });
		const found = [];
		let checked = 0;
		const axe = async (where) => {
			found.push(describeViolations(where, await axeViolations(page, AXE_PATH)));
			checked++;
		};
		const check = async (where) => {
			for (const lang of ['vi', 'en']) {
				await setLang(page, lang);
				await axe(`${where} [${lang}]`);
			}
			await setLang(page, 'vi');
		};
		const open = async (path, ready) => {
			await page.goto(path.startsWith('http') ? path : srv.base + path);
			if (ready)
				await ready();
		};

		// Each page on its own: one that cannot be reached is a problem, and
		// the others are still checked.
		const section = async (where, fn) => {
			try {
				await fn();
			} catch (e) {
				found.push(`${where}: could not be checked: ${String(e.message).split('\n')[0]}`);
			}
		};
		await section('/', async () => {
			await open('/');
			await check('/');
		});
		await section('/results', async () => {
			await open('/results');
			await check('/results');
		});
		await section('/results/<not published>', async () => {
			await open('/results/2099Q1/');
			await check('/results/<not published>');
		});
		await section('/pair/<bad>', async () => {
			await open('/pair/not-a-code', () => page.getByText('Mã ghép nối không đúng.').first().waitFor());
			await check('/pair/<bad>');
		});
		await section('/kiosk', async () => {
			await page.goto(url);
			await page.getByRole('heading', { name: 'Chọn lĩnh vực cho quầy này' }).waitFor();
			await check('/kiosk sector choice');
			await page.getByRole('button', { name: 'Xây dựng', exact: true }).click();
			await kioskReady(page);
			await check('/kiosk start');
			for (const lang of ['vi', 'en']) {
				await setLang(page, lang);
				await kioskReady(page, lang);
				await page.waitForTimeout(SETTLE);
				await face(page, 3, lang).click();
				await thanks(page).waitFor({ state: 'visible' });
				await axe(`/kiosk thank-you [${lang}]`);
				await kioskReady(page);   // back to the faces, and to Vietnamese
			}
		});
		await section('/kiosk staff', async () => {
			await enterPin(page, '000000');
			await page.getByText('Mã PIN không đúng.').waitFor();
			await check('/kiosk staff PIN, refused');
			await enterPin(page, '123456');
			await staffHeading(page).waitFor();
			await check('/kiosk staff mode');
		});
		await section('/s/', async () => {
			await open(link, () => page.getByRole('radio').first().waitFor());
			await check('/s/ first screen');
			await answerByKeyboard(page, { stopBefore: /^(gửi|submit|send)\b/i });
			await page.getByRole('heading', { name: 'Kiểm tra câu trả lời' }).waitFor();
			await check('/s/ review');
			await page.getByRole('button', { name: /^Gửi đánh giá/ }).click();
			await receipt(page).waitFor();
			await check('/s/ receipt');
			await page.reload();
			await page.getByText(/^[0-9a-f]{32}$/).waitFor();
			await check('/s/ rated, its receipt');
		});
		await section('refusal page', async () => {
			await open(tamper(link), () => page.getByRole('heading', { name: 'Không mở được phiếu đánh giá' }).waitFor());
			await check('refusal page');
		});

		const problems = found.filter(Boolean);
		if (problems.length)
			throw new Error(`serious or critical accessibility violations:\n${problems.join('\n')}`);
		return `${checked} page states checked`;
	},
}];
