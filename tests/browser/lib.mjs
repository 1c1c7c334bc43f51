// lib.mjs: what the browser tests share. A TAP producer with a fixed plan,
// the Chromium launcher (Debian chromium through playwright-core), the stoa
// process (start, wait for its ports, SIGINT, exit status, sanitizer lines),
// the temporary html folder served by Stoa, the Admin API client, the checks
// that decide whether a test can run here at all, and createRun(): the start
// and the end that every page test shares.
//
// Environment (set by `make check`):
//   STOA_BIN      the stoa binary
//   STOA_PLUGINS  the plugins folder (plugins/.libs in a build tree)
//   STOA_HTML     the html folder to serve (copied, with the test page added)
//   STOA_CHROMIUM optional, default /usr/bin/chromium (Debian package)
//   STOA_KEEP_TMP optional: keep the temporary folder (html copy, stoa.log);
//                 it is always kept when a test fails
//
// Needs `cd tests && npm install` (playwright-core, janus-gateway,
// webrtc-adapter; nothing downloads a browser). Tests must run in a private
// network namespace with only loopback (tests/ns-run, or `unshare -n`):
// preflight() makes them skip themselves when they see another address.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// STOA_NODE_MODULES lets a build outside the source tree (make distcheck)
// use the packages installed in the checkout.
export const NODE_MODULES = process.env.STOA_NODE_MODULES || path.join(HERE, '..', 'node_modules');
export const CHROMIUM = process.env.STOA_CHROMIUM || '/usr/bin/chromium';

export const HTTP_PORT = 8088;
export const WS_PORT = 8188;
export const ADMIN_PORT = 7088;
export const ORIGIN = `http://localhost:${HTTP_PORT}`;
export const WS_URL = `ws://localhost:${WS_PORT}`;
export const ADMIN_URL = `http://127.0.0.1:${ADMIN_PORT}/admin`;

// docs/testing.md and /work/shared/TESTING.md: what Chromium needs to do
// WebRTC in a namespace that has nothing but loopback.
export const CHROMIUM_ARGS = [
	'--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
	'--no-proxy-server',
	'--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
	'--allow-loopback-in-peer-connection',
	'--disable-features=WebRtcHideLocalIpsWithMdns',
	'--autoplay-policy=no-user-gesture-required', '--mute-audio',
	'--disable-background-timer-throttling', '--disable-renderer-backgrounding',
	'--disable-backgrounding-occluded-windows',
];

export const SANITIZER_RE = /AddressSanitizer|LeakSanitizer|runtime error:/;

// ------------------------------------------------------------------ TAP
// A fixed plan of test names. report() may skip ahead (what was skipped is
// "not ok ... not run"); finishPlan() fails whatever is left.
export function createTap(plan) {
	const tap = {
		plan,
		nextTest: 0,
		failed: 0,
		out(line) { process.stdout.write(line + '\n'); },
		diag(lines) {
			for (const l of [].concat(lines))
				for (const s of String(l).replace(/\x1b\[[0-9;]*m/g, '').split('\n'))
					tap.out('# ' + s);
		},
		emit(idx, pass, lines) {
			tap.out(`${pass ? 'ok' : 'not ok'} ${idx + 1} - ${plan[idx]}`);
			if (!pass) tap.failed++;
			if (lines && lines.length) tap.diag(lines);
		},
		report(name, pass, lines = []) {
			const idx = plan.indexOf(name);
			if (idx < 0) throw new Error('unknown test ' + name);
			if (idx < tap.nextTest) { tap.diag([`(late result for "${name}": ${pass})`, ...lines]); return; }
			while (tap.nextTest < idx) tap.emit(tap.nextTest++, false, ['not run']);
			tap.emit(idx, pass, lines);
			tap.nextTest = idx + 1;
		},
		// Fails, as "not run", every test before plan index `idx` that did
		// not report: the tail of a test reports its closing checks whatever
		// happened, so what an abort skipped must be accounted for first.
		notRunUpTo(idx, reason) {
			while (tap.nextTest < idx) tap.emit(tap.nextTest++, false, [`not run: ${reason}`]);
		},
		finishPlan(reason) { tap.notRunUpTo(plan.length, reason); },
		header() { tap.out(`1..${plan.length}`); },
	};
	return tap;
}

// ------------------------------------------------------------------ helpers
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function withTimeout(p, ms, what) {
	let t;
	return Promise.race([
		p,
		new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); }),
	]).finally(() => clearTimeout(t));
}

export function errText(e) { return e && e.message ? e.message : String(e); }

// The step runner the page tests share: step(name, fn, breaks) runs fn,
// which returns nothing, { lines } or { fail: true, lines }, and reports
// the TAP result with the time it took. A failed step that `breaks` makes
// every later step report "not run" (`broken` says which one failed), so
// one failure does not cascade into misleading ones. `timed: false` leaves
// the time out, for tests whose steps print their own timings.
export function createSteps(report, { timed = true } = {}) {
	const steps = {
		broken: null,
		async step(name, fn, breaks = true) {
			if (steps.broken !== null) { report(name, false, [`not run: ${steps.broken}`]); return false; }
			const ts = Date.now();
			try {
				const r = await fn();
				const took = timed ? [`(${((Date.now() - ts) / 1000).toFixed(1)} s)`] : [];
				if (r && r.fail) { report(name, false, [...(r.lines || []), ...took]); if (breaks) steps.broken = `"${name}" failed`; return false; }
				report(name, true, [...((r && r.lines) || []), ...took]);
				return true;
			} catch (e) {
				report(name, false, [errText(e)]);
				if (breaks) steps.broken = `"${name}" failed`;
				return false;
			}
		},
	};
	return steps;
}

export function portOpen(port) {
	return new Promise((resolve) => {
		const s = net.connect({ host: '127.0.0.1', port });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => { s.destroy(); resolve(false); });
		s.setTimeout(500, () => { s.destroy(); resolve(false); });
	});
}

// One Admin API request over HTTP; returns { req, url, status, json }.
export async function admin(body, sessionId, handleId) {
	let url = ADMIN_URL;
	if (sessionId) url += '/' + sessionId;
	if (handleId) url += '/' + handleId;
	const req = { transaction: 'admin-' + Math.random().toString(36).slice(2, 10), ...body };
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(req),
		signal: AbortSignal.timeout(5000),
	});
	const text = await res.text();
	let json;
	try { json = JSON.parse(text); } catch { throw new Error(`POST ${url} ${JSON.stringify(req)}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`); }
	return { req, url, status: res.status, json };
}

export function onlyLoopback() {
	const bad = [];
	for (const [name, addrs] of Object.entries(os.networkInterfaces()))
		for (const a of addrs || [])
			// 127/8, ::1, and IPv6 link-local (tests/ns-run's ifb device gets one;
			// it reaches nothing)
			if (!(a.family === 'IPv4' ? a.address.startsWith('127.') : (a.address === '::1' || /^fe[89ab]/i.test(a.address))))
				bad.push(`${name} ${a.address}`);
	return bad;
}

function firstExisting(base, candidates) {
	for (const c of candidates) {
		const p = path.join(base, c);
		if (fs.existsSync(p)) return p;
	}
	return null;
}

// The browser bundles: janus-gateway's package.json "main" is the ES module
// build (npm/dist/janus.es.js); webrtc-adapter ships a browserified UMD build
// in out/adapter.js that sets window.adapter.
export function findBundles() {
	const jg = path.join(NODE_MODULES, 'janus-gateway');
	const wa = path.join(NODE_MODULES, 'webrtc-adapter');
	let janusMain = null;
	try {
		const pj = JSON.parse(fs.readFileSync(path.join(jg, 'package.json'), 'utf8'));
		if (pj.main && /\.es\.m?js$/.test(pj.main)) janusMain = pj.main;
	} catch { /* reported by the caller */ }
	const janus = firstExisting(jg, [janusMain, 'npm/dist/janus.es.js'].filter(Boolean));
	const adapter = firstExisting(wa, ['out/adapter.js']);
	const versions = {};
	for (const [k, d] of [['janus-gateway', jg], ['webrtc-adapter', wa], ['playwright-core', path.join(NODE_MODULES, 'playwright-core')]]) {
		try { versions[k] = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).version; } catch { versions[k] = null; }
	}
	return { janus, adapter, versions };
}

// Whether the test can run here. Prints "Bail out!" (and exits 99) or a
// "1..0 # SKIP" line and returns null; otherwise returns what the test needs.
export async function preflight() {
	const bin = process.env.STOA_BIN, plugins = process.env.STOA_PLUGINS, html = process.env.STOA_HTML;
	const out = (l) => process.stdout.write(l + '\n');
	if (!bin || !plugins || !html) {
		out('Bail out! STOA_BIN, STOA_PLUGINS and STOA_HTML must be set (make check sets them)');
		process.exit(99);
	}
	const bad = onlyLoopback();
	if (bad.length) {
		out(`1..0 # SKIP not in a private network namespace (non-loopback addresses: ${bad.join(', ')}); run it through tests/ns-run or unshare -n`);
		return null;
	}
	const bundles = findBundles();
	let playwright = null;
	try { playwright = await import(pathToFileURL(path.join(NODE_MODULES, 'playwright-core', 'index.mjs')).href); } catch { /* below */ }
	if (!playwright || !bundles.janus || !bundles.adapter) {
		out(`1..0 # SKIP npm packages missing under ${NODE_MODULES}: run \`cd tests && npm install\``);
		return null;
	}
	if (!fs.existsSync(CHROMIUM)) {
		out(`1..0 # SKIP ${CHROMIUM} not found (apt-get install chromium)`);
		return null;
	}
	return { bin, plugins, html, bundles, playwright };
}

export function bundleVersions(bundles) {
	return `janus-gateway ${bundles.versions['janus-gateway']} (${path.relative(NODE_MODULES, bundles.janus)}), webrtc-adapter ${bundles.versions['webrtc-adapter']}, playwright-core ${bundles.versions['playwright-core']}`;
}

// A temporary folder: conf/ (empty: embedded defaults), html/ (a copy of
// STOA_HTML plus janus.es.js, adapter.js and the given pages).
// Where a test leaves a screenshot for people to look at: `name` in the
// build tree's tests/browser (listed in CLEANFILES), or the temporary
// folder when the binary is not in a build tree.
export function screenshotPath(env, site, name) {
	const dir = path.basename(env.bin) === 'stoa' ? path.join(path.dirname(path.dirname(env.bin)), 'tests', 'browser') : null;
	return dir && fs.existsSync(dir) ? path.join(dir, name) : path.join(site.tmp, name);
}

export function makeTempSite(prefix, env, pages) {
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	const confDir = path.join(tmp, 'conf');
	const htmlDir = path.join(tmp, 'html');
	fs.mkdirSync(confDir);
	fs.cpSync(env.html, htmlDir, { recursive: true, dereference: true });
	fs.copyFileSync(env.bundles.janus, path.join(htmlDir, 'janus.es.js'));
	fs.copyFileSync(env.bundles.adapter, path.join(htmlDir, 'adapter.js'));
	for (const [name, text] of Object.entries(pages || {}))
		fs.writeFileSync(path.join(htmlDir, name), text);
	return { tmp, confDir, htmlDir };
}

export async function launchChromium(playwright, extraArgs = []) {
	return playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30000 });
}

// Keeps the last `max` console messages of a page in `lines`, as
// "[type] text": they are printed only when a test fails, and a page that
// logs in a loop must not grow the test's memory without bound.
export function recordConsole(page, lines, max = 200) {
	page.on('console', (m) => { lines.push(`[${m.type()}] ${m.text()}`); if (lines.length > max) lines.shift(); });
}

// ------------------------------------------------------------------ page scripts
// Script text the tests' own pages share, interpolated into their HTML
// templates (the pages run in Chromium, where this module cannot be
// imported).

// timeout(promise, ms, what): the promise, or a rejection naming `what`
// once `ms` have passed.
export const PAGE_TIMEOUT_JS = `function timeout(p, ms, what) {
	let t;
	return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(what + ': timed out after ' + ms + ' ms')), ms); })])
		.finally(() => clearTimeout(t));
}
`;

// Every captured video track gets contentHint "detail". Under CPU load
// Chromium's overuse detector scales the camera down, and a 320x180 input
// carries only one simulcast layer; with "detail" it drops frames instead,
// so the three layers a simulcast test is about stay.
export const PAGE_DETAIL_CAMERA_JS = `const realGum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (c) => {
	const s = await realGum(c);
	s.getVideoTracks().forEach((t) => { t.contentHint = 'detail'; });
	return s;
};
`;

// ------------------------------------------------------------------ stoa
// One stoa process, its output in logFile (appended, so several runs can
// share one log and one sanitizer check).
export class Stoa {
	constructor({ bin, plugins, confDir, htmlDir, logFile, args = [], env = {} }) {
		this.bin = bin;
		this.args = ['-P', plugins, '-F', confDir, '--html-folder', htmlDir, '-o', '-D', ...args];
		this.env = env;
		this.logFile = logFile;
		this.proc = null;
		this.exit = null;
		this.logStart = 0;
	}

	describe() {
		const envs = Object.entries(this.env).map(([k, v]) => `${k}=${v} `).join('');
		return `${envs}${this.bin} ${this.args.join(' ')}`;
	}

	// Resolves true once the ports accept connections, false if stoa exited
	// or the ports stayed closed for timeoutMs.
	async start(ports = [HTTP_PORT, WS_PORT, ADMIN_PORT], timeoutMs = 10000) {
		try { this.logStart = fs.statSync(this.logFile).size; } catch { this.logStart = 0; }
		const fd = fs.openSync(this.logFile, 'a');
		this.proc = spawn(this.bin, this.args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...this.env } });
		fs.closeSync(fd);
		this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); }));
		this.proc.on('error', (e) => { this.exit = { code: null, signal: null, error: String(e) }; });
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline && !this.exit) {
			const st = await Promise.all(ports.map(portOpen));
			if (st.every(Boolean)) return true;
			await sleep(100);
		}
		return false;
	}

	alive() { return this.proc !== null && this.exit === null; }

	// SIGINT and wait; returns the exit ({code, signal}) or null (then killed).
	async stop(timeoutMs = 5000) {
		if (!this.proc) return null;
		if (this.exit) return this.exit;
		this.proc.kill('SIGINT');
		const r = await withTimeout(this.exited, timeoutMs, 'stoa exit').catch(() => null);
		if (!r) this.kill();
		return r;
	}

	kill() {
		if (this.proc && !this.exit) { try { this.proc.kill('SIGKILL'); } catch { /* gone */ } }
	}

	log() {
		try { return fs.readFileSync(this.logFile, 'utf8').slice(this.logStart); } catch { return ''; }
	}

	logTail(n) { return this.log().split('\n').slice(-n); }

	sanitizerLines() { return this.log().split('\n').filter((l) => SANITIZER_RE.test(l)); }
}

// ------------------------------------------------------------------ watchdog
// Whatever hangs, the plan gets finished and the process exits 1.
export function watchdog(ms, tap, onExpire) {
	const t = setTimeout(async () => {
		tap.diag([`watchdog: test exceeded ${ms / 1000} s`]);
		tap.finishPlan('watchdog expired');
		try { await withTimeout(Promise.resolve(onExpire()), 15000, 'cleanup'); } catch { /* exiting anyway */ }
		process.exit(1);
	}, ms);
	return { cancel: () => clearTimeout(t) };
}

// ------------------------------------------------------------------ a run
// What the page tests do around their own steps, in one place so that each
// of them starts and ends the same way: Chromium and stoa start with one
// TAP result each; the watchdog and the final cleanup close the browser and
// kill stoa whatever state the steps left; the end reports stoa's exit and
// its sanitizer lines, prints what helps to read a failure, and removes the
// temporary folder only when nothing failed.
//
// Owner: the test's main(), for the whole process; `browser` is null until
// start() launched it and again once closeBrowser() closed it. `stoa` is the
// process the end reports on: a test that starts a new Stoa must put it
// there, or the end would check (and the cleanup kill) the old one.
export function createRun({ tap, stoa, budgetMs, closeMs = 10000 }) {
	const run = {
		browser: null,
		stoa,

		// Closing can hang when a renderer is stuck; the test must end anyway.
		async closeBrowser() {
			if (!run.browser) return;
			const b = run.browser;
			run.browser = null;
			await withTimeout(b.close(), closeMs, 'browser.close').catch(() => {});
		},

		async cleanup() { await run.closeBrowser(); run.stoa.kill(); },

		// Reports `browserTest` and `stoaTest`; throws when either failed,
		// since no step can run without both. `playwrightVersion` adds the
		// playwright-core version to the Chromium line (the page tests that
		// print no bundle versions otherwise).
		async start(env, browserTest, stoaTest, { playwrightVersion = false } = {}) {
			try {
				run.browser = await launchChromium(env.playwright);
				const v = [`chromium ${run.browser.version()}`];
				if (playwrightVersion) v.push(`playwright-core ${env.bundles.versions['playwright-core']}`);
				tap.report(browserTest, true, [v.join(', ')]);
			} catch (e) {
				tap.report(browserTest, false, [errText(e)]);
				throw new Error('browser did not start');
			}
			tap.diag([`starting ${run.stoa.describe()}`]);
			const up = await run.stoa.start();
			tap.report(stoaTest, up, up ? [] : [run.stoa.exit ? `stoa exited early: ${JSON.stringify(run.stoa.exit)}` : 'ports not open after 10 s', ...run.stoa.logTail(20)]);
			if (!up) throw new Error('server did not start');
		},

		// SIGINT is how an operator stops stoa: it must exit 0 by itself, so
		// a stoa that had already died, or needed the SIGKILL, fails `test`.
		async reportStoaExit(test) {
			const wasAlive = run.stoa.alive();
			const r = run.stoa.proc ? await run.stoa.stop() : null;
			tap.report(test, !!(wasAlive && r && r.code === 0 && r.signal === null),
				[!run.stoa.proc ? 'not started' : !wasAlive ? `stoa had already exited: ${JSON.stringify(run.stoa.exit)}` : r ? `exit ${JSON.stringify(r)}` : 'still running 5 s after SIGINT; killed']);
		},

		// `earlier`: sanitizer lines of stoa runs whose log part is gone (a
		// test that restarts stoa).
		reportSanitizers(test, earlier = []) {
			const san = [...earlier, ...run.stoa.sanitizerLines()];
			tap.report(test, san.length === 0, san.slice(0, 20));
		},

		// The last thing main() does; returns its exit code. The browser
		// consoles (`pages`: { who: { console: lines } }, or `consoles`:
		// { who: lines }, who '' for a single page) and the stoa log tail are
		// printed only on failure, when someone will read them. The temporary
		// folder goes unless something failed, STOA_KEEP_TMP is set, or one
		// of `keep` (screenshots written there when there is no build tree)
		// lies in it.
		async finish({ t0, site = null, pages = {}, consoles = {}, consoleLines = 30, keep = [] }) {
			await run.cleanup();
			tap.finishPlan('aborted earlier');
			run.dog.cancel();
			tap.diag([`${((Date.now() - t0) / 1000).toFixed(1)} s`]);
			if (tap.failed) {
				for (const [who, lines] of [...Object.entries(pages).map(([w, p]) => [w, p.console]), ...Object.entries(consoles)])
					tap.diag([`${who ? who + ': ' : ''}browser console (last ${consoleLines} lines):`, ...lines.slice(-consoleLines)]);
				tap.diag(['stoa log (last 60 lines):', ...run.stoa.logTail(60)]);
			}
			if (site) {
				if (!tap.failed && !process.env.STOA_KEEP_TMP && !keep.some((f) => f.startsWith(site.tmp))) fs.rmSync(site.tmp, { recursive: true, force: true });
				else tap.diag([`temporary files kept in ${site.tmp}`]);
			}
			return tap.failed ? 1 : 0;
		},
	};
	// Whatever hangs, the log shows where stoa was and nothing is left running.
	run.dog = watchdog(budgetMs, tap, async () => {
		tap.diag(['stoa log (last 40 lines):', ...run.stoa.logTail(40)]);
		await run.cleanup();
	});
	return run;
}

// The end of every test file: main()'s result is the exit code; an
// exception that escaped it still completes the plan, so the TAP harness
// counts every planned test.
export function runMain(main, tap) {
	main().then((code) => process.exit(code), (e) => {
		tap.diag([`fatal: ${e && e.stack ? e.stack : e}`]);
		tap.finishPlan('fatal error');
		process.exit(1);
	});
}
