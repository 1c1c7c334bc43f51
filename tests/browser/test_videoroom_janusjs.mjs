#!/usr/bin/env node
// test_videoroom_janusjs.mjs: janus.plugin.videoroom through Janus's own
// janus.js over both of its transports, in headless Chromium.
//
// Four pages, each with its own janus.js session: two publishers (one over
// WebSocket, one over HTTP long poll) that publish camera (320x240) and
// mic, and two subscribers (one over WebSocket, one over HTTP) that each
// subscribe to both publishers with one subscriber handle per feed (the
// classic one-PeerConnection-per-feed layout, `join` with streams [{feed}]).
// That covers the four combinations publisher WS/HTTP x subscriber WS/HTTP;
// each subscriber handle must decode > MIN_FRAMES frames and receive audio.
// Playwright watches each page's traffic, so a WebSocket page must not have
// used HTTP for the API and an HTTP page must not have opened a WebSocket
// (and its long polls must have been answered). Then both publishers
// `unpublish`: each sees the other's "unpublished" event, and every
// subscriber handle gets an `updated` offer (autoupdate) with its m-lines
// inactive, whose answer the server accepts ("started"). Everyone leaves,
// and the server must exit 0 on SIGINT with no sanitizer report. About 5 s
// (10 s with a sanitizer build; 25 s when the renegotiation after the
// unpublish fails and its waits run out).
//
// Environment, npm packages and network namespace: see lib.mjs. The page is
// in videoroom_page.mjs. Stoa runs with -E 127.0.0.1.

import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, errText, preflight, bundleVersions, makeTempSite, Stoa, createRun,
	recordConsole, runMain, createSteps,
} from './lib.mjs';
import { VIDEOROOM_PAGE, pageCall, pollPage, openPage, statsLine, finishRoomRun } from './videoroom_page.mjs';

const PAGE_NAME = 'stoa-test-videoroom.html';
const TOTAL_BUDGET_MS = 85000;
const ROOM = 5103;
const MIN_FRAMES = 30;
const MIN_AUDIO = 20;
const MEDIA_WAIT_MS = 25000;
const TRANSPORTS = { ws: { name: 'WebSocket', server: WS_URL }, http: { name: 'HTTP', server: '/janus' } };
const PUBS = ['ws', 'http'];
const SUBS = ['ws', 'http'];
const TRACKS = [
	{ type: 'audio', capture: true, recv: false },
	{ type: 'video', capture: { width: 320, height: 240 }, recv: false },
];

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'four pages load; janus.js sessions: publishers and subscribers over WebSocket and over HTTP',
	`create room ${ROOM} over WebSocket: {"videoroom":"created"}`,
	...PUBS.map((t) => `publisher over ${TRANSPORTS[t].name}: joined, publishes camera+mic, configured "ok" with a JSEP answer, webrtcup`),
	...SUBS.map((t) => `subscriber over ${TRANSPORTS[t].name}: one handle per publisher, "attached" with an offer, answered with start -> "started"`),
	...PUBS.flatMap((p) => SUBS.map((s) => `publisher over ${TRANSPORTS[p].name} -> subscriber over ${TRANSPORTS[s].name}: > ${MIN_FRAMES} frames decoded, > ${MIN_AUDIO} audio packets`)),
	'each page used only its transport: WebSocket pages made no /janus HTTP request, HTTP pages opened no WebSocket and their long polls were answered',
	'both publishers unpublish ("unpublished":"ok"); each gets the event "unpublished" for the other',
	'every subscriber handle gets an "updated" offer that leaves its m-lines inactive; its answer is accepted ("started")',
	'no uncaught page errors, no janus.js error callbacks; everyone leaves, janus.destroy() succeeds',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// What a page sent to the Janus API, by transport.
function watchTraffic(page) {
	const t = { sockets: [], wsFramesSent: 0, wsFramesReceived: 0, posts: 0, polls: 0, pollsAnswered: 0, failures: [] };
	page.on('websocket', (ws) => {
		t.sockets.push(ws.url());
		ws.on('framesent', () => { t.wsFramesSent++; });
		ws.on('framereceived', () => { t.wsFramesReceived++; });
	});
	const api = (u) => { const p = new URL(u).pathname; return p === '/janus' || p.startsWith('/janus/'); };
	page.on('request', (r) => {
		if (!api(r.url())) return;
		if (r.method() === 'POST') t.posts++;
		else if (r.method() === 'GET') t.polls++;
	});
	page.on('requestfinished', async (r) => {
		if (!api(r.url()) || r.method() !== 'GET') return;
		try { const resp = await r.response(); if (resp && resp.status() === 200) t.pollsAnswered++; } catch { /* page gone */ }
	});
	page.on('requestfailed', (r) => {
		if (api(r.url()) && !(r.failure() && /ERR_ABORTED/.test(r.failure().errorText))) t.failures.push(`${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`);
	});
	return t;
}

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();
	diag([bundleVersions(env.bundles)]);

	const site = makeTempSite('stoa-vr-janusjs-', env, { [PAGE_NAME]: VIDEOROOM_PAGE });
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	// Pages: 'pub-ws', 'pub-http', 'sub-ws', 'sub-http'
	const P = {};
	const pages = [...PUBS.map((t) => ['pub-' + t, t]), ...SUBS.map((t) => ['sub-' + t, t])];
	let n = 2;
	const t0 = Date.now();
	const steps = createSteps(report, { timed: false });
	const { step } = steps;
	const call = (who, fn, arg, ms) => pageCall(P[who].page, fn, arg, ms);
	const feeds = {};   // publisher transport -> feed id
	let unpublishAt = 0;

	try {
		await run.start(env, PLAN[0], PLAN[1]);

		await step(PLAN[n++], async () => {
			for (const [who] of pages) {
				const context = await run.browser.newContext();
				const page = await context.newPage();
				P[who] = { page, errors: [], console: [], traffic: watchTraffic(page) };
				page.on('pageerror', (e) => P[who].errors.push(errText(e)));
				recordConsole(page, P[who].console);
			}
			const lines = await Promise.all(pages.map(async ([who, t]) =>
				`${who}: session ${await openPage(P[who].page, ORIGIN, PAGE_NAME, TRANSPORTS[t].server, `stoa-vr-janusjs-${who}`)} (${TRANSPORTS[t].server})`));
			for (const t of PUBS) await call('pub-' + t, () => window.vr.attachPublisher());
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const r = await call('pub-ws', (room) => window.vr.request('pub', { request: 'create', room, description: 'Stoa janus.js test', publishers: 4 }), ROOM);
			if (r.videoroom !== 'created' || r.room !== ROOM) return { fail: true, lines: [`got ${JSON.stringify(r)}`] };
			return { lines: [JSON.stringify(r)] };
		});

		for (const t of PUBS) {
			await step(PLAN[n++], async () => {
				const who = 'pub-' + t;
				const joined = await call(who, ([room, name]) => window.vr.join(room, name, false), [ROOM, who]);
				feeds[t] = joined.id;
				const pub = await call(who, ([tracks]) => window.vr.publish(tracks, {}, 15000), [TRACKS], 25000);
				return { lines: [`feed ${joined.id}; configured: ${JSON.stringify(pub.msg).slice(0, 300)}`] };
			});
		}

		// The room announces publishers once their PeerConnection is up.
		if (steps.broken === null) {
			const ids = Object.values(feeds);
			const r = await pollPage(P['pub-ws'].page, (room) => window.vr.request('pub', { request: 'listparticipants', room }), ROOM,
				(x) => ids.every((id) => (x.participants || []).some((p) => p.id === id && p.publisher === true)), 10000);
			if (!r.ok) diag([`listparticipants did not show both publishers: ${JSON.stringify(r.value)}`]);
		}

		for (const s of SUBS) {
			await step(PLAN[n++], async () => {
				const who = 'sub-' + s;
				const lines = [];
				for (const p of PUBS) {
					const r = await call(who, ([key, room, f]) => window.vr.subscribeFeed(key, room, f, 15000), ['from-' + p, ROOM, feeds[p]], 25000);
					const kinds = (r.attached.streams || []).filter((x) => x.feed_id === feeds[p]).map((x) => `${x.mid}:${x.type}`);
					lines.push(`handle ${r.handleId} <- publisher over ${TRANSPORTS[p].name} (feed ${feeds[p]}): streams ${kinds.join(' ')}`);
					if (!kinds.some((k) => k.endsWith(':video')) || !kinds.some((k) => k.endsWith(':audio')))
						return { fail: true, lines: [...lines, `attached: ${JSON.stringify(r.attached).slice(0, 500)}`] };
				}
				return { lines };
			});
		}

		// Media for all four combinations at once, then one line each.
		const media = {};
		if (steps.broken === null) {
			await Promise.all(SUBS.flatMap((s) => PUBS.map(async (p) => {
				media[p + s] = await pollPage(P['sub-' + s].page, (key) => window.vr.stats(key), 'from-' + p,
					(x) => { const f = x[feeds[p]]; return !!(f && f.video && f.video.framesDecoded > MIN_FRAMES && f.audio && f.audio.packetsReceived > MIN_AUDIO); },
					MEDIA_WAIT_MS, 500).catch((e) => ({ ok: false, value: null, error: errText(e) }));
				media[p + s].at = Date.now() - t0;
			})));
		}
		for (const p of PUBS) {
			for (const s of SUBS) {
				await step(PLAN[n++], async () => {
					const m = media[p + s];
					const line = `${statsLine(m.value)} (at ${(m.at / 1000).toFixed(1)} s)`;
					return m.ok ? { lines: [line] } : { fail: true, lines: [line, m.error || ''] };
				}, false);
			}
		}

		await step(PLAN[n++], async () => {
			const lines = [];
			const problems = [];
			for (const [who, t] of pages) {
				const x = P[who].traffic;
				lines.push(`${who}: ${x.sockets.length} WebSocket(s) ${x.sockets.join(' ')} (${x.wsFramesSent} frames sent, ${x.wsFramesReceived} received); ${x.posts} POSTs, ${x.polls} long polls (${x.pollsAnswered} answered)`);
				if (t === 'ws' && (x.sockets.length < 1 || x.wsFramesSent < 1 || x.posts > 0 || x.polls > 0)) problems.push(`${who}: expected WebSocket traffic only`);
				if (t === 'http' && (x.sockets.length > 0 || x.posts < 1 || x.pollsAnswered < 1)) problems.push(`${who}: expected HTTP traffic only, with answered long polls`);
				if (x.failures.length) problems.push(`${who}: failed requests: ${x.failures.join('; ')}`);
			}
			return problems.length ? { fail: true, lines: [...problems, ...lines] } : { lines };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			unpublishAt = await call('pub-ws', () => window.vr.now());
			for (const p of PUBS) {
				const r = await call('pub-' + p, () => window.vr.sendWait('pub', { request: 'unpublish' }, { unpublished: 'ok' }, 10000));
				lines.push(`${p}: ${JSON.stringify(r.msg)}`);
			}
			for (const p of PUBS) {
				const other = feeds[PUBS.find((x) => x !== p)];
				const r = await pollPage(P['pub-' + p].page, () => window.vr.state().feedEvents, null,
					(ev) => ev.some((e) => e.type === 'unpublished' && e.id === other), 10000);
				lines.push(`publisher over ${TRANSPORTS[p].name} got: ${r.value.map((e) => `${e.type} ${e.id}`).join(', ') || 'nothing'}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		}, false);

		// autoupdate: a subscription whose feed went away is renegotiated.
		await step(PLAN[n++], async () => {
			const done = (g) => g.at >= unpublishAt && g.videoroom === 'updated' && g.mlines.every((m) => m.port === 0 || m.dir === 'inactive' || m.kind === 'application');
			const results = await Promise.all(SUBS.flatMap((s) => PUBS.map(async (p) => {
				const key = 'from-' + p;
				const r = await pollPage(P['sub-' + s].page, (k) => window.vr.negotiations(k), key, (ns) => ns.some((g) => done(g) && (g.started || g.failed)), 10000);
				const g = r.value.filter(done).pop();
				const hs = await call('sub-' + s, (k) => window.vr.state().handles[k], key);
				const lines = [`subscriber over ${TRANSPORTS[s].name}, handle for the publisher over ${TRANSPORTS[p].name}: ` +
					(g ? `offer ${g.mlines.map((m) => `${m.mid}:${m.kind} port ${m.port} ${m.dir}`).join(', ')}; ${g.started ? '"started"' : `not started: ${g.failed || 'no reply'}`}` : 'no "updated" offer with the m-lines inactive') +
					`; webrtcState ${JSON.stringify(hs.webrtc.map((w) => [w.on, w.reason]))}`];
				if (!g || !g.started) {
					const msgs = await call('sub-' + s, ([k]) => window.vr.messages(k, 0), [key]);
					lines.push(`  messages: ${msgs.filter((m) => m.t >= unpublishAt).map((m) => JSON.stringify(m.msg) + (m.jsep ? ' + ' + m.jsep : '')).join(', ') || 'none'}`);
				}
				return { ok: !!(g && g.started), lines };
			})));
			const lines = results.flatMap((x) => x.lines);
			return results.every((x) => x.ok) ? { lines } : { fail: true, lines };
		}, false);
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- teardown
	return finishRoomRun(run, tap, PLAN, { pages: P, expected: pages.length, t0, site, broken: steps.broken });
}

runMain(main, tap);
