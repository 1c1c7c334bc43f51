#!/usr/bin/env node
// test_videocall_simulcast.mjs: simulcast through janus.plugin.videocall,
// with Janus's own janus.js in two headless Chromium pages.
//
// The caller page captures its fake camera at 1280x720 and calls with
// janus.js's simulcast (`simulcast: true` on the video track: three
// rid-based layers); the callee answers without simulcast and chooses,
// with `set`, which layer of the caller's video the server relays to it
// (the receiver chooses, as in Janus):
//   - by default the highest layer arriving: frameWidth >= 640;
//   - {substream:0}: "set", then the unsolicited event
//     {"event":"simulcast","videocodec":"vp8","substream":0} once the
//     switch happened (the server asks the caller for a keyframe of that
//     layer, or the switch would wait for the next natural one); the
//     decoded size drops to <= 320x180 while framesDecoded keeps rising;
//   - {substream:2}: the event says 2, the size grows back;
//   - the layer it already gets: Janus sends the `simulcast` event at
//     once, before the "set" reply, since nothing will change on the media
//     path; so must Stoa.
// Then both hang up, and stoa must exit 0 on SIGINT with no sanitizer
// report. About 15 s (up to 30 s more if Chromium is slow to send its top
// layer).
//
// Environment, npm packages and network namespace: see lib.mjs. Stoa runs
// with -E 127.0.0.1.

import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, createSteps, withTimeout, errText, preflight, bundleVersions,
	makeTempSite, Stoa, sleep, createRun, recordConsole, runMain, PAGE_TIMEOUT_JS, PAGE_DETAIL_CAMERA_JS,
} from './lib.mjs';

const PAGE_NAME = 'stoa-test-videocall-simulcast.html';
const TOTAL_BUDGET_MS = 110000;
const MIN_FRAMES = 30;          // at the start, at the top layer
const SWITCH_FRAMES = 15;       // more frames decoded after each switch
const HIGH_WAIT_MS = 30000;     // Chromium ramps its estimate up before it sends the upper layers
const SWITCH_WAIT_MS = 15000;
const HIGH_MIN_WIDTH = 640;     // the highest layer sent (640 or 1280 wide)
const LOW_MAX_WIDTH = 320;      // substream 0: 1280x720 scaled down by 4
const LOW_MAX_HEIGHT = 180;

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'caller and callee pages load; janus.js sessions over WebSocket; janus.plugin.videocall attached; "caller" and "callee" registered',
	'the caller calls with simulcast (3 send rids, a=simulcast:send); the callee accepts; the caller\'s answer has a=simulcast:recv',
	`by default the callee decodes > ${MIN_FRAMES} frames of the highest layer arriving (frameWidth >= ${HIGH_MIN_WIDTH})`,
	'callee set {substream:0}: {"event":"set"} and the event {"event":"simulcast","videocodec":"vp8","substream":0}',
	`substream 0: the decoded size drops to <= ${LOW_MAX_WIDTH}x${LOW_MAX_HEIGHT} and framesDecoded rises by > ${SWITCH_FRAMES}`,
	'callee set {substream:2}: {"event":"set"} and the event {"event":"simulcast","videocodec":"vp8","substream":2}',
	`substream 2 again: the decoded size grows back (frameWidth >= ${HIGH_MIN_WIDTH}) and framesDecoded rises by > ${SWITCH_FRAMES}`,
	'set for the layer already relayed: the simulcast event naming it comes at once, before the "set" reply (as Janus)',
	'the callee hangs up: both get hangup; janus.destroy() succeeds; no page errors',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stoa: VideoCall simulcast test</title>
<link rel="icon" href="data:,">
<script src="adapter.js"></script>
<script type="module">
import Janus from './janus.es.js';
const st = { errors: [], messages: [], seq: 0 };
window.st = st;
${PAGE_DETAIL_CAMERA_JS}
${PAGE_TIMEOUT_JS}
// The first message after seq whose result matches every field of want.
function waitResult(want, seq, ms) {
	const match = (m) => m.seq > seq && m.msg.result && Object.entries(want).every(([k, v]) => m.msg.result[k] === v);
	return timeout(new Promise((res) => {
		const iv = setInterval(() => {
			const m = st.messages.find(match);
			if (m) { clearInterval(iv); res(m); }
		}, 20);
	}), ms, 'waiting for ' + JSON.stringify(want));
}
const tracks = (simulcast) => [{ type: 'audio', capture: true, recv: true },
	{ type: 'video', capture: true, recv: true, simulcast }];
function onmessage(msg, jsep) {
	st.messages.push({ msg, jsep: !!jsep, seq: ++st.seq, at: Date.now() });
	const r = msg.result || {};
	if (r.event === 'incomingcall') {
		st.handle.createAnswer({ jsep, tracks: tracks(false),
			success: (answer) => st.handle.send({ message: { request: 'accept' }, jsep: answer }),
			error: (e) => st.errors.push('createAnswer: ' + (e && e.message ? e.message : e)) });
	} else if (jsep) {
		st.handle.handleRemoteJsep({ jsep, success: () => { st.answer = jsep.sdp; },
			error: (e) => st.errors.push('handleRemoteJsep: ' + e) });
	}
}
window.vc = {
	start: (name) => timeout(new Promise((res, rej) => {
		Janus.init({ debug: false, callback: () => {
			st.janus = new Janus({ server: '${WS_URL}',
				success: () => st.janus.attach({ plugin: 'janus.plugin.videocall',
					success: (h) => {
						st.handle = h;
						const seq = st.seq;
						h.send({ message: { request: 'register', username: name } });
						waitResult({ event: 'registered' }, seq, 5000).then(() => res(h.getId()), rej);
					},
					error: (e) => rej(new Error('attach: ' + e)),
					onmessage,
					onremotetrack: () => {},
					webrtcState: (up) => { st.webrtcUp = up; },
				}),
				error: (e) => rej(new Error('janus: ' + e)),
			});
		} });
	}), 15000, 'start'),
	call: (peer) => timeout(new Promise((res, rej) => {
		st.handle.createOffer({ tracks: tracks(true),
			success: (jsep) => {
				st.offer = jsep.sdp;
				const seq = st.seq;
				st.handle.send({ message: { request: 'call', username: peer }, jsep });
				waitResult({ event: 'accepted' }, seq, 15000)
					.then(() => timeout(new Promise((ok) => { const iv = setInterval(() => { if (st.answer) { clearInterval(iv); ok(); } }, 20); }), 5000, 'the answer applied'))
					.then(() => res({ offer: st.offer, answer: st.answer }), rej);
			},
			error: (e) => rej(new Error('createOffer: ' + (e && e.message ? e.message : e))),
		});
	}), 25000, 'call'),
	seq: () => st.seq,
	send: (body) => { st.handle.send({ message: body }); return st.seq; },
	waitResult: (want, seq, ms) => waitResult(want, seq, ms),
	messages: (seq) => st.messages.filter((m) => m.seq > seq),
	video: async () => {
		const pc = st.handle && st.handle.webrtcStuff ? st.handle.webrtcStuff.pc : null;
		if (!pc) return null;
		let v = null;
		(await pc.getStats()).forEach((r) => {
			if (r.type === 'inbound-rtp' && r.kind === 'video')
				v = { framesDecoded: r.framesDecoded || 0, frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0, packetsReceived: r.packetsReceived || 0 };
		});
		return v;
	},
	outbound: async () => {
		const pc = st.handle && st.handle.webrtcStuff ? st.handle.webrtcStuff.pc : null;
		if (!pc) return [];
		const out = [];
		(await pc.getStats()).forEach((r) => {
			if (r.type === 'outbound-rtp' && r.kind === 'video')
				out.push({ rid: r.rid, frameWidth: r.frameWidth, fps: r.framesPerSecond, limit: r.qualityLimitationReason });
		});
		return out;
	},
	destroy: () => timeout(new Promise((res, rej) => st.janus.destroy({ success: () => res(true), error: (e) => rej(new Error(String(e))) })), 8000, 'destroy'),
};
</script></head><body></body></html>`;

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();
	diag([bundleVersions(env.bundles)]);

	const site = makeTempSite('stoa-vc-simulcast-', env, { [PAGE_NAME]: TEST_PAGE });
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	const P = {};   // 'caller' | 'callee' -> { page, errors, console }
	const t0 = Date.now();
	const steps = createSteps(report);
	const step = (name, fn, breaks) => steps.step(name, fn, breaks);
	let n = 2;
	const call = (who, fn, arg, ms = 10000) => withTimeout(P[who].page.evaluate(fn, arg), ms, `${who}: page.evaluate`);
	const video = async () => (await call('callee', () => window.vc.video())) || { framesDecoded: 0, frameWidth: 0, frameHeight: 0 };
	const layers = async () => (await call('caller', () => window.vc.outbound()))
		.map((l) => `${l.rid}:${l.frameWidth}@${Math.round(l.fps || 0)}${l.limit && l.limit !== 'none' ? '(' + l.limit + ')' : ''}`).join(' ');
	const size = (v) => `${v.frameWidth || 0}x${v.frameHeight || 0}, ${v.framesDecoded} frames`;

	// set {substream}: the "set" reply, and the simulcast event naming it
	// (which may come first: the layer can change before the reply is out).
	async function setLayer(substream) {
		const since = await call('callee', () => window.vc.seq());
		await call('callee', (s) => window.vc.send({ request: 'set', substream: s }), substream);
		const [reply, ev] = await Promise.all(
			[{ event: 'set' }, { event: 'simulcast', substream }].map((want) =>
				call('callee', ([w, s]) => window.vc.waitResult(w, s, 12000), [want, since], 15000).then((x) => x, (e) => ({ error: errText(e) }))));
		const lines = [`reply ${JSON.stringify(reply.msg || reply.error)}`, `event ${JSON.stringify(ev.msg || ev.error)}`];
		if (reply.error || ev.error) {
			const msgs = await call('callee', (s) => window.vc.messages(s), since);
			return { fail: true, lines: [...lines, `messages since the request: ${JSON.stringify(msgs.map((m) => m.msg)).slice(0, 800)}`] };
		}
		const ok = reply.msg.videocall === 'event' && ev.msg.videocall === 'event' && ev.msg.result.videocodec === 'vp8' && !ev.jsep;
		return ok ? { lines, reply, ev } : { fail: true, lines };
	}
	// Waits until the decoded video satisfies pred and has > SWITCH_FRAMES
	// more frames than base; reports the longest time without a new frame.
	async function followSwitch(base, pred) {
		const until = Date.now() + SWITCH_WAIT_MS;
		let last = base.framesDecoded, lastAt = Date.now(), stall = 0, v = base;
		while (Date.now() < until) {
			v = await video();
			const now = Date.now();
			if (v.framesDecoded > last) { stall = Math.max(stall, now - lastAt); last = v.framesDecoded; lastAt = now; }
			if (pred(v) && v.framesDecoded > base.framesDecoded + SWITCH_FRAMES) return { ok: true, v, stall };
			await sleep(200);
		}
		return { ok: false, v, stall: Math.max(stall, Date.now() - lastAt) };
	}

	let current = null;     // the substream the last simulcast event named
	try {
		await run.start(env, PLAN[0], PLAN[1]);

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of ['caller', 'callee']) {
				const context = await run.browser.newContext();
				const page = await context.newPage();
				P[who] = { page, errors: [], console: [] };
				page.on('pageerror', (e) => P[who].errors.push(errText(e)));
				recordConsole(page, P[who].console);
				await page.goto(`${ORIGIN}/${PAGE_NAME}`, { timeout: 15000 });
				lines.push(`${who}: handle ${await call(who, (name) => window.vc.start(name), who, 20000)}`);
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const r = await call('caller', () => window.vc.call('callee'), null, 30000);
			const rids = (r.offer.match(/^a=rid:\S+ send/mg) || []).map((l) => l.slice(6, -5));
			const lines = [`offer rids ${rids.join(',')}`,
				`answer: ${r.answer.split(/\r?\n/).filter((l) => /^(m=video|a=rid|a=simulcast|a=rtcp-fb:96|a=extmap:.*(transport-wide|abs-send))/.test(l)).join(' | ')}`];
			if (rids.length !== 3 || !/^a=simulcast:send /m.test(r.offer) || !/^a=simulcast:recv /m.test(r.answer))
				return { fail: true, lines };
			return { lines };
		});

		let high = null;
		await step(PLAN[n++], async () => {
			// Wait for the top layer for a while; accept the middle one if the
			// caller's estimate does not allow the top layer by then.
			const until = Date.now() + HIGH_WAIT_MS;
			let v = await video();
			while (Date.now() < until && !(v.framesDecoded > MIN_FRAMES && v.frameWidth >= 1280)) {
				await sleep(300);
				v = await video();
			}
			high = v;
			const lines = [`decoded: ${size(v)} after ${((Date.now() - t0) / 1000).toFixed(1)} s`, `caller layers: ${await layers()}`];
			return v.framesDecoded > MIN_FRAMES && v.frameWidth >= HIGH_MIN_WIDTH ? { lines } : { fail: true, lines };
		});

		let low = null;
		await step(PLAN[n++], async () => setLayer(0));
		await step(PLAN[n++], async () => {
			const base = await video();
			const r = await followSwitch(base, (v) => v.frameWidth > 0 && v.frameWidth <= LOW_MAX_WIDTH && v.frameHeight <= LOW_MAX_HEIGHT);
			low = r.v;
			const lines = [`${size(base)} -> ${size(r.v)}; longest gap between new frames ${r.stall} ms`, `caller layers: ${await layers()}`];
			return r.ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const r = await setLayer(2);
			if (!r.fail) current = 2;
			return r;
		});
		await step(PLAN[n++], async () => {
			const base = await video();
			const r = await followSwitch(base, (v) => v.frameWidth >= HIGH_MIN_WIDTH && v.frameWidth > (low ? low.frameWidth : 0));
			const lines = [`${size(base)} -> ${size(r.v)}; longest gap between new frames ${r.stall} ms`, `caller layers: ${await layers()}`];
			return r.ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			// The layer relayed now is the one the last simulcast event named
			// (2, or 1 if the caller stopped sending its top layer since).
			const since0 = await call('callee', () => window.vc.seq());
			const evs = (await call('callee', () => window.vc.messages(0)))
				.filter((m) => m.msg.result && m.msg.result.event === 'simulcast' && Number.isInteger(m.msg.result.substream));
			if (evs.length) current = evs[evs.length - 1].msg.result.substream;
			const r = await setLayer(current);
			if (r.fail) return r;
			const lines = [`asked for substream ${current} (the one relayed)`, ...r.lines];
			if (!(r.ev.seq < r.reply.seq && r.ev.seq > since0)) return { fail: true, lines: [...lines, 'the event did not come before the "set" reply'] };
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const since = { caller: await call('caller', () => window.vc.seq()), callee: await call('callee', () => window.vc.seq()) };
			await call('callee', () => window.vc.send({ request: 'hangup' }));
			const r = await Promise.all(['caller', 'callee'].map((who) =>
				call(who, (s) => window.vc.waitResult({ event: 'hangup' }, s, 5000), since[who], 8000).then((m) => m.msg.result, (e) => ({ error: errText(e) }))));
			const lines = [`caller: ${JSON.stringify(r[0])}`, `callee: ${JSON.stringify(r[1])}`];
			for (const who of ['caller', 'callee']) await call(who, () => window.vc.destroy());
			const errors = ['caller', 'callee'].flatMap((who) => [...P[who].errors.map((e) => `${who}: ${e}`)]);
			const pageErrs = await Promise.all(['caller', 'callee'].map((who) => call(who, () => window.st.errors)));
			errors.push(...pageErrs.flat());
			lines.push(...errors);
			const ok = r[0].reason === 'We did the hangup' && r[0].username === 'callee' && r[1].reason === 'Explicit hangup' && errors.length === 0;
			return ok ? { lines } : { fail: true, lines };
		});
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- teardown
	tap.notRunUpTo(PLAN.length - 2, steps.broken || 'aborted');
	await run.closeBrowser();
	await run.reportStoaExit(PLAN[PLAN.length - 2]);
	run.reportSanitizers(PLAN[PLAN.length - 1]);
	return run.finish({ t0, site, pages: P });
}

runMain(main, tap);
