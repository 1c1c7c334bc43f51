#!/usr/bin/env node
// test_simulcast.mjs: simulcast through Stoa's janus.plugin.echotest.
// Headless Chromium captures its fake camera at 1280x720 (what it needs to
// send three layers) and publishes it with janus.js's own simulcast
// (`simulcast: true` on the video track: rids h/m/l, rid order "hml").
// The EchoTest echoes one layer; the test checks, through getStats() in the
// page and the plugin's events, that:
//   - by default the highest layer (substream 2) comes back: frames decode
//     at the full width;
//   - {substream: 0} switches to the lowest layer: the plugin announces
//     {"videocodec","substream":0,"temporal"}, the decoded width drops and
//     frames keep coming (sequence numbers and timestamps continuous);
//   - {substream: 2} switches back up;
//   - the Admin API's handle_info shows the three layer SSRCs
//     (ssrc-peer, ssrc-peer-sim-1, ssrc-peer-sim-2).
// Then hangup, and stoa must exit 0 on SIGINT with no sanitizer report.
// Prints TAP. Environment, npm packages and network namespace: lib.mjs.

import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, sleep, withTimeout, errText, admin, preflight, bundleVersions,
	makeTempSite, launchChromium, Stoa, watchdog, PAGE_TIMEOUT_JS, PAGE_DETAIL_CAMERA_JS,
} from './lib.mjs';

const PAGE_NAME = 'stoa-test-simulcast.html';
const TOTAL_BUDGET_MS = 110000;
const MIN_FRAMES = 60;
const HIGH_WAIT_MS = 30000;  // Chromium ramps its estimate up before sending the top layer
const SWITCH_WAIT_MS = 15000;

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'page loads, session over WebSocket, janus.plugin.echotest attached',
	'createOffer with simulcast:true: the offer has 3 send rids and a=simulcast, the answer a=simulcast:recv',
	`default substream (2): > ${MIN_FRAMES} frames decoded at the highest width (1280)`,
	'Admin handle_info: video stream with ssrc-peer, ssrc-peer-sim-1 and ssrc-peer-sim-2 all known',
	'{substream:0}: the plugin event {"echotest":"event","videocodec":"vp8","substream":0,"temporal":N} arrives',
	'{substream:0}: the decoded width drops (<= 320) while frames keep increasing',
	'{substream:2}: event substream 2 and the width grows back to 1280',
	'hangup: {"result":"done"}; janus.destroy() succeeds; no page errors',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag, finishPlan } = tap;

const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stoa: simulcast test</title>
<link rel="icon" href="data:,">
<script src="adapter.js"></script>
<script type="module">
import Janus from './janus.es.js';
const st = { errors: [], messages: [], hangups: 0 };
window.st = st;
${PAGE_DETAIL_CAMERA_JS}
${PAGE_TIMEOUT_JS}
function waitMessage(pred, ms) {
	return timeout(new Promise((res) => {
		const iv = setInterval(() => {
			const m = st.messages.find(pred);
			if (m) { clearInterval(iv); res(m); }
		}, 50);
	}), ms, 'onmessage');
}
window.stoaTest = {
	start: () => timeout(new Promise((res, rej) => {
		Janus.init({ debug: false, callback: () => {
			st.janus = new Janus({ server: '${WS_URL}',
				success: () => st.janus.attach({ plugin: 'janus.plugin.echotest',
					success: (h) => { st.handle = h; res({ session: st.janus.getSessionId(), handle: h.getId() }); },
					error: (e) => rej(new Error('attach: ' + e)),
					onmessage: (msg, jsep) => {
						st.messages.push({ msg, at: Date.now() });
						if (jsep) st.handle.handleRemoteJsep({ jsep, success: () => { st.answer = jsep.sdp; },
							error: (e) => st.errors.push('handleRemoteJsep: ' + e) });
					},
					onremotetrack: () => {},
					oncleanup: () => { st.hangups++; },
				}),
				error: (e) => rej(new Error('janus: ' + e)),
			});
		} });
	}), 15000, 'start'),
	offer: () => timeout(new Promise((res, rej) => {
		st.handle.createOffer({
			tracks: [ { type: 'audio', capture: true, recv: true },
				  { type: 'video', capture: true, recv: true, simulcast: true } ],
			success: (jsep) => {
				st.offer = jsep.sdp;
				st.handle.send({ message: { audio: true, video: true }, jsep });
				const t0 = Date.now();
				const iv = setInterval(() => {
					if (st.answer) { clearInterval(iv); res({ offer: st.offer, answer: st.answer }); }
					else if (Date.now() - t0 > 15000) { clearInterval(iv); rej(new Error('no answer')); }
				}, 50);
			},
			error: (e) => rej(new Error('createOffer: ' + (e && e.message ? e.message : e))),
		});
	}), 20000, 'offer'),
	send: (body) => { st.handle.send({ message: body }); return true; },
	waitEvent: (substream, since, ms) => waitMessage((m) => m.at >= since && m.msg.substream === substream && m.msg.videocodec, ms)
		.then((m) => m.msg),
	video: async () => {
		const pc = st.handle && st.handle.webrtcStuff ? st.handle.webrtcStuff.pc : null;
		if (!pc) return null;
		const stats = await pc.getStats();
		let v = null;
		stats.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') v = { frames: r.framesDecoded || 0, width: r.frameWidth || 0, packets: r.packetsReceived, lost: r.packetsLost }; });
		return v;
	},
	// What Chromium sends per layer, and why it holds back: printed when a
	// layer does not arrive.
	outbound: async () => {
		const pc = st.handle && st.handle.webrtcStuff ? st.handle.webrtcStuff.pc : null;
		if (!pc) return [];
		const out = [];
		(await pc.getStats()).forEach((r) => {
			if (r.type === 'outbound-rtp' && r.kind === 'video')
				out.push({ rid: r.rid, width: r.frameWidth, bytes: r.bytesSent, limit: r.qualityLimitationReason, active: r.active });
		});
		return out;
	},
	hangup: () => timeout(new Promise((res) => {
		const since = Date.now();
		st.handle.hangup();
		waitMessage((m) => m.at >= since && m.msg.result === 'done', 5000).then(() => res(true), () => res(false));
	}), 8000, 'hangup'),
	destroy: () => timeout(new Promise((res, rej) => st.janus.destroy({ success: () => res(true), error: (e) => rej(new Error(String(e))) })), 8000, 'destroy'),
	now: () => Date.now(),
};
</script></head><body></body></html>`;

async function waitVideo(page, pred, ms) {
	const deadline = Date.now() + ms;
	let v = null;
	while (Date.now() < deadline) {
		v = await page.evaluate(() => window.stoaTest.video());
		if (v && pred(v)) return { ok: true, v };
		await sleep(250);
	}
	return { ok: false, v };
}

async function main() {
	const env = await preflight();
	if (!env) return;
	tap.header(); /* after preflight: a skip prints its own "1..0" plan */
	diag([bundleVersions(env.bundles)]);
	const site = makeTempSite('stoa-simulcast-', env, { [PAGE_NAME]: TEST_PAGE });
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	let browser = null;
	const dog = watchdog(TOTAL_BUDGET_MS, tap, async () => { if (browser) await browser.close().catch(() => {}); stoa.kill(); });
	const pageErrors = [];
	let failed = false;
	const check = (ok, name, lines) => { report(name, ok, ok ? [] : lines); if (!ok) failed = true; return ok; };
	try {
		try { browser = await launchChromium(env.playwright); check(true, PLAN[0]); }
		catch (e) { check(false, PLAN[0], [errText(e)]); return; }
		if (!check(await stoa.start(), PLAN[1], [stoa.describe(), ...stoa.logTail(20)])) return;
		const page = await browser.newPage();
		page.on('pageerror', (e) => pageErrors.push(errText(e)));
		let ids;
		try {
			await page.goto(`${ORIGIN}/${PAGE_NAME}`);
			ids = await page.evaluate(() => window.stoaTest.start());
			check(true, PLAN[2]);
		} catch (e) { check(false, PLAN[2], [errText(e)]); return; }
		try {
			const { offer, answer } = await page.evaluate(() => window.stoaTest.offer());
			const rids = (offer.match(/^a=rid:\S+ send/mg) || []).length;
			const ok = rids === 3 && /^a=simulcast:send /m.test(offer) && /^a=simulcast:recv /m.test(answer);
			check(ok, PLAN[3], [`send rids in offer: ${rids}`, ...answer.split('\r\n').filter((l) => /rid|simulcast|m=video/.test(l))]);
		} catch (e) { check(false, PLAN[3], [errText(e)]); return; }
		let r = await waitVideo(page, (v) => v.frames > MIN_FRAMES && v.width >= 1280, HIGH_WAIT_MS);
		const sent = r.ok ? [] : await page.evaluate(() => window.stoaTest.outbound()).catch(() => []);
		check(r.ok, PLAN[4], [`last inbound video: ${JSON.stringify(r.v)}`, `outbound layers: ${JSON.stringify(sent)}`, ...stoa.logTail(10)]);
		try {
			const info = await admin({ janus: 'handle_info' }, ids.session, ids.handle);
			const media = info.json.info && info.json.info.webrtc && info.json.info.webrtc.media ? info.json.info.webrtc.media
				: (info.json.info && info.json.info.streams) || null;
			const streams = media ? Object.values(media) : [];
			const video = streams.find((s) => s.type === 'video');
			const ssrc = video ? video.ssrc : {};
			const ok = !!video && ssrc['ssrc-peer'] > 0 && ssrc['ssrc-peer-sim-1'] > 0 && ssrc['ssrc-peer-sim-2'] > 0;
			check(ok, PLAN[5], [JSON.stringify(video || info.json).slice(0, 800)]);
		} catch (e) { check(false, PLAN[5], [errText(e)]); }
		let since = await page.evaluate(() => window.stoaTest.now());
		const before = await page.evaluate(() => window.stoaTest.video());
		await page.evaluate(() => window.stoaTest.send({ substream: 0 }));
		try {
			const ev = await page.evaluate(([s, t]) => window.stoaTest.waitEvent(0, s, t), [since, SWITCH_WAIT_MS]);
			check(ev.echotest === 'event' && ev.videocodec === 'vp8' && Number.isInteger(ev.temporal), PLAN[6], [JSON.stringify(ev)]);
		} catch (e) { check(false, PLAN[6], [errText(e)]); }
		r = await waitVideo(page, (v) => v.width > 0 && v.width <= 320 && v.frames > before.frames + 20, SWITCH_WAIT_MS);
		check(r.ok, PLAN[7], [`before: ${JSON.stringify(before)}`, `last: ${JSON.stringify(r.v)}`]);
		since = await page.evaluate(() => window.stoaTest.now());
		const low = r.v || before;
		await page.evaluate(() => window.stoaTest.send({ substream: 2 }));
		let evOk = false, evText = '';
		try {
			const ev = await page.evaluate(([s, t]) => window.stoaTest.waitEvent(2, s, t), [since, SWITCH_WAIT_MS]);
			evOk = ev.videocodec === 'vp8';
			evText = JSON.stringify(ev);
		} catch (e) { evText = errText(e); }
		r = await waitVideo(page, (v) => v.width >= 1280 && v.frames > low.frames + 20, SWITCH_WAIT_MS);
		check(evOk && r.ok, PLAN[8], [`event: ${evText}`, `last: ${JSON.stringify(r.v)}`]);
		try {
			const done = await page.evaluate(() => window.stoaTest.hangup());
			await page.evaluate(() => window.stoaTest.destroy());
			check(done && pageErrors.length === 0, PLAN[9], [`done event: ${done}`, ...pageErrors]);
		} catch (e) { check(false, PLAN[9], [errText(e), ...pageErrors]); }
	} finally {
		if (browser) await browser.close().catch(() => {});
		const exit = await stoa.stop();
		if (stoa.proc) {
			check(exit !== null && exit.code === 0, PLAN[10], [`exit: ${JSON.stringify(exit)}`, ...stoa.logTail(20)]);
			const san = stoa.sanitizerLines();
			check(san.length === 0, PLAN[11], san.slice(0, 20));
		}
		dog.cancel();
		finishPlan('not run');
		diag([`stoa log: ${path.join(site.tmp, 'stoa.log')}`]);
	}
	process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { diag([errText(e)]); finishPlan('crashed'); process.exit(1); });
