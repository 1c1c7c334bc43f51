#!/usr/bin/env node
// test_videoroom_simulcast.mjs: simulcast through janus.plugin.videoroom,
// with Janus's own janus.js in two headless Chromium pages.
//
// The publisher page captures its fake camera at 1280x720 and publishes it
// with janus.js's simulcast (`simulcast: true` on the video track: three
// rid-based layers h/m/l, at 1280x720, 640x360 and 320x180). The
// subscriber page subscribes to that feed (`join` with streams [{feed}]) and
// then switches layers with `configure`:
//   - by default (substream 2) it decodes the highest layer the publisher
//     sends: frameWidth >= 640;
//   - {streams:[{mid, substream:0}]}: "configured":"ok", the event
//     {"videoroom":"event","room":R,"mid":M,"substream":0} arrives (M: the
//     subscriber's video mid), the decoded size drops to
//     <= 320x180 and framesDecoded keeps rising;
//   - {substream:2} (the top-level form, applied to every stream): the event
//     says substream 2, the size grows back and framesDecoded keeps rising.
// Then both leave, and the server must exit 0 on SIGINT with no sanitizer
// report. About 10 s (up to 20 s more if Chromium is slow to send its top
// layer).
//
// Environment, npm packages and network namespace: see lib.mjs. The page is
// in videoroom_page.mjs. Stoa runs with -E 127.0.0.1 and a stoa.jcfg that
// holds only the REST read token (every other setting stays at its default).

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, errText, preflight, bundleVersions, makeTempSite, Stoa, createRun,
	recordConsole, runMain, createSteps,
} from './lib.mjs';
import { VIDEOROOM_PAGE, pageCall, pollPage, openPage, statsLine, finishRoomRun } from './videoroom_page.mjs';

const PAGE_NAME = 'stoa-test-videoroom.html';
const TOTAL_BUDGET_MS = 85000;
// The codec of the room: vp8 here; test_videoroom_simulcast_h264.mjs runs
// this file again with h264 (Chromium's OpenH264 encoder, rid simulcast).
const CODEC = process.env.STOA_VR_SIMULCAST_CODEC || 'vp8';
// How the layers are signalled: rid (janus.js's simulcast: true), or ssrc
// (test_videoroom_simulcast_ssrc.mjs: the offer munged into one SSRC per
// layer and a=ssrc-group:SIM, as before rids; the layers are told apart by
// SSRC and there is no a=simulcast).
const MODE = process.env.STOA_VR_SIMULCAST_MODE || 'rid';
const ROOM = MODE === 'ssrc' ? 5104 : CODEC === 'vp8' ? 5102 : 5103;
const MIN_FRAMES = 30;          // at the start, at substream 2
const SWITCH_FRAMES = 15;       // more frames decoded after each switch
const HIGH_WAIT_MS = 20000;     // Chromium ramps its estimate up before it sends the upper layers
const SWITCH_WAIT_MS = 15000;
const HIGH_MIN_WIDTH = 640;     // substream 2: the highest layer sent (640 or 1280 wide)
const LOW_MAX_WIDTH = 320;      // substream 0: 1280x720 scaled down by 4
const LOW_MAX_HEIGHT = 180;
// The REST admin API, with a read-only token of this run's own stoa.jcfg
// (rather than the random token stoa logs on embedded defaults).
const API = 'http://127.0.0.1:7088/api/v1';
const READER = 'sim-ro-' + Math.random().toString(36).slice(2, 12);
const REST_WAIT_MS = 5000;      // for the publisher's bitrate window to fill

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'publisher and subscriber pages load; janus.js sessions over WebSocket',
	`create room ${ROOM} (videocodec ${CODEC}): {"videoroom":"created"}`,
	MODE === 'ssrc'
		? 'publisher joins and publishes 1280x720 video with SSRC simulcast: the offer has a=ssrc-group:SIM with 3 SSRCs and no rid; webrtcup'
		: 'publisher joins and publishes 1280x720 video with simulcast: the offer has 3 send rids and a=simulcast:send, the answer a=simulcast:recv; webrtcup',
	'subscriber joins with streams [{feed}]: "attached" with the video stream, answered with start -> "started"',
	`substream 2 (default): > ${MIN_FRAMES} frames decoded, frameWidth >= ${HIGH_MIN_WIDTH}`,
	`REST GET /rooms/${ROOM}/participants/{feed}: the video stream has simulcast true, codec ${CODEC}, bitrate > 0 and subscribers 1`,
	'configure {streams:[{mid, substream:0}]}: "configured":"ok" and the event {"videoroom":"event","room":R,"mid":M,"substream":0}',
	`substream 0: the decoded size drops to <= ${LOW_MAX_WIDTH}x${LOW_MAX_HEIGHT} and framesDecoded rises by > ${SWITCH_FRAMES}`,
	'configure {substream:2} (top level): "configured":"ok" and the event {"videoroom":"event","room":R,"mid":M,"substream":2}',
	`substream 2 again: the decoded size grows back (frameWidth >= ${HIGH_MIN_WIDTH}) and framesDecoded rises by > ${SWITCH_FRAMES}`,
	'no uncaught page errors, no janus.js error callbacks; both leave, janus.destroy() succeeds',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();
	diag([bundleVersions(env.bundles)]);

	const site = makeTempSite('stoa-vr-simulcast-', env, { [PAGE_NAME]: VIDEOROOM_PAGE });
	fs.writeFileSync(path.join(site.confDir, 'stoa.jcfg'),
		`rest_api: {\n\ttokens = (\n\t\t{ token = "${READER}"; scopes = "read"; }\n\t);\n}\n`);
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	const P = {};   // 'pub' | 'sub' -> { page, errors, console }
	let n = 2;
	const t0 = Date.now();
	const steps = createSteps(report, { timed: false });
	const { step } = steps;
	const call = (who, fn, arg, ms) => pageCall(P[who].page, fn, arg, ms);
	let feed = null, mid = null;
	const video = async () => {
		const s = await call('sub', () => window.vr.stats('sub'));
		return { v: (s[feed] && s[feed].video) || { framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsReceived: 0 }, all: s };
	};
	const layers = async () => (await call('pub', () => window.vr.outbound()))
		.map((l) => `${l.rid}:${l.frameWidth}x${l.frameHeight}@${Math.round(l.fps)}${l.qualityLimitationReason && l.qualityLimitationReason !== 'none' ? '(' + l.qualityLimitationReason + ')' : ''}`).join(' ');
	const size = (v) => `${v.frameWidth || 0}x${v.frameHeight || 0}, ${v.framesDecoded} frames`;

	// Sends configure and waits for "configured" and for the substream event
	// (which may come first: the layer can change before the reply is out).
	async function configure(body, substream) {
		const since = await call('sub', () => window.vr.seq('sub'));
		const r = await call('sub', ([b]) => window.vr.sendWait('sub', b, { configured: 'ok' }, 10000), [body]);
		const ev = await call('sub', ([s, seq]) => window.vr.waitFor('sub', { videoroom: 'event', substream: s }, seq, 10000), [substream, since], 15000)
			.then((x) => x, (e) => ({ error: errText(e) }));
		const lines = [`request ${JSON.stringify(body)}`, `reply ${JSON.stringify(r.msg)}`];
		if (ev.error) {
			const msgs = await call('sub', (seq) => window.vr.messages('sub', seq), since);
			return { fail: true, lines: [...lines, `no {"videoroom":"event","substream":${substream}}: ${ev.error}`, `messages since the request: ${JSON.stringify(msgs.map((m) => m.msg)).slice(0, 800)}`] };
		}
		lines.push(`event ${JSON.stringify(ev.msg)} (+${ev.t - r.t} ms after "configured")`);
		if (r.msg.configured !== 'ok' || r.msg.videoroom !== 'event') return { fail: true, lines };
		if (ev.msg.room !== ROOM || ev.msg.mid !== mid) return { fail: true, lines: [...lines, `the event must name the room (${ROOM}) and the subscriber mid (${JSON.stringify(mid)})`] };
		return { lines };
	}
	// Waits until the decoded video satisfies pred and has > SWITCH_FRAMES
	// more frames than base; reports the longest time without a new frame.
	async function followSwitch(base, pred) {
		const until = Date.now() + SWITCH_WAIT_MS;
		let last = base.framesDecoded, lastAt = Date.now(), stall = 0, v = base;
		while (Date.now() < until) {
			v = (await video()).v;
			const now = Date.now();
			if (v.framesDecoded > last) { stall = Math.max(stall, now - lastAt); last = v.framesDecoded; lastAt = now; }
			if (pred(v) && v.framesDecoded > base.framesDecoded + SWITCH_FRAMES) return { ok: true, v, stall };
			await new Promise((r) => setTimeout(r, 200));
		}
		return { ok: false, v, stall: Math.max(stall, Date.now() - lastAt) };
	}

	try {
		await run.start(env, PLAN[0], PLAN[1]);

		await step(PLAN[n++], async () => {
			for (const who of ['pub', 'sub']) {
				const context = await run.browser.newContext();
				const page = await context.newPage();
				P[who] = { page, errors: [], console: [] };
				page.on('pageerror', (e) => P[who].errors.push(errText(e)));
				recordConsole(page, P[who].console);
			}
			const lines = [];
			for (const who of ['pub', 'sub'])
				lines.push(`${who}: session ${await openPage(P[who].page, ORIGIN, PAGE_NAME, WS_URL, `stoa-vr-simulcast-${who}`)}`);
			await call('pub', () => window.vr.attachPublisher());
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const r = await call('pub', ([room, codec]) => window.vr.request('pub', { request: 'create', room, description: 'Stoa simulcast test', publishers: 2, videocodec: codec }), [ROOM, CODEC]);
			if (r.videoroom !== 'created' || r.room !== ROOM) return { fail: true, lines: [`got ${JSON.stringify(r)}`] };
			return { lines: [JSON.stringify(r)] };
		});

		await step(PLAN[n++], async () => {
			const joined = await call('pub', (room) => window.vr.join(room, 'simulcast publisher', false), ROOM);
			feed = joined.id;
			const ssrc = MODE === 'ssrc';
			// janus.js asks for 1280x720 itself when simulcast is on; the munged
			// offer needs it asked explicitly.
			const capture = ssrc ? { width: { ideal: 1280 }, height: { ideal: 720 } } : true;
			const tracks = [{ type: 'video', capture, recv: false, simulcast: !ssrc }];
			const pub = await call('pub', ([t, o]) => window.vr.publish(t, {}, 15000, o), [tracks, { ssrcSimulcast: ssrc }], 25000);
			const rids = (pub.offer.match(/^a=rid:\S+ send/mg) || []).map((l) => l.slice(6, -5));
			const sim = (/^a=ssrc-group:SIM (.*)$/m.exec(pub.offer) || [null, ''])[1].trim().split(/\s+/).filter(Boolean);
			const lines = [`feed ${feed}; rid_order ${pub.ridOrder}; offer rids ${rids.join(',')}; SIM ssrcs ${sim.join(',')}`,
				`answer: ${pub.answer.split(/\r?\n/).filter((l) => /^(m=video|a=rid|a=simulcast)/.test(l)).join(' | ')}`,
				`configured: ${JSON.stringify(pub.msg).slice(0, 400)}`];
			if (ssrc ? sim.length !== 3 || rids.length !== 0 || /^a=simulcast/m.test(pub.answer)
				: rids.length !== 3 || !/^a=simulcast:send /m.test(pub.offer) || !/^a=simulcast:recv /m.test(pub.answer))
				return { fail: true, lines };
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const r = await call('sub', ([room, f]) => window.vr.subscribeFeed('sub', room, f, 15000), [ROOM, feed], 25000);
			const streams = r.attached.streams || [];
			const v = streams.find((s) => s.type === 'video' && s.feed_id === feed);
			const lines = [`attached: ${JSON.stringify(r.attached).slice(0, 600)}`];
			if (r.attached.room !== ROOM || !v) return { fail: true, lines: [...lines, `expected room ${ROOM} and a video stream of feed ${feed}`] };
			mid = v.mid;
			return { lines: [`video mid ${mid}`, ...lines] };
		});

		let high = null;
		await step(PLAN[n++], async () => {
			// Wait for the top layer for a while; accept the middle one if the
			// publisher's estimate does not allow the top layer by then.
			let r = await pollPage(P.sub.page, (f) => window.vr.stats('sub').then((s) => (s[f] && s[f].video) || null), feed,
				(v) => v && v.framesDecoded > MIN_FRAMES && v.frameWidth >= 1280, HIGH_WAIT_MS, 300);
			if (!r.ok && r.value && r.value.framesDecoded > MIN_FRAMES && r.value.frameWidth >= HIGH_MIN_WIDTH) r = { ok: true, value: r.value };
			high = r.value || { framesDecoded: 0 };
			const lines = [`decoded: ${size(high)} after ${((Date.now() - t0) / 1000).toFixed(1)} s`, `publisher layers: ${await layers()}`];
			return r.ok ? { lines } : { fail: true, lines: [...lines, statsLine((await video()).all)] };
		});

		// What the REST admin API says of the publisher while every layer
		// flows; polled a little, as its bitrate is a one-second window.
		await step(PLAN[n++], async () => {
			const get = async () => {
				const res = await fetch(`${API}/rooms/${ROOM}/participants/${feed}`,
					{ headers: { Authorization: `Bearer ${READER}` }, signal: AbortSignal.timeout(5000) });
				const text = await res.text();
				let json = null;
				try { json = JSON.parse(text); } catch { /* left null */ }
				return { status: res.status, json, text };
			};
			const good = (r) => {
				const v = r.status === 200 && r.json && r.json.id === feed && r.json.room === ROOM && r.json.publisher === true
					? (r.json.streams || []).filter((x) => x.type === 'video') : [];
				return v.length === 1 && v[0].simulcast === true && v[0].codec === CODEC &&
					Number.isInteger(v[0].bitrate) && v[0].bitrate > 0 && v[0].subscribers === 1;
			};
			const until = Date.now() + REST_WAIT_MS;
			let r = await get();
			while (!good(r) && Date.now() < until) {
				await new Promise((res) => setTimeout(res, 250));
				r = await get();
			}
			const lines = [`${r.status} ${r.text.slice(0, 700)}`, `publisher layers: ${await layers()}`];
			return good(r) ? { lines } : { fail: true, lines: [...lines,
				`expected 200 for room ${ROOM}, id ${feed}, publisher true, one video stream with simulcast true, codec ${CODEC}, bitrate > 0, subscribers 1`] };
		}, false);

		await step(PLAN[n++], async () => configure({ request: 'configure', streams: [{ mid, substream: 0 }] }, 0), false);

		let low = null;
		await step(PLAN[n++], async () => {
			const base = (await video()).v;
			const r = await followSwitch(base, (v) => v.frameWidth > 0 && v.frameWidth <= LOW_MAX_WIDTH && v.frameHeight <= LOW_MAX_HEIGHT);
			low = r.v;
			const lines = [`${size(base)} -> ${size(r.v)}; longest gap between new frames ${r.stall} ms`, `publisher layers: ${await layers()}`];
			return r.ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => configure({ request: 'configure', substream: 2 }, 2), false);

		await step(PLAN[n++], async () => {
			const base = (await video()).v;
			const r = await followSwitch(base, (v) => v.frameWidth >= HIGH_MIN_WIDTH && v.frameWidth > (low ? low.frameWidth : 0));
			const lines = [`${size(base)} -> ${size(r.v)}; longest gap between new frames ${r.stall} ms`, `publisher layers: ${await layers()}`];
			return r.ok ? { lines } : { fail: true, lines };
		});
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- teardown
	return finishRoomRun(run, tap, PLAN, { pages: P, expected: 2, t0, site, broken: steps.broken });
}

runMain(main, tap);
