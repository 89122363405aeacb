// pages.mjs - how the tests drive the collector's pages (collector/www/),
// by accessible roles and names, so that a markup change does not break the
// cases; what depends on the pages' words is here, in one place.
import { assert, until } from './lib.mjs';

// The kiosk-2018 scale, value 1..3 (forms/kiosk-2018.json).
export const FACES = ['Không hài lòng', 'Hài lòng', 'Rất hài lòng'];
export const FACES_EN = ['Dissatisfied', 'Satisfied', 'Very satisfied'];

export function face(page, value, lang = 'vi') {
	const names = lang === 'en' ? FACES_EN : FACES;
	return page.getByRole('button', { name: names[value - 1], exact: true });
}

export function englishSwitch(page) {
	return page.getByRole('button', { name: /^(English|EN)\b/i }).first();
}

export function vietnameseSwitch(page) {
	return page.getByRole('button', { name: /^(Tiếng Việt|VI)\b/i }).first();
}

// Put the page in `lang` ('vi' or 'en') with its language switch, if it is
// not already; the page's <html lang> says which.
export async function setLang(page, lang) {
	const now = await page.evaluate(() => document.documentElement.lang);
	if (now.startsWith(lang))
		return;
	await (lang === 'en' ? englishSwitch(page) : vietnameseSwitch(page)).click();
	await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), lang, { timeout: 5000 });
}

// The kiosk ignores a tap within 400 ms of a screen change (kiosk.js GHOST,
// against double taps): wait this long before tapping a new screen.
export const SETTLE = 450;

// Open a pairing link; resolves once the page is on /kiosk with its faces.
export async function pairKiosk(page, url) {
	await page.goto(url);
	await page.waitForURL((u) => new URL(u).pathname === '/kiosk');
	await kioskReady(page);
}

// A new database and server, and a kiosk paired in a new page of a new
// browser (pageOptions go to tc.page); resolves to {srv, page}.
export async function startPairedKiosk(tc, pageOptions = {}) {
	tc.sipas('init');
	const srv = await tc.server();
	const { url } = tc.pairingLink(srv.base);
	const page = await tc.page(await tc.browser(), pageOptions);
	await pairKiosk(page, url);
	return { srv, page };
}

export async function kioskReady(page, lang = 'vi') {
	await face(page, 3, lang).waitFor({ state: 'visible' });
}

// The kiosk's way into its staff mode (the start screen's only staff control).
export function staffButton(page) {
	return page.getByRole('button', { name: /^(Cán bộ|Staff)$/ });
}

export function staffHeading(page) {
	return page.getByRole('heading', { name: /^(Chế độ cán bộ|Staff mode)$/ });
}

export function pinHeading(page) {
	return page.getByRole('heading', { name: /^(Nhập mã PIN của cán bộ|Enter the staff PIN)$/ });
}

// From the start screen, type `pin` into the staff PIN screen and send it;
// resolves once the server answered (the caller checks what follows).
export async function enterPin(page, pin) {
	if (!(await pinHeading(page).isVisible())) {
		await page.waitForTimeout(SETTLE);
		await staffButton(page).click();
		await pinHeading(page).waitFor();
	}
	const open = page.getByRole('button', { name: /^(Mở|Open)$/ });
	await page.getByLabel(/^(Mã PIN|PIN)/).fill(pin);
	await open.click();
	// the button is disabled while the server checks the PIN; it is gone
	// once the staff mode replaced the PIN screen between the two looks, so
	// a look at it must not wait for it longer than a poll
	await until('the PIN to be checked', async () => !(await pinHeading(page).isVisible()) ||
		open.isEnabled({ timeout: 500 }));
}

// Open the staff mode with `pin`.
export async function openStaffMode(page, pin) {
	await enterPin(page, pin);
	await staffHeading(page).waitFor();
}

// The kiosk's thank-you screen.
export function thanks(page) {
	return page.getByRole('heading', { name: /^(Cảm ơn|Thank you)/ });
}

// Rate once on the kiosk's start screen and come back to it: a face, the
// reason follow-up after value 1 (a reason by its label, or skip), the
// thank-you screen.
export async function rate(page, value, { reason = null } = {}) {
	await page.waitForTimeout(SETTLE);
	await face(page, value).click();
	if (value === 1) {
		await skipButton(page).waitFor({ state: 'visible' });
		await page.waitForTimeout(SETTLE);
		if (reason)
			await page.getByRole('button', { name: reason, exact: true }).click();
		else
			await skipButton(page).click();
	}
	await thanks(page).waitFor({ state: 'visible' });
	await backToStart(page);
}

export function skipButton(page) {
	return page.getByRole('button', { name: /bỏ qua|skip/i }).first();
}

// From the thank-you screen back to the faces: a button if there is one,
// else the page's own timer.
export async function backToStart(page) {
	await until('the kiosk to come back to its faces', async () => face(page, 3).isVisible(), { timeout: 15000 });
}

// The kiosk's status mark ("Chưa gửi: 3 · Bị từ chối: 1", "Đã gửi hết"):
// {unsent, refused}, or null when it is not shown.
export async function statusMark(page) {
	const mark = page.getByText(/^(Chưa gửi: \d+|Đã gửi hết|Unsent: \d+|All sent)/).first();
	const text = await mark.textContent({ timeout: 2000 }).catch(() => null);
	if (text === null)
		return null;
	const unsent = text.match(/(?:Chưa gửi|Unsent): (\d+)/);
	const refused = text.match(/(?:Bị từ chối|Refused): (\d+)/);
	return { unsent: unsent ? Number(unsent[1]) : 0, refused: refused ? Number(refused[1]) : 0, text };
}

export async function unsentCount(page) {
	const s = await statusMark(page);
	return s && s.unsent;
}

// axe-core on the page as it is; the serious and critical violations.
export async function axeViolations(page, axePath) {
	const has = await page.evaluate(() => typeof window.axe !== 'undefined');
	if (!has)
		await page.addScriptTag({ path: axePath });
	const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
	return res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function describeViolations(where, violations) {
	return violations.map((v) => `${where}: ${v.impact} ${v.id} (${v.help}): ` +
		v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')).join('\n');
}

// The refusal page of a tampered phone link: one character of sig changed.
export function tamper(link) {
	const u = new URL(link);
	const sig = u.searchParams.get('sig');
	assert(sig, `no sig in ${link}`);
	const last = sig[sig.length - 1];
	u.searchParams.set('sig', sig.slice(0, -1) + (last === '0' ? '1' : '0'));
	return u.href;
}

// The phone questionnaire's receipt screen.
export function receipt(page) {
	return page.getByRole('heading', { name: /Đã nhận đánh giá|rating has been received/i });
}

// What has the keyboard focus, described for answerByKeyboard.
function focusedElement(page) {
	return page.evaluate(() => {
		const el = document.activeElement;
		if (!el || el === document.body || el === document.documentElement)
			return { kind: 'none' };
		const tag = el.tagName.toLowerCase();
		const type = (el.getAttribute('type') || '').toLowerCase();
		const role = el.getAttribute('role') || '';
		const label = (el.getAttribute('aria-label') || el.innerText || el.value || '').trim();
		if (tag === 'input' && type === 'radio') {
			const group = el.name ? [...el.form ? el.form.elements : document.querySelectorAll('input')]
				.filter((r) => r.type === 'radio' && r.name === el.name) : [el];
			const checked = group.find((r) => r.checked);
			return { kind: 'radio', group: el.name, value: el.value, checked: checked ? checked.value : null,
				values: group.map((r) => r.value) };
		}
		if (tag === 'textarea' || (tag === 'input' && ['', 'text', 'search', 'email', 'tel', 'number'].includes(type)))
			return { kind: 'text', value: el.value };
		if (tag === 'select')
			return { kind: 'select', answered: el.selectedIndex > 0 };
		if (tag === 'button' || role === 'button' || tag === 'a' || (tag === 'input' && ['submit', 'button'].includes(type)))
			return { kind: 'button', label, disabled: el.disabled === true };
		return { kind: tag, label };
	});
}

const FORWARD = /^(tiếp|tiếp tục|tiếp theo|xem lại|gửi|gửi phiếu|bắt đầu|next|continue|review|submit|send|start)\b/i;

// Answer the phone questionnaire with the keyboard only: Tab through each
// screen; in each radio group not yet answered, Space then arrow keys to
// `value` (the scale value; the first one for groups without it, such as
// gender); type `comment` into text fields; Enter on a forward button (next,
// review, submit).  Ends when the receipt shows.
export async function answerByKeyboard(page, { value = '4', comment = 'Cán bộ nhiệt tình.', stopBefore = null } = {}) {
	for (let step = 0; step < 1500; step++) {
		if (await receipt(page).isVisible())
			return;
		await page.keyboard.press('Tab');
		const f = await focusedElement(page);
		if (f.kind === 'radio' && f.checked === null) {
			await page.keyboard.press('Space');
			if (f.values.includes(value)) {
				for (let i = 0; i < f.values.length; i++) {
					const now = await focusedElement(page);
					if (now.checked === value)
						break;
					await page.keyboard.press(f.values.indexOf(value) > f.values.indexOf(now.checked) ? 'ArrowDown' : 'ArrowUp');
				}
			}
		} else if (f.kind === 'text' && !f.value) {
			await page.keyboard.type(comment);
		} else if (f.kind === 'select' && !f.answered) {
			await page.keyboard.press('ArrowDown');
		} else if (f.kind === 'button' && stopBefore && stopBefore.test(f.label)) {
			return;
		} else if (f.kind === 'button' && !f.disabled && FORWARD.test(f.label)) {
			await page.keyboard.press('Enter');
			await page.waitForTimeout(150);
		}
	}
	throw new Error('the questionnaire did not end on a receipt within 1500 key presses');
}

// ---- the office's console (collector/www/console*) ----

// Set an account's password on its one-time link page.
export async function setConsolePassword(page, link, password) {
	await page.goto(link);
	await page.getByLabel(/^(Mật khẩu mới|New password)$/).fill(password);
	await page.getByLabel(/^(Nhập lại mật khẩu mới|New password again)$/).fill(password);
	await page.getByRole('button', { name: /^(Đặt mật khẩu|Set password)$/ }).click();
	await page.getByText(/^(Đã đặt mật khẩu|The password of)/).waitFor();
}

// Sign in on /console/login (with `query`, e.g. "?next=..."); resolves once
// the page left the sign-in page.
export async function signIn(page, base, login, password, query = '') {
	await page.goto(`${base}/console/login${query}`);
	await page.getByLabel(/^(Tên đăng nhập|Login)$/).fill(login);
	await page.getByLabel(/^(Mật khẩu|Password)$/).fill(password);
	await page.getByRole('button', { name: /^(Đăng nhập|Sign in)$/ }).click();
	await page.waitForURL((u) => new URL(u).pathname !== '/console/login');
}

// The links of the console's header navigation, by their text.
export async function consoleNav(page) {
	const nav = page.getByRole('navigation', { name: /^(Các màn hình|Screens)$/ });
	await nav.getByRole('link').first().waitFor();
	return nav.getByRole('link').allTextContents();
}

// The rows of the table captioned `caption` (a string or RegExp), each as
// its cells' text.
export async function tableRows(page, caption) {
	const t = page.getByRole('table', { name: caption });
	await t.waitFor();
	return t.locator('tbody tr').evaluateAll((rows) =>
		rows.map((r) => [...r.querySelectorAll('th, td')].map((c) => c.textContent.trim())));
}
