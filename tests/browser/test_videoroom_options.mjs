#!/usr/bin/env node
// test_videoroom_options.mjs: a VideoRoom room's extension and Opus options
// against Chromium publishers (janus.js, the shared page videoroom_page.mjs).
//
// Two pages publish the fake camera and microphone, each in its own room:
//   - "on": room 6301 with Janus's defaults (every extension, opus_fec on);
//   - "off": room 6302 with audiolevel_ext, videoorient_ext,
//     playoutdelay_ext and transport_wide_cc_ext off, opus_fec off and
//     opus_dtx on.
// Chromium offers all four extensions; the answers must accept each one
// only in the room that enables it, and carry useinbandfec=1 (on) or
// usedtx=1 without FEC (off) in the Opus fmtp.
// What flows: the server sends transport-wide CC feedback (an RTCP packet a
// tick, ~10 a second) only where the extension was negotiated, so the "on"
// publisher's transport receives many more packets than the "off" one's,
// which gets only receiver reports and REMB (~1-3 a second).
//
// Environment, npm packages and network namespace: see lib.mjs. Stoa runs
// with -E 127.0.0.1.

import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, errText, preflight, bundleVersions,
	makeTempSite, Stoa, sleep, createRun, recordConsole, runMain,
} from './lib.mjs';
import { VIDEOROOM_PAGE, pageCall, openPage, finishRoomRun } from './videoroom_page.mjs';

const PAGE_NAME = 'stoa-test-videoroom.html';
const TOTAL_BUDGET_MS = 70000;
const ROOMS = { on: 6301, off: 6302 };
const SETTINGS = {
	on: {},
	off: { audiolevel_ext: false, videoorient_ext: false, playoutdelay_ext: false,
		transport_wide_cc_ext: false, opus_fec: false, opus_dtx: true },
};
const EXT = {
	level: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
	orient: 'urn:3gpp:video-orientation',
	delay: 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
	twcc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
};
const SAMPLE_MS = 5000;

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'two pages load; janus.js sessions over WebSocket',
	`create rooms ${ROOMS.on} (defaults) and ${ROOMS.off} (the four extensions off, opus_fec off, opus_dtx on)`,
	`room ${ROOMS.on}: Chromium publishes audio and video; the answer accepts the audio level, video orientation, playout delay and transport-wide CC extensions Chromium offered, and says useinbandfec=1 without usedtx`,
	`room ${ROOMS.off}: the same offer; the answer has none of the four extensions (mid still), and says usedtx=1 without useinbandfec`,
	`transport-wide CC feedback flows only where negotiated: over ${SAMPLE_MS / 1000} s the "on" publisher receives > 20 more packets than twice what the "off" one receives`,
	'no uncaught page errors, no janus.js error callbacks; both leave, janus.destroy() succeeds',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// { audio|video: the m-section's text } (the first of each kind).
function sections(sdp) {
	const out = {};
	for (const part of sdp.split(/\r?\n(?=m=)/)) {
		const kind = part.startsWith('m=audio') ? 'audio' : part.startsWith('m=video') ? 'video' : null;
		if (kind && !out[kind]) out[kind] = part;
	}
	return out;
}
const uris = (section) => new Set([...(section || '').matchAll(/^a=extmap:\d+(?:\/\w+)? (\S+)/mg)].map((m) => m[1]));
function opusFmtp(section) {
	const pt = /^a=rtpmap:(\d+) opus\/48000/mi.exec(section || '');
	const f = pt && new RegExp(`^a=fmtp:${pt[1]} (\\S+)`, 'm').exec(section);
	return new Set(f ? f[1].split(';') : []);
}

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();
	diag([bundleVersions(env.bundles)]);

	const site = makeTempSite('stoa-vr-options-', env, { [PAGE_NAME]: VIDEOROOM_PAGE });
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	const P = {};   // 'on' | 'off' -> { page, errors, console }
	const answers = {};
	let broken = null;
	let n = 2;
	const t0 = Date.now();
	// A step whose check fails (r.fail) does not stop the next ones when
	// `breaks` is false: the flow check runs even when an answer is wrong.
	const step = async (name, fn, breaks = true) => {
		if (broken !== null) { report(name, false, [`not run: ${broken}`]); return false; }
		try {
			const r = await fn();
			if (r && r.fail) { report(name, false, r.lines || []); if (breaks) broken = `"${name}" failed`; return false; }
			report(name, true, (r && r.lines) || []);
			return true;
		} catch (e) {
			report(name, false, [errText(e)]);
			broken = `"${name}" failed`;
			return false;
		}
	};
	const call = (who, fn, arg, ms) => pageCall(P[who].page, fn, arg, ms);
	// Packets the publisher's transport has received (RTCP from the server).
	const received = (who) => call(who, () => window.st.handles.pub.handle.webrtcStuff.pc.getStats().then((r) => {
		let n = 0;
		r.forEach((s) => { if (s.type === 'transport') n += s.packetsReceived || 0; });
		return n;
	}));
	const publish = async (who) => {
		await call(who, ([room, d]) => window.vr.join(room, d, false), [ROOMS[who], `options ${who}`]);
		const tracks = [{ type: 'audio', capture: true, recv: false }, { type: 'video', capture: true, recv: false }];
		const pub = await call(who, ([t]) => window.vr.publish(t, {}, 15000), [tracks], 25000);
		answers[who] = pub;
		const o = sections(pub.offer), a = sections(pub.answer);
		return { offer: o, answer: a, lines: [
			`offer extmaps: audio ${[...uris(o.audio)].join(' ')}; video ${[...uris(o.video)].join(' ')}`,
			`answer extmaps: audio ${[...uris(a.audio)].join(' ')}; video ${[...uris(a.video)].join(' ')}`,
			`opus fmtp: offer ${[...opusFmtp(o.audio)].join(';')}, answer ${[...opusFmtp(a.audio)].join(';')}`] };
	};

	try {
		await run.start(env, PLAN[0], PLAN[1]);

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of ['on', 'off']) {
				const context = await run.browser.newContext();
				const page = await context.newPage();
				P[who] = { page, errors: [], console: [] };
				page.on('pageerror', (e) => P[who].errors.push(errText(e)));
				recordConsole(page, P[who].console);
				lines.push(`${who}: session ${await openPage(page, ORIGIN, PAGE_NAME, WS_URL, `stoa-vr-options-${who}`)}`);
				await call(who, () => window.vr.attachPublisher());
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of ['on', 'off']) {
				const body = Object.assign({ request: 'create', room: ROOMS[who], description: `options ${who}` }, SETTINGS[who]);
				const r = await call(who, ([b]) => window.vr.request('pub', b), [body]);
				lines.push(JSON.stringify(r));
				if (r.videoroom !== 'created') return { fail: true, lines };
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const r = await publish('on');
			const offered = [EXT.level, EXT.orient, EXT.twcc].every((u) => uris(r.offer.audio).has(u) || uris(r.offer.video).has(u));
			if (!offered) return { fail: true, lines: [...r.lines, 'Chromium did not offer audio level, video orientation and transport-wide CC'] };
			const missing = Object.values(EXT).filter((u) => (uris(r.offer.audio).has(u) && !uris(r.answer.audio).has(u)) ||
				(uris(r.offer.video).has(u) && !uris(r.answer.video).has(u)));
			const fmtp = opusFmtp(r.answer.audio);
			const ok = missing.length === 0 && fmtp.has('useinbandfec=1') && !fmtp.has('usedtx=1');
			return { fail: !ok, lines: [...r.lines, ...(missing.length ? [`refused although the room enables them: ${missing.join(' ')}`] : [])] };
		}, false);

		await step(PLAN[n++], async () => {
			const r = await publish('off');
			const got = Object.values(EXT).filter((u) => uris(r.answer.audio).has(u) || uris(r.answer.video).has(u));
			const fmtp = opusFmtp(r.answer.audio);
			const mid = uris(r.answer.audio).has('urn:ietf:params:rtp-hdrext:sdes:mid');
			const ok = got.length === 0 && mid && fmtp.has('usedtx=1') && !fmtp.has('useinbandfec=1');
			return { fail: !ok, lines: [...r.lines, ...(got.length ? [`accepted although the room disables them: ${got.join(' ')}`] : [])] };
		}, false);

		await step(PLAN[n++], async () => {
			const before = { on: await received('on'), off: await received('off') };
			await sleep(SAMPLE_MS);
			const d = { on: (await received('on')) - before.on, off: (await received('off')) - before.off };
			const lines = [`packets received in ${SAMPLE_MS / 1000} s: on ${d.on}, off ${d.off}`];
			return { fail: !(d.on > 2 * d.off + 20), lines };
		});
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- teardown
	return finishRoomRun(run, tap, PLAN, { pages: P, expected: 2, t0, site, broken: broken });
}

runMain(main, tap);
