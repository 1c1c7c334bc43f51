#!/usr/bin/env node
// test_broadcast_page.mjs: the broadcast pages (html/broadcast.html for the
// presenter, html/watch.html for viewers, served by stoa) on
// janus.plugin.videoroom, driven like people would drive them in headless
// Chromium with the fake camera and microphone.
//
// One presenter page goes live (360p picture with simulcast, chosen in its
// Picture picker); five watch pages, each in its own browser context, open
// the link it shows. The test clicks the pages' buttons and reads their
// state from the DOM, from window.stoaBroadcast / window.stoaWatch (state,
// viewer count shown, captured tracks, PeerConnections) and from getStats()
// on those PeerConnections. Flows:
//   - index.html links to broadcast.html;
//   - the presenter goes live: a room, the link watch.html?room=<id>, media
//     flowing out;
//   - watcher 5 runs with an autoplay policy that refuses play() before any
//     user gesture (an init script; Chromium itself runs with
//     --autoplay-policy=no-user-gesture-required): it shows "Click to
//     play", and a click starts the picture;
//   - all five decode frames (inbound framesDecoded > MIN_FRAMES); the
//     presenter's viewer count shows 5 (Stoa's listparticipants
//     "subscribers"); watcher 1's readout fills in (latency estimate,
//     bitrate, resolution, frame rate, loss); screenshots;
//   - "Click to unmute" on watcher 1 unmutes its video;
//   - Stop: every presenter track has ended, its PeerConnection is closed;
//     every watcher says the presenter stopped. Go live again: the same room,
//     a new publisher id, and every watcher decodes again without being
//     touched (framesDecoded rises by > MORE_FRAMES); the count is 5 again;
//   - a link to a room that does not exist, and a watch page without a room,
//     say so; the camera refused on a second presenter page says so;
//   - the link to the missing room was only early: the first presenter
//     stops, another presenter page goes live at broadcast.html?room=<it>,
//     and the watch page that said "no broadcast" plays by itself;
//   - no uncaught page error and no console error on any page;
//   - stoa exits 0 on SIGINT with no sanitizer report; then, with the pages
//     still served (from disk, by the test) and the server gone, both pages
//     say the server is unreachable.
// Waits are deadlines on page state, never timings. About 40 s (more with
// sanitizers on 2 cores).
//
// Screenshots: tests/browser/test_broadcast_page-presenter.png and
// test_broadcast_page-watch.png in the build tree (or the temporary folder
// when stoa is not a build's src/stoa). Environment, npm packages and
// network namespace: see lib.mjs.

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, createTap, withTimeout, errText, preflight, makeTempSite, Stoa, sleep, screenshotPath,
	createSteps, createRun, runMain,
} from './lib.mjs';

const TOTAL_BUDGET_MS = 200000;
const WATCHERS = ['w1', 'w2', 'w3', 'w4', 'w5'];
const GESTURE = 'w5';            // the watcher whose autoplay needs a click
const MIN_FRAMES = 60;
const MORE_FRAMES = 30;
const MEDIA_WAIT_MS = 60000;
const UI_WAIT_MS = 15000;
const MISSING_ROOM = 987650123;

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'index.html links to broadcast.html ("Broadcast")',
	'the presenter page loads and connects: Go live enabled, viewer count "–", no link yet',
	'the presenter picks 360p and goes live: a room, the link watch.html?room=<id> (also in its own address), LIVE badge, Stop focused, media sent',
	'five watch pages open the link; the one whose browser refuses play() before a gesture shows "Click to play", and a click starts the picture',
	'all five watchers decode frames (inbound framesDecoded rising) and show a playing picture',
	'the presenter\'s viewer count shows 5',
	'a watcher\'s readout shows latency (estimate), bitrate, resolution, frame rate and loss',
	'screenshots: the presenter (live, 5 viewers) and a watcher (playing)',
	'"Click to unmute" on a watcher: video.muted becomes false and the button goes away',
	'Stop: every presenter track has ended, its PeerConnection is closed, Go live is back',
	'every watcher says the presenter stopped and waits',
	'Go live again: same room, a new publisher id; all five watchers decode again without help (and a readout fills in again); the count is 5 again',
	'a watch link to a room that does not exist says so; a watch page without a room asks for one',
	'the camera refused on a presenter page: a clear message, no tracks, Go live again possible',
	'a link shared before its broadcast existed: the first presenter stops, a second one goes live at broadcast.html?room=<that room>, and the waiting watch page plays by itself',
	'no uncaught page errors and no console errors on any page',
	'stoa exits with status 0 within 5 s of SIGINT',
	'with the server gone, the watch and presenter pages say the server is unreachable',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// ------------------------------------------------------------------ in-page probes
const PRESENTER = () => {
	const b = window.stoaBroadcast;
	const el = (id) => document.getElementById(id);
	if (!b) return null;
	const pc = b.pc;
	return {
		state: b.state, room: b.room, watchUrl: b.watchUrl, viewers: b.viewers, publisherId: b.publisherId,
		tracks: b.tracks, search: window.location.search,
		status: el('status').textContent, statusError: el('status').classList.contains('error'),
		liveHidden: el('live-button').hidden, liveDisabled: el('live-button').disabled, stopHidden: el('stop-button').hidden,
		badge: !el('live-badge').hidden, previewW: el('preview').videoWidth,
		active: document.activeElement ? document.activeElement.id || document.activeElement.tagName : null,
		pc: pc ? { conn: pc.connectionState, signaling: pc.signalingState } : null,
	};
};

const WATCH = () => {
	const w = window.stoaWatch;
	const el = (id) => document.getElementById(id);
	if (!w) return null;
	const visible = (id) => !el(id).hidden && el(id).getClientRects().length > 0;
	return {
		state: w.state, feed: w.feed, message: w.message, status: w.status,
		statusError: el('status').classList.contains('error'),
		muted: w.muted, paused: w.paused, playBlocked: w.playBlocked, videoWidth: w.videoWidth,
		playButton: visible('play-button'), unmuteButton: visible('unmute-button'), pick: visible('pick'),
		title: el('bc-title').textContent,
		stats: Object.fromEntries(['latency', 'bitrate', 'resolution', 'fps', 'loss'].map((k) => [k, el(`stat-${k}`).textContent])),
	};
};

const INBOUND = async () => {
	const pc = window.stoaWatch && window.stoaWatch.pc;
	if (!pc || pc.signalingState === 'closed') return null;
	const out = { frames: 0, width: 0, audioPackets: 0 };
	(await pc.getStats()).forEach((s) => {
		if (s.type === 'inbound-rtp' && s.kind === 'video') {
			out.frames += s.framesDecoded || 0;
			if (s.frameWidth) out.width = s.frameWidth;
		} else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
			out.audioPackets += s.packetsReceived || 0;
		}
	});
	return out;
};

const OUTBOUND = async () => {
	const pc = window.stoaBroadcast && window.stoaBroadcast.pc;
	if (!pc || pc.signalingState === 'closed') return null;
	const out = { videoBytes: 0, audioBytes: 0, layers: 0 };
	(await pc.getStats()).forEach((s) => {
		if (s.type === 'outbound-rtp' && s.kind === 'video') { out.videoBytes += s.bytesSent || 0; if (s.frameWidth) out.layers++; }
		if (s.type === 'outbound-rtp' && s.kind === 'audio') out.audioBytes += s.bytesSent || 0;
	});
	return out;
};

// The autoplay policy of a browser that refuses play() until the user has
// interacted with the page, as Chromium does for unmuted media without
// --autoplay-policy=no-user-gesture-required. It watches trusted input
// events itself: navigator.userActivation does not tell, because
// playwright's page.evaluate() counts as a user gesture.
const STRICT_AUTOPLAY = () => {
	const real = HTMLMediaElement.prototype.play;
	let gesture = false;
	for (const type of ['pointerdown', 'keydown'])
		window.addEventListener(type, (ev) => { if (ev.isTrusted) gesture = true; }, true);
	window.refusedPlays = 0;
	HTMLMediaElement.prototype.play = function play() {
		if (gesture) return real.call(this);
		window.refusedPlays++;
		return Promise.reject(new DOMException('play() failed because the user didn\'t interact with the document first.', 'NotAllowedError'));
	};
};

const NO_CAMERA = () => {
	navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
};

const presenterLine = (s) => s ? `${s.state}, room ${s.room}, viewers "${s.viewers}", publisher ${s.publisherId}, status "${s.status}", tracks ${s.tracks.map((t) => `${t.kind}:${t.readyState}`).join(' ') || 'none'}, pc ${JSON.stringify(s.pc)}` : 'no window.stoaBroadcast';
const watchLine = (s) => s ? `${s.state}, feed ${s.feed}, message "${s.message}", muted ${s.muted}, paused ${s.paused}, ${s.videoWidth}px` : 'no window.stoaWatch';
const inboundLine = (x) => x ? `${x.frames} frames ${x.width}px wide, ${x.audioPackets} audio packets` : 'no PeerConnection';

const MIME = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();

	const site = makeTempSite('stoa-broadcast-page-', env, {});
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const shots = {
		presenter: screenshotPath(env, site, 'test_broadcast_page-presenter.png'),
		watch: screenshotPath(env, site, 'test_broadcast_page-watch.png'),
	};
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS, closeMs: 15000 });

	const P = {};          // name -> { page, context, errors, console }
	let n = 2;
	const t0 = Date.now();
	const steps = createSteps(report);
	const step = (name, fn, breaks) => steps.step(name, fn, breaks);

	// A page in a context of its own, its errors and console kept.
	const open = async (who, { viewport = { width: 1000, height: 800 }, init = null } = {}) => {
		const context = await run.browser.newContext({ viewport });
		if (init) await context.addInitScript(init);
		const page = await context.newPage();
		const p = { page, context, errors: [], console: [], consoleErrors: [] };
		page.on('pageerror', (e) => p.errors.push(errText(e)));
		page.on('console', (m) => {
			const line = `[${m.type()}] ${m.text()}`;
			p.console.push(line);
			if (p.console.length > 200) p.console.shift();
			if (m.type() === 'error') p.consoleErrors.push(line);
		});
		P[who] = p;
		return p;
	};
	const evaluate = (who, fn, arg, ms = 10000) => withTimeout(P[who].page.evaluate(fn, arg), ms, `${who}: page.evaluate`);
	const waitFor = async (who, probe, pred, ms) => {
		const start = Date.now();
		for (;;) {
			const value = await evaluate(who, probe);
			if (pred(value)) return { ok: true, value, ms: Date.now() - start };
			if (Date.now() - start >= ms) return { ok: false, value, ms: Date.now() - start };
			await sleep(200);
		}
	};
	const click = (who, selector) => P[who].page.locator(selector).click({ timeout: UI_WAIT_MS });
	const presenter = () => evaluate('presenter', PRESENTER);
	const allWatchers = (fn) => Promise.all(WATCHERS.map(fn));

	let live = null;      // the presenter's state once live
	try {
		await run.start(env, PLAN[0], PLAN[1], { playwrightVersion: true });

		await open('presenter', { viewport: { width: 1100, height: 860 } });

		await step(PLAN[n++], async () => {
			const page = P.presenter.page;
			const resp = await page.goto(`${ORIGIN}/`, { timeout: 15000 });
			if (!resp || resp.status() !== 200) return { fail: true, lines: [`GET / -> HTTP ${resp && resp.status()}`] };
			const links = await evaluate('presenter', () => [...document.querySelectorAll('#demo-list li > a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
			const lines = [`#demo-list: ${JSON.stringify(links)}`];
			return links.some((l) => l.href === 'broadcast.html' && l.text === 'Broadcast') ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const page = P.presenter.page;
			const link = page.locator('#demo-list a[href="broadcast.html"]');
			if (await link.count() === 1) await Promise.all([page.waitForURL(/broadcast\.html$/, { timeout: 15000 }), link.click({ timeout: UI_WAIT_MS })]);
			else await page.goto(`${ORIGIN}/broadcast.html`, { timeout: 15000 });
			const r = await waitFor('presenter', PRESENTER, (s) => s && s.state === 'idle' && !s.liveHidden && !s.liveDisabled && s.stopHidden, UI_WAIT_MS);
			const s = r.value;
			const lines = [`${page.url()}: ${presenterLine(s)}`, `link "${s && s.watchUrl}"`];
			return r.ok && s.viewers === '–' && s.watchUrl === '' && s.room === null && s.tracks.length === 0 && !s.statusError ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			await P.presenter.page.selectOption('#quality', '360', { timeout: UI_WAIT_MS });
			await click('presenter', '#live-button');
			const r = await waitFor('presenter', PRESENTER, (s) => s.state === 'live' && s.pc && s.pc.conn === 'connected' && s.previewW > 0, UI_WAIT_MS);
			const s = r.value;
			live = s;
			const lines = [presenterLine(s), `link ${s.watchUrl}, address ${s.search}, badge ${s.badge}, focus on #${s.active}`];
			if (!r.ok) return { fail: true, lines };
			const want = `${ORIGIN}/watch.html?room=${s.room}`;
			const out = await waitFor('presenter', OUTBOUND, (x) => x && x.videoBytes > 20000 && x.audioBytes > 2000, UI_WAIT_MS);
			lines.push(`sent ${JSON.stringify(out.value)}`);
			const ok = typeof s.room === 'number' && s.watchUrl === want && s.search === `?room=${s.room}` && s.badge &&
				s.active === 'stop-button' && s.liveHidden && !s.stopHidden && !s.statusError &&
				s.tracks.length === 2 && s.tracks.every((t) => t.readyState === 'live') && out.ok;
			return ok ? { lines } : { fail: true, lines: [...lines, `expected link ${want}`] };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of WATCHERS)
				await open(who, { viewport: { width: 960, height: 800 }, init: who === GESTURE ? STRICT_AUTOPLAY : null });
			await allWatchers((who) => P[who].page.goto(live.watchUrl, { timeout: 15000 }));
			const blocked = await waitFor(GESTURE, WATCH, (s) => s && s.state === 'playing' && s.playBlocked && s.playButton && s.paused, MEDIA_WAIT_MS);
			const refused = await evaluate(GESTURE, () => window.refusedPlays);
			lines.push(`${GESTURE} before the click: ${watchLine(blocked.value)}, play button ${blocked.value && blocked.value.playButton}, ${refused} play() refused`);
			if (!blocked.ok) return { fail: true, lines };
			await click(GESTURE, '#play-button');
			const r = await waitFor(GESTURE, WATCH, (s) => !s.paused && !s.playBlocked && !s.playButton && s.videoWidth > 0, UI_WAIT_MS);
			lines.push(`${GESTURE} after the click: ${watchLine(r.value)}, play button ${r.value.playButton}`);
			return r.ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			await allWatchers(async (who) => {
				const m = await waitFor(who, INBOUND, (x) => x && x.frames > MIN_FRAMES && x.width > 0 && x.audioPackets > 50, MEDIA_WAIT_MS);
				const v = await waitFor(who, WATCH, (s) => s.state === 'playing' && s.videoWidth > 0 && !s.paused, UI_WAIT_MS);
				lines.push(`${who}: ${inboundLine(m.value)} (${(m.ms / 1000).toFixed(1)} s); ${watchLine(v.value)}; title "${v.value.title}"`);
				if (!m.ok || !v.ok || v.value.feed !== live.publisherId) ok = false;
			});
			return ok ? { lines: lines.sort() } : { fail: true, lines: [...lines.sort(), `presenter's publisher id ${live.publisherId}`] };
		});

		await step(PLAN[n++], async () => {
			const r = await waitFor('presenter', PRESENTER, (s) => s.viewers === '5', UI_WAIT_MS);
			return r.ok ? { lines: [presenterLine(r.value)] } : { fail: true, lines: [presenterLine(r.value)] };
		}, false);

		await step(PLAN[n++], async () => {
			const r = await waitFor('w1', WATCH, (s) => /^≈ \d+ ms$/.test(s.stats.latency) && /^\d+ kbit\/s$/.test(s.stats.bitrate) &&
				parseInt(s.stats.bitrate, 10) > 0 && /^\d+×\d+$/.test(s.stats.resolution) && /^\d+ fps$/.test(s.stats.fps) && /^\d+\.\d %$/.test(s.stats.loss), UI_WAIT_MS);
			return r.ok ? { lines: [JSON.stringify(r.value.stats)] } : { fail: true, lines: [JSON.stringify(r.value.stats)] };
		}, false);

		await step(PLAN[n++], async () => {
			await sleep(1500);     // a stats tick after the count settled
			await P.presenter.page.screenshot({ path: shots.presenter, fullPage: true, timeout: 15000 });
			await P.w1.page.screenshot({ path: shots.watch, fullPage: true, timeout: 15000 });
			return { lines: [shots.presenter, shots.watch] };
		}, false);

		await step(PLAN[n++], async () => {
			const before = await evaluate('w1', WATCH);
			if (!before.muted || !before.unmuteButton) return { fail: true, lines: [`before: ${watchLine(before)}, unmute button ${before.unmuteButton}`] };
			await click('w1', '#unmute-button');
			const r = await waitFor('w1', WATCH, (s) => !s.muted && !s.paused && !s.unmuteButton, UI_WAIT_MS);
			return r.ok ? { lines: [watchLine(r.value)] } : { fail: true, lines: [watchLine(r.value), `unmute button ${r.value.unmuteButton}`] };
		}, false);

		const base = {};
		await step(PLAN[n++], async () => {
			await click('presenter', '#stop-button');
			const r = await waitFor('presenter', PRESENTER, (s) => s.state === 'idle' && !s.liveHidden && s.stopHidden && !s.badge &&
				s.tracks.length >= 2 && s.tracks.every((t) => t.readyState === 'ended') && s.pc && s.pc.signaling === 'closed', UI_WAIT_MS);
			const lines = [presenterLine(r.value), `focus on #${r.value.active}`];
			return r.ok && !r.value.statusError && r.value.active === 'live-button' ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			await allWatchers(async (who) => {
				const r = await waitFor(who, WATCH, (s) => s.state === 'stopped' && /presenter stopped/.test(s.message), UI_WAIT_MS);
				base[who] = await evaluate(who, INBOUND);
				await evaluate(who, () => { window.pcBeforeRestart = window.stoaWatch.pc; });
				lines.push(`${who}: ${watchLine(r.value)} after ${(r.ms / 1000).toFixed(1)} s; ${inboundLine(base[who])}`);
				if (!r.ok) ok = false;
			});
			return ok ? { lines: lines.sort() } : { fail: true, lines: lines.sort() };
		});

		await step(PLAN[n++], async () => {
			await click('presenter', '#live-button');
			const r = await waitFor('presenter', PRESENTER, (s) => s.state === 'live' && s.pc && s.pc.conn === 'connected', UI_WAIT_MS);
			const s = r.value;
			const lines = [presenterLine(s)];
			if (!r.ok || s.room !== live.room || s.publisherId === live.publisherId || s.watchUrl !== live.watchUrl)
				return { fail: true, lines: [...lines, `before: room ${live.room}, publisher ${live.publisherId}`] };
			let ok = true;
			await allWatchers(async (who) => {
				const b = base[who] ? base[who].frames : 0;
				const m = await waitFor(who, INBOUND, (x) => x && x.frames > b + MORE_FRAMES, MEDIA_WAIT_MS);
				const v = await waitFor(who, WATCH, (w) => w.state === 'playing' && w.videoWidth > 0 && !w.paused && w.feed === s.publisherId, UI_WAIT_MS);
				const same = await evaluate(who, () => window.stoaWatch.pc === window.pcBeforeRestart);
				lines.push(`${who}: ${inboundLine(m.value)} (had ${b}) after ${(m.ms / 1000).toFixed(1)} s; ${watchLine(v.value)}; ${same ? 'the same' : 'a new'} PeerConnection`);
				if (!m.ok || !v.ok) ok = false;
			});
			const c = await waitFor('presenter', PRESENTER, (x) => x.viewers === '5', UI_WAIT_MS);
			lines.push(`viewer count "${c.value.viewers}"`);
			const rd = await waitFor('w2', WATCH, (x) => /^\d+×\d+$/.test(x.stats.resolution) && /^\d+ kbit\/s$/.test(x.stats.bitrate) && /ms$/.test(x.stats.latency), UI_WAIT_MS);
			lines.push(`w2 readout ${JSON.stringify(rd.value.stats)}`);
			if (!rd.ok) ok = false;
			const w1 = await evaluate('w1', WATCH);
			lines.push(`w1 (unmuted before) now muted: ${w1.muted}`);
			return ok && c.ok ? { lines: lines.sort() } : { fail: true, lines: lines.sort() };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			await open('nobroadcast');
			await P.nobroadcast.page.goto(`${ORIGIN}/watch.html?room=${MISSING_ROOM}`, { timeout: 15000 });
			const r = await waitFor('nobroadcast', WATCH, (s) => s && s.state === 'no-room' && /no broadcast/i.test(s.message) && s.statusError, UI_WAIT_MS);
			lines.push(`room ${MISSING_ROOM}: ${watchLine(r.value)}; status "${r.value && r.value.status}"`);
			await open('noroom');
			await P.noroom.page.goto(`${ORIGIN}/watch.html`, { timeout: 15000 });
			const q = await waitFor('noroom', WATCH, (s) => s && s.state === 'pick' && s.pick, UI_WAIT_MS);
			const focus = await evaluate('noroom', () => document.activeElement && document.activeElement.id);
			lines.push(`no room: ${q.value && q.value.state}, form shown ${q.value && q.value.pick}, focus on #${focus}`);
			return r.ok && q.ok && focus === 'pick-room' ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			await open('denied', { init: NO_CAMERA });
			await P.denied.page.goto(`${ORIGIN}/broadcast.html`, { timeout: 15000 });
			const i = await waitFor('denied', PRESENTER, (s) => s && s.state === 'idle', UI_WAIT_MS);
			if (!i.ok) return { fail: true, lines: [presenterLine(i.value)] };
			await click('denied', '#live-button');
			const r = await waitFor('denied', PRESENTER, (s) => s.state === 'idle' && /denied/.test(s.status) && s.statusError && !s.liveHidden && !s.liveDisabled, UI_WAIT_MS);
			const s = r.value;
			const lines = [presenterLine(s)];
			return r.ok && s.tracks.length === 0 && s.room === null && s.pc === null ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			await click('presenter', '#stop-button');
			const idle = await waitFor('presenter', PRESENTER, (s) => s.state === 'idle' && s.tracks.every((t) => t.readyState === 'ended'), UI_WAIT_MS);
			lines.push(`first presenter: ${presenterLine(idle.value)}`);
			if (!idle.ok) return { fail: true, lines };
			const before = await evaluate('nobroadcast', WATCH);
			lines.push(`watch page before: ${watchLine(before)}`);
			if (before.state !== 'no-room') return { fail: true, lines };
			await open('presenter2');
			await P.presenter2.page.goto(`${ORIGIN}/broadcast.html?room=${MISSING_ROOM}`, { timeout: 15000 });
			const i = await waitFor('presenter2', PRESENTER, (s) => s && s.state === 'idle', UI_WAIT_MS);
			if (!i.ok) return { fail: true, lines: [...lines, presenterLine(i.value)] };
			await P.presenter2.page.selectOption('#quality', '360', { timeout: UI_WAIT_MS });
			await P.presenter2.page.fill('#title', 'Second broadcast', { timeout: UI_WAIT_MS });
			await click('presenter2', '#live-button');
			const r = await waitFor('presenter2', PRESENTER, (s) => s.state === 'live' && s.pc && s.pc.conn === 'connected', UI_WAIT_MS);
			lines.push(`second presenter: ${presenterLine(r.value)}, link ${r.value.watchUrl}`);
			if (!r.ok || r.value.room !== MISSING_ROOM || r.value.watchUrl !== `${ORIGIN}/watch.html?room=${MISSING_ROOM}`) return { fail: true, lines };
			// The page asks every 5 s while the room does not exist.
			const m = await waitFor('nobroadcast', INBOUND, (x) => x && x.frames > MORE_FRAMES, MEDIA_WAIT_MS);
			const v = await waitFor('nobroadcast', WATCH, (w) => w.state === 'playing' && w.videoWidth > 0 && !w.paused && w.title === 'Second broadcast', UI_WAIT_MS);
			lines.push(`watch page: ${inboundLine(m.value)} after ${(m.ms / 1000).toFixed(1)} s; ${watchLine(v.value)}; title "${v.value.title}"`);
			return m.ok && v.ok ? { lines } : { fail: true, lines };
		}, false);
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- end, reported whatever happened before
	const tail = PLAN.length - 4;
	tap.notRunUpTo(tail, steps.broken || 'aborted');
	{
		const lines = [];
		for (const [who, p] of Object.entries(P)) {
			for (const e of p.errors) lines.push(`${who}: uncaught ${e}`);
			for (const e of p.consoleErrors) lines.push(`${who}: console ${e}`);
		}
		const ok = Object.keys(P).length > 0 && lines.length === 0;
		report(PLAN[tail], ok, ok ? [`${Object.keys(P).length} pages: none`] : lines.length ? lines : ['no pages']);
	}
	await run.reportStoaExit(PLAN[tail + 1]);
	{
		// The pages come from disk (as from a cache or another web server);
		// the Janus API, /stoa/client.json and the WebSocket find nobody.
		const lines = [];
		let ok = !!run.browser && !stoa.alive();
		if (ok) {
			try {
				const context = await run.browser.newContext({ viewport: { width: 1000, height: 800 } });
				await context.route(`${ORIGIN}/**`, (route) => {
					const u = new URL(route.request().url());
					const file = path.join(site.htmlDir, path.normalize(u.pathname === '/' ? '/index.html' : u.pathname));
					if (u.pathname.startsWith('/janus') || u.pathname.startsWith('/stoa') || !file.startsWith(site.htmlDir) || !fs.existsSync(file))
						return route.abort('connectionrefused');
					return route.fulfill({ path: file, contentType: MIME[path.extname(file)] || 'application/octet-stream' });
				});
				const page = await context.newPage();
				const errors = [];
				page.on('pageerror', (e) => errors.push(errText(e)));
				const probe = async (url, fn, pred) => {
					await page.goto(url, { timeout: 15000 });
					const start = Date.now();
					let v = null;
					while (Date.now() - start < UI_WAIT_MS) {
						v = await withTimeout(page.evaluate(fn), 5000, 'page.evaluate');
						if (v && pred(v)) return { ok: true, v };
						await sleep(200);
					}
					return { ok: false, v };
				};
				const w = await probe(`${ORIGIN}/watch.html?room=1234`, WATCH, (s) => s.state === 'offline' && /unreachable/.test(s.status) && s.statusError);
				lines.push(`watch: ${watchLine(w.v)}; status "${w.v && w.v.status}"`);
				const b = await probe(`${ORIGIN}/broadcast.html`, PRESENTER, (s) => s.state === 'offline' && /unreachable/.test(s.status) && s.statusError && !s.liveDisabled);
				lines.push(`presenter: ${presenterLine(b.v)}`);
				ok = w.ok && b.ok && errors.length === 0;
				lines.push(...errors.map((e) => `uncaught ${e}`));
			} catch (e) { ok = false; lines.push(errText(e)); }
		} else lines.push(run.browser ? 'stoa still running' : 'no browser');
		report(PLAN[tail + 2], ok, lines);
	}
	run.reportSanitizers(PLAN[tail + 3]);
	return run.finish({ t0, site, pages: P, consoleLines: 20, keep: Object.values(shots) });
}

runMain(main, tap);
