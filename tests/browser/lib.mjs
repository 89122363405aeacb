// lib.mjs - what the browser tests share: the sipas binary and its database,
// servers on 127.0.0.1 (each in its own process group, stopped in the case's
// cleanup even when the case fails), headless Debian Chromium driven by
// playwright-core, and small polling helpers.  No mocks: a real server, a
// real SQLite file, a real browser.
//
// Environment: SIPAS_BIN (default bin/sipas), SIPAS_NODE_DIR (where `make deps`
// ran `npm ci`, default build/node), SIPAS_CHROMIUM (default /usr/bin/chromium),
// SIPAS_BROWSER_TMP (where the cases' directories go, default build/browser/tmp).
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const NODE_DIR = resolve(process.env.SIPAS_NODE_DIR || join(ROOT, 'build/node'));
export const SIPAS_BIN = resolve(process.env.SIPAS_BIN || join(ROOT, 'bin/sipas'));
export const CHROMIUM = process.env.SIPAS_CHROMIUM || '/usr/bin/chromium';
export const TMP_ROOT = resolve(process.env.SIPAS_BROWSER_TMP || join(ROOT, 'build/browser/tmp'));
// This run's directory (runs may overlap): run-PID under TMP_ROOT.
export const RUN_DIR = join(TMP_ROOT, `run-${process.pid}`);

const require = createRequire(join(NODE_DIR, 'package.json'));
let playwright;
try {
	playwright = require('playwright-core');
} catch (e) {
	throw new Error(`playwright-core is not installed in ${NODE_DIR} (run make deps): ${e.message}`);
}
export const { chromium } = playwright;
export const AXE_PATH = require.resolve('axe-core/axe.min.js');

export const CHROMIUM_ARGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// Every server process group still running, so that an exit of the runner
// (a signal, an uncaught error) kills them too.
const liveGroups = new Set();
export function killAllServers() {
	for (const pgid of liveGroups) {
		try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
	}
	liveGroups.clear();
}
process.on('exit', killAllServers);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn() until it returns a truthy value; throw with the last value and
// `what` after `timeout` ms.
export async function until(what, fn, { timeout = 10000, interval = 100 } = {}) {
	const deadline = Date.now() + timeout;
	let last;
	for (;;) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e;
		}
		if (Date.now() > deadline)
			throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
		await sleep(interval);
	}
}

export function assert(cond, msg) {
	if (!cond)
		throw new Error(`assertion failed: ${msg}`);
}

export function assertEqual(actual, expected, msg) {
	const a = JSON.stringify(actual), e = JSON.stringify(expected);
	if (a !== e)
		throw new Error(`${msg}: expected ${e}, got ${a}`);
}

// The current quarter in Vietnam time (UTC+7 all year), as sipas names it: 2026Q4.
export function currentQuarter(now = Date.now()) {
	const d = new Date(now + 7 * 3600 * 1000);
	return `${d.getUTCFullYear()}Q${Math.floor(d.getUTCMonth() / 3) + 1}`;
}

// One case: its own directory and database, and a stack of cleanups run in
// reverse order whatever happens (the runner calls close()).
export class Case {
	constructor(name) {
		this.name = name;
		mkdirSync(RUN_DIR, { recursive: true });
		this.dir = mkdtempSync(join(RUN_DIR, `${name}.`));
		this.db = join(this.dir, 'sipas.db');
		this.logPath = join(this.dir, 'case.log');
		this.logFd = openSync(this.logPath, 'a');
		this.cleanups = [];
		this.closed = false;
	}

	log(...parts) {
		if (this.logFd !== null)
			writeSync(this.logFd, parts.join(' ') + '\n');
	}

	// fn runs at close(); at once if the case is already closed (a timed-out
	// case still running must not leave anything behind).
	defer(fn) {
		if (this.closed)
			Promise.resolve().then(fn).catch(() => {});
		else
			this.cleanups.push(fn);
	}

	async close() {
		this.closed = true;
		while (this.cleanups.length) {
			const fn = this.cleanups.pop();
			try {
				await fn();
			} catch (e) {
				this.log('cleanup:', e && e.stack || e);
			}
		}
		if (this.logFd !== null) {
			closeSync(this.logFd);
			this.logFd = null;
		}
	}

	// Run `sipas --db DB ARGS...`; its stdout, or an Error with stderr.
	sipas(...args) {
		this.log('$ sipas --db', this.db, ...args);
		try {
			const out = execFileSync(SIPAS_BIN, ['--db', this.db, ...args],
				{ cwd: this.dir, encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
			this.log(out);
			return out;
		} catch (e) {
			throw new Error(`sipas ${args.join(' ')} failed (${e.status ?? e.signal}): ${e.stderr || e.message}`);
		}
	}

	// The sqlite3 CLI on the case's database, read-only; rows as arrays of strings.
	sql(query) {
		const out = execFileSync('sqlite3', ['-readonly', '-separator', '\t', this.db, query],
			{ encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
		return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
	}

	// `sipas serve --listen 127.0.0.1:PORT` (0: any free port) in its own
	// process group; resolves once it printed "listening on http://127.0.0.1:PORT".
	async server({ port = 0, extra = [] } = {}) {
		const srv = await startServer(this, port, extra);
		this.defer(() => srv.kill());
		return srv;
	}

	// Headless Chromium with a fresh profile; closed at cleanup.
	async browser({ args = [] } = {}) {
		const browser = await chromium.launch({
			executablePath: CHROMIUM,
			headless: true,
			args: [...CHROMIUM_ARGS, ...args],
			timeout: 30000,
		});
		this.defer(() => browser.close());
		return browser;
	}

	// A new context (own storage) and page, with console errors and failed
	// requests written to the case's log.
	async page(browser, options = {}) {
		const context = await browser.newContext({ locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', ...options });
		context.setDefaultTimeout(10000);
		context.setDefaultNavigationTimeout(15000);
		const page = await context.newPage();
		page.on('console', (m) => this.log(`[console.${m.type()}]`, m.text()));
		page.on('pageerror', (e) => this.log('[pageerror]', e.message));
		page.on('requestfailed', (r) => this.log('[requestfailed]', r.method(), r.url(), r.failure()?.errorText));
		return page;
	}

	// A kiosk device with a pairing link (and staff PIN `pin`, else a
	// generated one); returns {id, url}.
	pairingLink(base, { agency = 'P-HONGBANG', counter = 'Quầy 1', sectors = ['dat-dai'], pin = null } = {}) {
		const args = ['device', 'add', '--agency', agency, '--counter', counter];
		for (const s of sectors)
			args.push('--sector', s);
		if (pin)
			args.push('--pin', pin);
		const out = this.sipas(...args, '--pair', '--base', base);
		const line = out.split('\n').find((l) => l.includes('/pair/'));
		assert(line, `device add --pair printed no /pair/ link:\n${out}`);
		const url = line.trim().split(/\s+/).find((w) => w.includes('/pair/'));
		const [[id]] = this.sql('SELECT max(id) FROM devices');
		return { id, url, out };
	}

	// A console account made with `sipas user add` (role office, agency or
	// viewer; agencies its --agency codes); returns its one-time password
	// link (/console/password/TOKEN).
	userLink(base, { login, name = login, role = 'office', agencies = [] }) {
		const args = ['user', 'add', '--login', login, '--name', name, '--role', role];
		for (const a of agencies)
			args.push('--agency', a);
		const out = this.sipas(...args, '--base', base);
		const link = out.split(/\s+/).find((w) => w.includes('/console/password/'));
		assert(link, `user add printed no /console/password/ link:\n${out}`);
		return link;
	}

	// The signed phone link of a dossier (first line of `sipas link`).
	phoneLink(base, { form = 'sipas-2017', agency = 'SO-XD', sector = 'xay-dung', dossier = 'HS-1' } = {}) {
		const out = this.sipas('link', '--form', form, '--agency', agency, '--sector', sector,
			'--dossier', dossier, '--base', base);
		const url = out.split('\n')[0].trim();
		assert(url.startsWith(`${base}/s/${form}?`), `sipas link printed ${JSON.stringify(out)}`);
		return url;
	}

	// `sipas score` for the current quarter, parsed.
	score(form) {
		return JSON.parse(this.sipas('score', '--period', currentQuarter(), '--form', form, '--format', 'json'));
	}
}

async function startServer(tc, port, extra) {
	const args = ['--db', tc.db, 'serve', '--listen', `127.0.0.1:${port}`, ...extra];
	tc.log('$ sipas', ...args);
	const logFd = openSync(join(tc.dir, 'server.log'), 'a');
	const child = spawn(SIPAS_BIN, args, {
		cwd: tc.dir,
		detached: true,   // its own process group, killed as a whole
		stdio: ['ignore', 'pipe', logFd],
	});
	closeSync(logFd);
	liveGroups.add(child.pid);
	let exited = false, exitCode = null;
	const exitPromise = new Promise((r) => child.once('exit', (code, sig) => {
		exited = true;
		exitCode = code ?? sig;
		liveGroups.delete(child.pid);
		r(exitCode);
	}));
	const srv = {
		pid: child.pid,
		port: 0,
		base: '',
		stdout: '',
		get running() { return !exited; },
		// Signal the group and wait for the exit; SIGKILL after `grace` ms.
		async stop(signal = 'SIGTERM', grace = 5000) {
			if (exited)
				return exitCode;
			try { process.kill(-child.pid, signal); } catch { /* gone */ }
			const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, grace);
			const code = await exitPromise;
			clearTimeout(t);
			return code;
		},
		async kill() {
			return srv.stop('SIGKILL', 0);
		},
	};
	child.stdout.setEncoding('utf8');
	const listening = new Promise((res, rej) => {
		const timer = setTimeout(() => rej(new Error(`server did not print "listening on" within 10 s; stdout: ${srv.stdout}`)), 10000);
		child.stdout.on('data', (chunk) => {
			if (srv.stdout.length < 65536)
				srv.stdout += chunk;
			tc.log('[server stdout]', chunk.trimEnd());
			const m = srv.stdout.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
			if (m && !srv.port) {
				srv.port = Number(m[2]);
				srv.base = m[1];
				clearTimeout(timer);
				res();
			}
		});
		exitPromise.then((code) => {
			clearTimeout(timer);
			rej(new Error(`server exited (${code}) before listening; stdout: ${srv.stdout}`));
		});
	});
	try {
		await listening;
	} catch (e) {
		await srv.kill();
		throw e;
	}
	return srv;
}

// Start a server on a port a stopped one had: retried briefly in case the
// port is not free yet.
export async function restartOnPort(tc, port) {
	let lastErr;
	for (let i = 0; i < 20; i++) {
		try {
			return await tc.server({ port });
		} catch (e) {
			lastErr = e;
			await sleep(250);
		}
	}
	throw lastErr;
}

// Rows of the case's responses, answers and choices in hex: [{form, channel, hex, choices, response_id}].
export function responses(tc, form) {
	const where = form ? `WHERE f.code = '${form.replace(/'/g, "''")}'` : '';
	return tc.sql(`SELECT f.code, r.channel, hex(r.answers), hex(r.choices), r.response_id FROM responses r JOIN forms f ON f.id = r.form_id ${where} ORDER BY r.id`)
		.map(([f, channel, hex, choices, response_id]) => ({ form: f, channel, hex, choices, response_id }));
}

// Remove what earlier runs left (failed cases' directories), except the
// directories of runs still going.
export function cleanTmpRoot() {
	let names = [];
	try {
		names = readdirSync(TMP_ROOT);
	} catch {
		return;
	}
	for (const n of names) {
		const m = /^run-(\d+)$/.exec(n);
		if (m && Number(m[1]) !== process.pid) {
			try {
				process.kill(Number(m[1]), 0);
				continue;   // still running
			} catch { /* gone */ }
		}
		rmSync(join(TMP_ROOT, n), { recursive: true, force: true });
	}
}
