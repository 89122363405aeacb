// run.mjs - the browser suite's runner: every tests/browser/*.test.mjs
// exports `tests`, a list of {name, timeout, fn(tc)}; each case runs in its
// own directory (lib.mjs Case) with a time limit, and its cleanups (servers,
// browsers) run whether it passed, failed or timed out.  Prints "ok   NAME"
// (with what the case returned, if a string) or "FAIL NAME" with the reason, and last "N passed, N failed"; exits 1 when
// any case failed.
//
//   node tests/browser/run.mjs [SUBSTRING...]   only the cases whose name has one
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Case, killAllServers, ROOT, RUN_DIR, cleanTmpRoot } from './lib.mjs';

const DEFAULT_TIMEOUT = 60000;
const dir = join(ROOT, 'tests/browser');
const filters = process.argv.slice(2);

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		killAllServers();
		process.exit(130);
	});
}

cleanTmpRoot();
const cases = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.mjs')).sort()) {
	const mod = await import(pathToFileURL(join(dir, f)).href);
	for (const t of mod.tests || [])
		cases.push({ ...t, name: `browser.${t.name}` });
}

let passed = 0, failed = 0;
for (const t of cases) {
	if (filters.length && !filters.some((s) => t.name.includes(s)))
		continue;
	const tc = new Case(t.name);
	const limit = t.timeout || DEFAULT_TIMEOUT;
	const started = Date.now();
	let timer, error = null, note = '';
	try {
		note = await Promise.race([
			t.fn(tc),
			new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${limit / 1000} s`)), limit); }),
		]);
	} catch (e) {
		error = e;
	} finally {
		clearTimeout(timer);
		await tc.close();
	}
	const secs = ((Date.now() - started) / 1000).toFixed(1);
	if (error) {
		failed++;
		console.log(`FAIL ${t.name} (${secs} s)`);
		console.log(String(error && error.stack || error).split('\n').slice(0, 12).map((l) => `    ${l}`).join('\n'));
		console.log(`    log: ${tc.logPath}`);
	} else {
		passed++;
		console.log(`ok   ${t.name} (${secs} s)${typeof note === 'string' && note ? `: ${note}` : ''}`);
		rmSync(tc.dir, { recursive: true, force: true });
	}
}
killAllServers();
if (!failed)
	rmSync(RUN_DIR, { recursive: true, force: true });
if (passed + failed === 0 && filters.length)
	console.log(`no case matches ${filters.join(' ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
