#!/usr/bin/env node
// test_janusjs.mjs: Janus's own client library, janus.js (npm janus-gateway),
// unchanged, in headless Chromium against Stoa, over WebSocket and over HTTP
// long poll. Prints TAP for automake's tap-driver.
//
// Environment, npm packages and network namespace: see lib.mjs (shared
// with the other browser tests).
//
// The page is served by Stoa's own HTTP server from a temporary copy of the
// html folder, so it has the same origin as /janus. Node drives the page step
// by step (page.evaluate on promises with timeouts), watches the WebSocket
// frames and HTTP requests janus.js makes, and checks the server's view with
// the Admin API on 127.0.0.1:7088.

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, WS_PORT, createTap, sleep, withTimeout, errText, admin, preflight, bundleVersions,
	makeTempSite, launchChromium, Stoa, watchdog, recordConsole, runMain, PAGE_TIMEOUT_JS,
} from './lib.mjs';

const PAGE_NAME = 'stoa-test-janusjs.html';
const TOTAL_BUDGET_MS = 85000;   // whole test; the watchdog fails what is left
const IDLE_CHECK_MS = 6000;      // session must still work this long after create

// ------------------------------------------------------------------ TAP
const TRANSPORTS = [
	{ key: 'ws', server: `ws://localhost:${WS_PORT}` },
	{ key: 'http', server: '/janus' },
];
const STEPS = [
	['load', 'test page loads from Stoa and Janus.init() calls back'],
	['create', 'new Janus(): success callback, session created'],
	['sessionid', 'janus.getSessionId() is a positive safe integer'],
	['attach', 'janus.attach(janus.plugin.echotest): success callback with a handle'],
	['admin_sessions', 'Admin API list_sessions lists the session janus.js got'],
	['admin_handles', 'Admin API list_handles lists the handle'],
	['admin_handle_info', 'Admin API handle_info shows plugin and opaque_id'],
	['msg_ok', 'send {audio:true,video:true}: onmessage result "ok"'],
	['msg_413', 'send {}: onmessage error_code 413'],
	['keepalive', 'keepalive traffic goes through'],
	['alive', `session still usable ${IDLE_CHECK_MS / 1000} s after create`],
	['detach', 'handle.detach(): success callback'],
	['destroy', 'janus.destroy(): success and destroyed callbacks, server said success'],
	['admin_gone', 'Admin API no longer lists the session'],
	['clean', 'no page errors and no janus.js error callback'],
];
const PLAN = ['stoa starts and listens on 8088, 8188 and 7088', 'chromium launches (playwright-core)'];
for (const t of TRANSPORTS)
	for (const [, desc] of STEPS)
		PLAN.push(`${t.key}: ${desc}`);
PLAN.push('stoa exits with status 0 within 5 s of SIGINT');
PLAN.push('stoa log has no sanitizer reports');

const tap = createTap(PLAN);
const { report, diag, finishPlan } = tap;

// ------------------------------------------------------------------ the page
// A plain page with a module script. Node calls window.stoaTest.* through
// page.evaluate; every call returns a promise that settles within its timeout.
const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stoa: janus.js test</title>
<link rel="icon" href="data:,">
<script src="adapter.js"></script>
<script type="module">
import Janus from './janus.es.js';
window.Janus = Janus;
const st = { errors: [], messages: [], waiters: [], destroyed: 0, detached: 0 };
${PAGE_TIMEOUT_JS}
function plain(x) { try { return JSON.parse(JSON.stringify(x === undefined ? null : x)); } catch (e) { return String(x); } }
function nextMessage(ms) {
	if (st.messages.length) return Promise.resolve(st.messages.shift());
	return timeout(new Promise((res) => st.waiters.push(res)), ms, 'onmessage');
}
window.stoaTest = {
	init(debug) {
		return timeout(new Promise((res) => Janus.init({
			debug,
			dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }),
			callback: () => res({ webrtc: Janus.isWebrtcSupported() }),
		})), 5000, 'Janus.init');
	},
	create(server, keepAlivePeriod) {
		return timeout(new Promise((res, rej) => {
			st.janus = new Janus({
				server, keepAlivePeriod,
				success: () => { const id = st.janus.getSessionId(); res({ sessionId: id, type: typeof id }); },
				error: (e) => { st.errors.push(String(e)); rej(new Error('error callback: ' + e)); },
				destroyed: () => { st.destroyed++; },
			});
		}), 8000, 'new Janus');
	},
	attach(opaqueId) {
		return timeout(new Promise((res, rej) => {
			st.janus.attach({
				plugin: 'janus.plugin.echotest', opaqueId,
				success: (h) => { st.handle = h; res({ handleId: h.getId(), plugin: h.getPlugin() }); },
				error: (e) => rej(new Error('attach error callback: ' + e)),
				onmessage: (msg, jsep) => {
					const m = { msg: plain(msg), jsep: plain(jsep) };
					const w = st.waiters.shift();
					if (w) w(m); else st.messages.push(m);
				},
				ondetached: () => { st.detached++; },
			});
		}), 8000, 'attach');
	},
	send(body, ms) {
		return timeout(new Promise((res, rej) => {
			st.handle.send({
				message: body,
				success: (data) => { nextMessage(ms).then((m) => res({ sendData: plain(data), ...m }), rej); },
				error: (e) => rej(new Error('send error callback: ' + e)),
			});
		}), ms + 1000, 'send');
	},
	detach() {
		return timeout(new Promise((res, rej) => st.handle.detach({
			success: () => res({ ok: true }),
			error: (e) => rej(new Error('detach error callback: ' + e)),
		})), 8000, 'detach');
	},
	destroy() {
		return timeout(new Promise((res, rej) => st.janus.destroy({
			success: () => {
				// the destroyed callback is called right after success
				setTimeout(() => res({ destroyed: st.destroyed, sessionId: st.janus.getSessionId(), connected: st.janus.isConnected() }), 50);
			},
			error: (e) => rej(new Error('destroy error callback: ' + e)),
		})), 8000, 'destroy');
	},
	state() {
		return { errors: st.errors.slice(), connected: st.janus ? st.janus.isConnected() : null,
			sessionId: st.janus ? st.janus.getSessionId() : null, destroyed: st.destroyed,
			detached: st.detached, pendingMessages: st.messages.length };
	},
};
window.stoaReady = true;
</script></head>
<body><p>Stoa janus.js test page</p></body></html>
`;

// ------------------------------------------------------------------ network watch
// Correlates what janus.js sends and what it gets back, by transaction.
class Wire {
	constructor(page, transport) {
		this.transport = transport;
		this.sent = new Map();       // transaction -> request
		this.replies = new Map();    // transaction -> [replies]
		this.keepalivesSent = 0;
		this.keepaliveAcks = 0;
		this.polls = { started: 0, answered: 0, failed: 0, arrays: 0, events: 0, statuses: [], failures: [] };
		this.wsUrls = [];
		this.notes = [];
		page.on('websocket', (ws) => {
			this.wsUrls.push(ws.url());
			ws.on('framesent', (f) => this.onJson(f.payload, true));
			ws.on('framereceived', (f) => this.onJson(f.payload, false));
			ws.on('socketerror', (e) => this.notes.push('websocket error: ' + e));
		});
		page.on('request', (r) => {
			if (!this.isApi(r.url())) return;
			if (r.method() === 'GET' && this.isPoll(r.url())) this.polls.started++;
			else if (r.method() === 'POST') this.onJson(r.postData(), true);
		});
		page.on('requestfinished', async (r) => {
			if (!this.isApi(r.url())) return;
			let resp, text;
			try { resp = await r.response(); text = resp ? await resp.text() : ''; } catch (e) { text = ''; }
			const status = resp ? resp.status() : 0;
			if (r.method() === 'GET' && this.isPoll(r.url())) {
				this.polls.statuses.push(status);
				if (status === 200) this.polls.answered++;
				try {
					const j = JSON.parse(text);
					if (Array.isArray(j)) { this.polls.arrays++; this.polls.events += j.length; } else this.polls.events++;
					this.onJson(text, false);
				} catch { this.polls.failures.push(`GET ${r.url()} -> HTTP ${status}, body ${JSON.stringify(text.slice(0, 200))}`); }
			} else if (r.method() === 'POST') {
				if (status !== 200) this.notes.push(`POST ${r.url()} -> HTTP ${status}`);
				this.onJson(text, false);
			}
		});
		page.on('requestfailed', (r) => {
			if (!this.isApi(r.url())) return;
			const f = r.failure();
			if (r.method() === 'GET' && this.isPoll(r.url())) {
				this.polls.failed++;
				this.polls.failures.push(`GET ${r.url()} failed: ${f ? f.errorText : '?'}`);
			} else this.notes.push(`${r.method()} ${r.url()} failed: ${f ? f.errorText : '?'}`);
		});
	}
	isApi(u) { return new URL(u).pathname.startsWith('/janus'); }
	isPoll(u) { return /^\/janus\/\d+$/.test(new URL(u).pathname); }
	onJson(payload, outgoing) {
		if (payload == null) return;
		let items;
		try { items = JSON.parse(String(payload)); } catch { this.notes.push(`${outgoing ? 'sent' : 'received'} non-JSON: ${String(payload).slice(0, 120)}`); return; }
		for (const j of [].concat(items)) {
			if (!j || typeof j !== 'object' || !j.transaction) continue;
			if (outgoing) {
				this.sent.set(j.transaction, j);
				if (j.janus === 'keepalive') this.keepalivesSent++;
			} else {
				if (!this.replies.has(j.transaction)) this.replies.set(j.transaction, []);
				this.replies.get(j.transaction).push(j);
				const req = this.sent.get(j.transaction);
				if (req && req.janus === 'keepalive' && j.janus === 'ack') this.keepaliveAcks++;
			}
		}
	}
	lastRequest(verb) {
		let last = null;
		for (const r of this.sent.values()) if (r.janus === verb) last = r;
		return last;
	}
	repliesTo(req) { return req ? this.replies.get(req.transaction) || [] : []; }
	// Network events reach Node a little after the page has seen the reply.
	async waitReply(req, janus, ms = 2000) {
		const until = Date.now() + ms;
		while (req && !this.repliesTo(req).some((j) => j.janus === janus) && Date.now() < until) await sleep(50);
		return this.repliesTo(req);
	}
}

// ------------------------------------------------------------------ one transport
async function runTransport(browser, t, ctx) {
	const name = (k) => `${t.key}: ${STEPS.find((s) => s[0] === k)[1]}`;
	const consoleLines = [];
	const pageErrors = [];
	// What each step needs, and what it makes available when it passes. A step
	// whose prerequisite failed is reported "not ok ... not run".
	const NEEDS = {
		load: null, create: 'page', sessionid: 'session', attach: 'session',
		admin_sessions: 'session', admin_handles: 'handle', admin_handle_info: 'handle',
		msg_ok: 'handle', msg_413: 'handle', keepalive: 'session', alive: 'handle',
		detach: 'handle', destroy: 'session', admin_gone: 'session', clean: 'page',
	};
	const PROVIDES = { load: 'page', create: 'session', attach: 'handle' };
	const have = new Map();   // 'page' | 'session' | 'handle' -> null (ok) or the reason it is missing
	let tFailed = false;
	const pass = (k, lines) => report(name(k), true, lines);
	const fail = (k, lines) => { tFailed = true; report(name(k), false, lines); };
	async function step(k, fn) {
		const need = NEEDS[k];
		if (need && have.get(need) !== null) {
			const why = have.get(need) || `no ${need}`;
			fail(k, [`not run: ${why}`]);
			if (PROVIDES[k]) have.set(PROVIDES[k], why);
			return;
		}
		let ok = false;
		try {
			const r = await fn();
			if (r && r.fail) fail(k, r.lines || []);
			else { ok = true; pass(k, (r && r.lines) || []); }
		} catch (e) {
			fail(k, [errText(e)]);
		}
		if (PROVIDES[k]) have.set(PROVIDES[k], ok ? null : `"${name(k)}" failed`);
	}

	const context = await browser.newContext();
	const page = await context.newPage();
	recordConsole(page, consoleLines, 400);
	page.on('pageerror', (e) => pageErrors.push(errText(e)));
	const wire = new Wire(page, t.key);
	const ev = (fn, arg, ms = 15000) => withTimeout(page.evaluate(fn, arg), ms, 'page.evaluate');

	let sessionId = null, handleId = null, createdAt = 0;
	const opaqueId = `stoa-janusjs-${t.key}-${process.pid}`;
	try {
		await step('load', async () => {
			const resp = await page.goto(`${ORIGIN}/${PAGE_NAME}`, { timeout: 10000 });
			if (!resp || resp.status() !== 200) return { fail: true, lines: [`GET /${PAGE_NAME} -> HTTP ${resp && resp.status()}`] };
			await page.waitForFunction(() => window.stoaReady === true, null, { timeout: 10000 });
			const r = await ev((d) => window.stoaTest.init(d), 'all');
			if (!r.webrtc) return { fail: true, lines: ['Janus.isWebrtcSupported() is false'] };
		});

		await step('create', async () => {
			const r = await ev(([s, k]) => window.stoaTest.create(s, k), [t.server, 2000]);
			createdAt = Date.now();
			sessionId = r.sessionId;
			const lines = [`session ${sessionId}`];
			if (t.key === 'ws') lines.push(`WebSocket ${wire.wsUrls.join(', ')}`);
			return { lines };
		});

		await step('sessionid', async () => {
			const ok = typeof sessionId === 'number' && Number.isSafeInteger(sessionId) && sessionId > 0;
			return ok ? {} : { fail: true, lines: [`got ${JSON.stringify(sessionId)} (${typeof sessionId})`] };
		});

		await step('attach', async () => {
			const r = await ev((o) => window.stoaTest.attach(o), opaqueId);
			handleId = r.handleId;
			if (!(typeof handleId === 'number' && handleId > 0) || r.plugin !== 'janus.plugin.echotest')
				return { fail: true, lines: [`got ${JSON.stringify(r)}`] };
			return { lines: [`handle ${handleId}`] };
		});

		await step('admin_sessions', async () => {
			const a = await admin({ janus: 'list_sessions' });
			const list = a.json.sessions;
			if (a.json.janus !== 'success' || !Array.isArray(list) || !list.includes(sessionId))
				return { fail: true, lines: [`POST ${a.url} ${JSON.stringify(a.req)}`, `expected success with sessions containing ${sessionId}`, `got ${JSON.stringify(a.json)}`] };
		});

		await step('admin_handles', async () => {
			const a = await admin({ janus: 'list_handles' }, sessionId);
			const list = a.json.handles;
			if (a.json.janus !== 'success' || !Array.isArray(list) || !list.includes(handleId))
				return { fail: true, lines: [`POST ${a.url} ${JSON.stringify(a.req)}`, `expected success with handles containing ${handleId}`, `got ${JSON.stringify(a.json)}`] };
		});

		await step('admin_handle_info', async () => {
			const a = await admin({ janus: 'handle_info' }, sessionId, handleId);
			const info = a.json.info || {};
			if (a.json.janus !== 'success' || info.plugin !== 'janus.plugin.echotest' || info.opaque_id !== opaqueId)
				return { fail: true, lines: [`POST ${a.url} ${JSON.stringify(a.req)}`, `expected info.plugin "janus.plugin.echotest" and info.opaque_id "${opaqueId}"`, `got ${JSON.stringify(a.json).slice(0, 600)}`] };
		});

		await step('msg_ok', async () => {
			const r = await ev((b) => window.stoaTest.send(b, 5000), { audio: true, video: true });
			const d = r.msg || {};
			if (d.echotest !== 'event' || d.result !== 'ok')
				return { fail: true, lines: [`expected {"echotest":"event","result":"ok"}`, `got ${JSON.stringify(r)}`] };
			const req = wire.lastRequest('message');
			// EchoTest is asynchronous: an "ack" and an "event" carry the request's
			// transaction. Their order is not fixed (in Janus too, the plugin's
			// thread may push the event before the core has sent the ack).
			await wire.waitReply(req, 'ack');
			const reps = (await wire.waitReply(req, 'event')).map((j) => j.janus);
			if (reps.slice().sort().join(',') !== 'ack,event')
				return { fail: true, lines: [`request ${JSON.stringify(req)}`, `expected one "ack" and one "event" with its transaction, got: ${reps.join(', ')}`] };
			return { lines: [`replies with transaction ${req.transaction}: ${reps.join(', ')}`] };
		});

		await step('msg_413', async () => {
			const r = await ev((b) => window.stoaTest.send(b, 5000), {});
			const d = r.msg || {};
			if (d.error_code !== 413)
				return { fail: true, lines: ['expected onmessage with error_code 413', `got ${JSON.stringify(r)}`] };
			return { lines: [`error: ${JSON.stringify(d.error)}`] };
		});

		await step('keepalive', async () => {
			if (t.key === 'ws') {
				// keepAlivePeriod 2000: the first keepalive leaves 2 s after create
				const until = createdAt + 8000;
				while (wire.keepaliveAcks < 1 && Date.now() < until) await sleep(100);
				if (wire.keepaliveAcks < 1)
					return { fail: true, lines: [`sent ${wire.keepalivesSent} keepalive(s), got no ack`, ...wire.notes] };
				return { lines: [`${wire.keepalivesSent} keepalive(s) sent, ${wire.keepaliveAcks} ack(s)`] };
			}
			// HTTP: janus.js sends no keepalive; its long poll loop keeps the
			// session alive. Let it run until IDLE_CHECK_MS after create.
			const wait = createdAt + IDLE_CHECK_MS - Date.now();
			if (wait > 0) await sleep(wait);
			const p = wire.polls;
			const pending = p.started - p.answered - p.failed;
			const lines = [`long polls: ${p.started} started, ${p.answered} answered (${p.arrays} arrays, ${p.events} events), ${p.failed} failed, ${pending} pending`];
			const s = await ev(() => window.stoaTest.state());
			if (pending < 1 || p.failures.length || !s.connected)
				return { fail: true, lines: [...lines, 'expected a long poll pending, no failed poll, janus.isConnected()', ...p.failures,
					`statuses: ${p.statuses.join(' ')}`, `janus.js state: ${JSON.stringify(s)}`] };
			return { lines };
		});

		await step('alive', async () => {
			const wait = createdAt + IDLE_CHECK_MS - Date.now();
			if (wait > 0) await sleep(wait);
			const r = await ev((b) => window.stoaTest.send(b, 5000), { audio: false });
			const d = r.msg || {};
			if (d.result !== 'ok')
				return { fail: true, lines: [`${((Date.now() - createdAt) / 1000).toFixed(1)} s after create: expected result "ok"`, `got ${JSON.stringify(r)}`] };
			const s = await ev(() => window.stoaTest.state());
			if (!s.connected || s.sessionId !== sessionId)
				return { fail: true, lines: [`janus.js state: ${JSON.stringify(s)}`] };
			return { lines: [`${((Date.now() - createdAt) / 1000).toFixed(1)} s after create`] };
		});

		await step('detach', async () => {
			await ev(() => window.stoaTest.detach());
			const req = wire.lastRequest('detach');
			const reps = await wire.waitReply(req, 'success');
			if (!req || !reps.some((j) => j.janus === 'success'))
				return { fail: true, lines: [`detach request ${JSON.stringify(req)}`, `replies ${JSON.stringify(reps)}`] };
		});

		await step('destroy', async () => {
			const r = await ev(() => window.stoaTest.destroy());
			const req = wire.lastRequest('destroy');
			const reps = await wire.waitReply(req, 'success');
			const lines = [];
			if (r.destroyed < 1) lines.push('destroyed callback not called');
			if (!req) lines.push('no destroy request seen on the wire');
			else if (!reps.some((j) => j.janus === 'success'))
				lines.push(`request ${JSON.stringify(req)}`, `expected a "success" reply, got ${JSON.stringify(reps)}`);
			if (r.sessionId != null && t.key === 'http') lines.push(`janus.getSessionId() after destroy: ${r.sessionId}`);
			return lines.length ? { fail: true, lines } : {};
		});

		await step('admin_gone', async () => {
			let a;
			for (let i = 0; i < 20; i++) {
				a = await admin({ janus: 'list_sessions' });
				if (a.json.janus === 'success' && Array.isArray(a.json.sessions) && !a.json.sessions.includes(sessionId)) return {};
				await sleep(100);
			}
			return { fail: true, lines: [`POST ${a.url} ${JSON.stringify(a.req)}`, `expected sessions without ${sessionId}`, `got ${JSON.stringify(a.json)}`] };
		});

		await step('clean', async () => {
			const s = await ev(() => window.stoaTest.state()).catch((e) => ({ errors: [`state: ${errText(e)}`] }));
			const lines = [...pageErrors.map((e) => 'page error: ' + e), ...(s.errors || []).map((e) => 'janus.js error callback: ' + e)];
			return lines.length ? { fail: true, lines } : {};
		});
	} catch (e) {
		tFailed = true;
		diag([`${t.key}: unexpected: ${e && e.stack ? e.stack : e}`]);
	} finally {
		if (tFailed || tap.nextTest < PLAN.indexOf(name('clean')) + 1) {
			ctx.anyFailure = true;
			diag([`${t.key}: wire notes:`, ...wire.notes]);
			diag([`${t.key}: browser console (last 60 lines):`, ...consoleLines.slice(-60)]);
		}
		await withTimeout(context.close(), 5000, 'context.close').catch(() => {});
	}
}

// ------------------------------------------------------------------ main
async function main() {
	const env = await preflight();
	if (!env) return 0;

	tap.header();
	diag([bundleVersions(env.bundles)]);

	const { tmp, confDir, htmlDir } = makeTempSite('stoa-janusjs-', env, { [PAGE_NAME]: TEST_PAGE });
	const logFile = path.join(tmp, 'stoa.log');
	const ctx = { anyFailure: false };
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir, htmlDir, logFile });
	let browser = null;

	const closeBrowser = async () => {
		if (browser) { const b = browser; browser = null; await withTimeout(b.close(), 10000, 'browser.close').catch(() => {}); }
	};
	const cleanup = async () => {
		await closeBrowser();
		stoa.kill();
	};

	const dog = watchdog(TOTAL_BUDGET_MS, tap, async () => {
		diag(['stoa log (last 40 lines):', ...stoa.logTail(40)]);
		await cleanup();
	});

	try {
		// ---- server
		diag([`starting ${stoa.describe()}`]);
		const up = await stoa.start();
		report(PLAN[0], up, up ? [] : [stoa.exit ? `stoa exited early: ${JSON.stringify(stoa.exit)}` : 'ports not open after 10 s']);
		if (!up) throw new Error('server did not start');

		// ---- browser
		try {
			browser = await launchChromium(env.playwright);
			report(PLAN[1], true, [`chromium ${browser.version()}`]);
		} catch (e) {
			report(PLAN[1], false, [errText(e)]);
			throw new Error('browser did not start');
		}

		for (const t of TRANSPORTS)
			await runTransport(browser, t, ctx);

		await closeBrowser();   // the browser goes first, so no connection is left open

		// ---- stop the server
		const r = await stoa.stop();
		if (r && r.code === 0 && r.signal === null) report(PLAN[PLAN.length - 2], true);
		else {
			ctx.anyFailure = true;
			report(PLAN[PLAN.length - 2], false, [r ? `exit ${JSON.stringify(r)}` : 'still running 5 s after SIGINT; killed']);
		}
	} catch (e) {
		ctx.anyFailure = true;
		diag([`aborted: ${errText(e)}`]);
	} finally {
		await cleanup();
		if (stoa.alive()) await sleep(200);
	}

	const san = stoa.sanitizerLines();
	if (tap.nextTest === PLAN.length - 1) report(PLAN[PLAN.length - 1], san.length === 0, san.slice(0, 20));
	finishPlan('aborted earlier');
	dog.cancel();
	if (tap.failed || ctx.anyFailure) diag(['stoa log (last 60 lines):', ...stoa.logTail(60)]);
	if (!tap.failed && !process.env.STOA_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
	else diag([`temporary files kept in ${tmp}`]);
	return tap.failed ? 1 : 0;
}

runMain(main, tap);
