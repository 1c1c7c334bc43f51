#!/usr/bin/env node
// test_echotest.mjs: real media through Stoa's janus.plugin.echotest.
// Headless Chromium publishes its fake camera and microphone plus a data
// channel with Janus's own janus.js over WebSocket, and the test checks,
// from both ends, that everything comes back: getStats() in the page
// (frames decoded, audio packets, frame size, the SRTP cipher, the
// candidate pair), the events janus.js hands to its callbacks (webrtcState,
// mediaState, onmessage), the frames on the WebSocket, and the server's view
// through the Admin API (handle_info: DTLS state, SRTP profile, per-stream
// packet counts). Prints TAP for automake's tap-driver.
//
// Two runs, each with a server of its own:
//   gcm     default SRTP profiles. Stoa answers a=setup:passive, so as the
//           DTLS server it picks the profile, and its list puts
//           SRTP_AEAD_AES_128_GCM first: Chromium's transport srtpCipher
//           must name AEAD_AES_128_GCM. This run also restarts ICE mid-call:
//           janus.js createOffer({iceRestart:true}) with no tracks (keep the
//           media as it is) sent with the same body; both ufrags must
//           change and video must keep coming on a connected pair.
//   aes_cm  STOA_SRTP_PROFILES=SRTP_AES128_CM_SHA1_80 in stoa's environment:
//           srtpCipher must name AES_CM_128_HMAC_SHA1_80. This run also
//           checks, 10 s into the call, that Chromium's bandwidth estimate
//           has not collapsed (it does when the answer negotiates
//           transport-cc and no TWCC feedback comes).
// The gcm run ends with handle.hangup() (janus.js must get webrtcState(false,
// reason) and EchoTest's {"result":"done"}); the aes_cm run ends with the
// page closing its RTCPeerConnection behind janus.js's back, and Chromium's
// close_notify, read by the record layer that replaced OpenSSL's state after
// the handshake, must bring hangup "DTLS alert". Then the server must exit 0
// on SIGINT with no sanitizer report in its log. About 20 s (25 s with a
// sanitizer build).
//
// Environment, npm packages and network namespace: see lib.mjs. Stoa runs
// with -E 127.0.0.1 (loopback is only used when the enforce list names it).

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, sleep, withTimeout, errText, admin, preflight, bundleVersions,
	makeTempSite, launchChromium, Stoa, watchdog, recordConsole, runMain, PAGE_TIMEOUT_JS,
} from './lib.mjs';

const PAGE_NAME = 'stoa-test-echotest.html';
const TOTAL_BUDGET_MS = 88000;   // whole test; the watchdog fails what is left
const ECHO_PREFIX = 'Janus EchoTest here! You wrote: ';
const MIN_FRAMES = 60;
const MIN_AUDIO_PACKETS = 50;
const MEDIA_WAIT_MS = 15000;     // for the frame and packet counts to get there
// Chromium's send-side estimate starts at 300 kbps. Whatever congestion
// control the answer negotiates must be fed (transport-cc needs TWCC
// feedback), or Chromium backs off to 30 kbps within seconds and its fake
// camera's 20 fps drop to a few.
const BWE_AFTER_MS = 10000;      // after webrtcup
const BWE_MIN = 250000;
const BWE_MIN_FPS = 10;
const RESTART_MIN_FRAMES = 10;   // decoded after the restart answer...
const RESTART_MIN_PACKETS = 20;  // ...and video packets received, within 8 s
const PEER_CLOSE_MS = 3000;      // close_notify needs no timeout: one round of the loop

const RUNS = [
	// srtpCipher: webrtc-stats asks for the IANA profile name (Chromium 156
	// says SRTP_AEAD_AES_128_GCM); the RFC 7714 / RFC 4568 suite names are
	// accepted too.
	{ key: 'gcm', env: {}, cipher: ['SRTP_AEAD_AES_128_GCM', 'AEAD_AES_128_GCM'],
		profile: 'SRTP_AEAD_AES_128_GCM', restart: true, bwe: false, peerClose: false },
	{ key: 'aes_cm', env: { STOA_SRTP_PROFILES: 'SRTP_AES128_CM_SHA1_80' },
		cipher: ['SRTP_AES128_CM_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_80'], profile: 'SRTP_AES128_CM_SHA1_80', restart: false, bwe: true, peerClose: true },
];

// ------------------------------------------------------------------ TAP
function steps(run) {
	const s = [
		['start', `stoa starts${Object.keys(run.env).length ? ' with ' + Object.entries(run.env).map(([k, v]) => `${k}=${v}`).join(' ') : ''} and listens on 8088, 8188 and 7088`],
		['load', 'page loads, Janus.init(), session over WebSocket, janus.plugin.echotest attached'],
		['negotiate', 'createOffer (audio, video, data) sent with {audio:true,video:true}: "ok" with a JSEP answer, accepted'],
		['webrtcup', 'webrtcup reached janus.js: webrtcState(true)'],
		['media', 'media events reached janus.js: mediaState audio and video receiving true'],
		['data', `data channel: the text comes back prefixed "${ECHO_PREFIX}"`],
		['video', `echoed video decodes: inbound-rtp video framesDecoded > ${MIN_FRAMES}, frameWidth > 0`],
		['audio', `echoed audio arrives: inbound-rtp audio packetsReceived > ${MIN_AUDIO_PACKETS}`],
		['cipher', `transport srtpCipher is ${run.cipher.join(' or ')}`],
		['admin', `Admin API handle_info: dtls-state connected, srtp-profile ${run.profile}, OpenSSL's DTLS state released (the data channel above went through our record layer), audio and video stats in/out packets > 0`],
	];
	if (run.restart)
		s.push(['restart', 'ICE restart (createOffer iceRestart:true): new ufrags both ways, same SSRCs, frames keep coming, pair still connected']);
	if (run.bwe)
		s.push(['bwe', `${BWE_AFTER_MS / 1000} s into the call Chromium still sends: availableOutgoingBitrate >= ${BWE_MIN / 1000} kbps, video >= ${BWE_MIN_FPS} fps, not bandwidth-limited`]);
	s.push(run.peerClose
		? ['peerclose', `the page closes its RTCPeerConnection without a word on the WebSocket: Chromium's close_notify, read by our record layer, brings hangup "DTLS alert" within ${PEER_CLOSE_MS / 1000} s`]
		: ['hangup', 'handle.hangup(): webrtcState(false, reason) and the plugin event {"result":"done"}']);
	s.push(
		['clean', 'no page errors, no janus.js error callback; janus.destroy() succeeds'],
		['exit', 'stoa exits with status 0 within 5 s of SIGINT'],
		['sanitizer', 'stoa log has no sanitizer reports'],
	);
	return s;
}
const PLAN = ['chromium launches (playwright-core)'];
for (const run of RUNS)
	for (const [, desc] of steps(run))
		PLAN.push(`${run.key}: ${desc}`);

const tap = createTap(PLAN);
const { report, diag, finishPlan } = tap;

// ------------------------------------------------------------------ the page
// Node calls window.stoaTest.* through page.evaluate; every call returns a
// promise that settles within its timeout. The janus.js callbacks only
// record what they are given, for Node to look at.
const TEST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stoa: EchoTest media test</title>
<link rel="icon" href="data:,">
<script src="adapter.js"></script>
<script type="module">
import Janus from './janus.es.js';
window.Janus = Janus;
const st = { errors: [], messages: [], waiters: [], webrtc: [], media: [], data: [], dataOpen: [],
	remoteTracks: [], cleanups: 0, destroyed: 0 };
${PAGE_TIMEOUT_JS}
function plain(x) { try { return JSON.parse(JSON.stringify(x === undefined ? null : x)); } catch (e) { return String(x); } }
function nextMessage(pred, ms) {
	const i = st.messages.findIndex(pred);
	if (i >= 0) return Promise.resolve(st.messages.splice(i, 1)[0]);
	const w = { pred };
	return timeout(new Promise((res) => { w.res = res; st.waiters.push(w); }), ms, 'onmessage')
		.finally(() => { const k = st.waiters.indexOf(w); if (k >= 0) st.waiters.splice(k, 1); });
}
function ufrag(sdp) { const m = /a=ice-ufrag:(\\S+)/.exec(sdp || ''); return m ? m[1] : null; }
function pc() { return st.handle && st.handle.webrtcStuff ? st.handle.webrtcStuff.pc : null; }
// Sends body with a fresh offer and applies the answer.
function negotiate(createOpts, body, ms) {
	return timeout(new Promise((res, rej) => {
		st.handle.createOffer({
			...createOpts,
			success: (jsep) => {
				const offer = jsep.sdp;
				st.handle.send({ message: body, jsep,
					success: () => {
						nextMessage((m) => m.jsep || m.msg.error_code || m.msg.result === 'ok', ms).then((m) => {
							if (!m.jsep) { res({ msg: m.msg, offer }); return; }
							st.handle.handleRemoteJsep({ jsep: m.jsep,
								success: () => res({ msg: m.msg, offer, answer: m.jsep.sdp }),
								error: (e) => rej(new Error('handleRemoteJsep: ' + e)) });
						}, rej);
					},
					error: (e) => rej(new Error('send error callback: ' + e)) });
			},
			error: (e) => rej(new Error('createOffer error callback: ' + (e && e.message ? e.message : e))),
		});
	}), ms + 2000, 'negotiate');
}
window.stoaTest = {
	init() {
		return timeout(new Promise((res) => Janus.init({
			debug: ['warn', 'error'],
			dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }),
			callback: () => res({ webrtc: Janus.isWebrtcSupported() }),
		})), 5000, 'Janus.init');
	},
	start(server, opaqueId) {
		return timeout(new Promise((res, rej) => {
			st.janus = new Janus({
				server,
				success: () => st.janus.attach({
					plugin: 'janus.plugin.echotest', opaqueId,
					success: (h) => { st.handle = h; res({ sessionId: st.janus.getSessionId(), handleId: h.getId() }); },
					error: (e) => { st.errors.push('attach: ' + e); rej(new Error('attach error callback: ' + e)); },
					onmessage: (msg, jsep) => {
						const m = { msg: plain(msg), jsep: plain(jsep), t: Date.now() };
						const i = st.waiters.findIndex((w) => w.pred(m));
						if (i >= 0) st.waiters.splice(i, 1)[0].res(m); else st.messages.push(m);
					},
					webrtcState: (on, reason) => st.webrtc.push({ on, reason: reason === undefined ? null : reason, t: Date.now() }),
					mediaState: (type, on, mid) => st.media.push({ type, on, mid, t: Date.now() }),
					ondataopen: (label, protocol) => st.dataOpen.push({ label, protocol }),
					ondata: (data, label) => st.data.push({ data: typeof data === 'string' ? data : '(binary)', label }),
					onremotetrack: (track, mid, on) => {
						st.remoteTracks.push({ kind: track.kind, mid, on });
						if (on && track.kind === 'video') document.getElementById('echo').srcObject = new MediaStream([track]);
					},
					oncleanup: () => { st.cleanups++; },
				}),
				error: (e) => { st.errors.push('session: ' + e); rej(new Error('error callback: ' + e)); },
				destroyed: () => { st.destroyed++; },
			});
		}), 10000, 'start');
	},
	offer(ms) {
		const tracks = [
			{ type: 'audio', capture: true, recv: true },
			{ type: 'video', capture: { width: 640, height: 480 }, recv: true },
			{ type: 'data' },
		];
		return negotiate({ tracks }, { audio: true, video: true }, ms);
	},
	// An ICE restart with the same media: no tracks means "keep what there is".
	restart(ms) { return negotiate({ iceRestart: true }, { audio: true, video: true }, ms); },
	sendData(text) {
		return timeout(new Promise((res, rej) => st.handle.data({ text, success: () => res(true),
			error: (e) => rej(new Error('data error callback: ' + e)) })), 5000, 'data');
	},
	async stats() {
		const p = pc();
		if (!p) return { pc: false };
		const r = await p.getStats();
		const out = { pc: true, iceConnectionState: p.iceConnectionState, connectionState: p.connectionState,
			localUfrag: ufrag(p.localDescription && p.localDescription.sdp),
			remoteUfrag: ufrag(p.remoteDescription && p.remoteDescription.sdp),
			video: null, audio: null, transport: null, pair: null };
		let pairId = null;
		// One inbound-rtp per SSRC: a renegotiation may add one (new SSRC),
		// so counts are summed and the frame size is the latest stream's.
		r.forEach((s) => {
			if (s.type === 'inbound-rtp' && s.kind === 'video') {
				const v = out.video || (out.video = { framesDecoded: 0, packetsReceived: 0, packetsLost: 0, nackCount: 0, ssrcs: {} });
				v.framesDecoded += s.framesDecoded || 0;
				v.packetsReceived += s.packetsReceived || 0;
				v.packetsLost += s.packetsLost || 0;
				v.nackCount += s.nackCount || 0;
				v.ssrcs[s.ssrc] = [s.framesDecoded || 0, s.packetsReceived || 0];
				if (s.frameWidth && (!v.lastPacket || s.lastPacketReceivedTimestamp >= v.lastPacket)) {
					v.frameWidth = s.frameWidth; v.frameHeight = s.frameHeight; v.lastPacket = s.lastPacketReceivedTimestamp;
				}
			} else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
				const a = out.audio || (out.audio = { packetsReceived: 0, packetsLost: 0, ssrcs: [] });
				a.packetsReceived += s.packetsReceived || 0;
				a.packetsLost += s.packetsLost || 0;
				a.ssrcs.push(s.ssrc);
			} else if (s.type === 'outbound-rtp' && s.kind === 'video') {
				out.videoOut = { framesSent: s.framesSent, framesPerSecond: s.framesPerSecond, frameWidth: s.frameWidth,
					targetBitrate: s.targetBitrate, qualityLimitationReason: s.qualityLimitationReason, nackCount: s.nackCount,
					retransmittedPacketsSent: s.retransmittedPacketsSent, pliCount: s.pliCount };
			} else if (s.type === 'remote-inbound-rtp' && s.kind === 'video') {
				out.videoRemote = { fractionLost: s.fractionLost, packetsLost: s.packetsLost, roundTripTime: s.roundTripTime };
			} else if (s.type === 'transport') {
				out.transport = { dtlsState: s.dtlsState, iceState: s.iceState, srtpCipher: s.srtpCipher,
					dtlsCipher: s.dtlsCipher, tlsVersion: s.tlsVersion, dtlsRole: s.dtlsRole };
				pairId = s.selectedCandidatePairId;
			}
		});
		if (pairId && r.get(pairId)) {
			const cp = r.get(pairId);
			const l = r.get(cp.localCandidateId), rm = r.get(cp.remoteCandidateId);
			out.pair = { state: cp.state, nominated: cp.nominated, bytesReceived: cp.bytesReceived,
				availableOutgoingBitrate: cp.availableOutgoingBitrate,
				local: l ? l.address + ':' + l.port : null, remote: rm ? rm.address + ':' + rm.port : null };
		}
		return out;
	},
	closePc() {
		// janus.js keeps its RTCPeerConnection here; closing it behind janus.js's
		// back is what a crashed or killed page looks like to the server, minus the
		// WebSocket (which stays open).
		st.handle.webrtcStuff.pc.close();
		return true;
	},
	hangup(ms) {
		const n = st.webrtc.length;
		st.handle.hangup();
		return timeout((async () => {
			const until = Date.now() + ms;
			const done = await nextMessage((m) => m.msg && m.msg.result === 'done', ms);
			while ((st.webrtc.length === n || st.webrtc[st.webrtc.length - 1].on !== false) && Date.now() < until)
				await new Promise((r) => setTimeout(r, 50));
			return { done: done.msg, webrtc: st.webrtc.slice(n) };
		})(), ms + 1000, 'hangup');
	},
	destroy() {
		return timeout(new Promise((res, rej) => st.janus.destroy({
			success: () => setTimeout(() => res({ destroyed: st.destroyed }), 50),
			error: (e) => rej(new Error('destroy error callback: ' + e)),
		})), 8000, 'destroy');
	},
	state() {
		return { errors: st.errors.slice(), webrtc: st.webrtc.slice(), media: st.media.slice(), data: st.data.slice(),
			dataOpen: st.dataOpen.slice(), remoteTracks: st.remoteTracks.slice(), cleanups: st.cleanups,
			pendingMessages: st.messages.map((m) => m.msg),
			videoPlaying: (() => { const v = document.getElementById('echo'); return v && v.srcObject ? { time: v.currentTime, w: v.videoWidth } : null; })() };
	},
};
window.stoaReady = true;
</script></head>
<body><p>Stoa EchoTest media test</p><video id="echo" autoplay playsinline muted></video></body></html>
`;

// ------------------------------------------------------------------ WebSocket watch
// The events the server sent on janus.js's WebSocket, as a second witness.
class Wire {
	constructor(page) {
		this.events = [];
		this.notes = [];
		this.sent = [];   // {janus, t, ufrag?} of what janus.js sent
		page.on('websocket', (ws) => {
			ws.on('framesent', (f) => {
				let j;
				try { j = JSON.parse(String(f.payload)); } catch { return; }
				if (!j || typeof j !== 'object') return;
				const e = { janus: j.janus, t: Date.now() };
				if (j.jsep) e.ufrag = (/a=ice-ufrag:(\S+)/.exec(j.jsep.sdp || '') || [])[1];
				if (j.candidate) e.candidate = j.candidate.completed ? 'completed' : String(j.candidate.candidate || '').split(' ').slice(4, 6).join(':');
				this.sent.push(e);
			});
			ws.on('framereceived', (f) => {
				let items;
				try { items = JSON.parse(String(f.payload)); } catch { return; }
				for (const j of [].concat(items))
					if (j && typeof j === 'object' && ['webrtcup', 'media', 'hangup', 'event', 'detached', 'slowlink'].includes(j.janus))
						this.events.push({ ...j, jsep: j.jsep ? { type: j.jsep.type } : undefined, t: Date.now() });
			});
			ws.on('socketerror', (e) => this.notes.push('websocket error: ' + e));
			ws.on('close', () => this.notes.push('websocket closed'));
		});
	}
	kinds() { return this.events.map((e) => e.janus + (e.janus === 'media' ? `(${e.type},${e.receiving})` : '') + (e.janus === 'hangup' ? `(${e.reason})` : '')).join(' '); }
}

// ------------------------------------------------------------------ one run
async function runOne(env, browser, run, site, ctx) {
	const name = (k) => `${run.key}: ${steps(run).find((s) => s[0] === k)[1]}`;
	const consoleLines = [];
	const pageErrors = [];
	let runFailed = false;
	let alive = null;   // null: the call is up; otherwise why later steps cannot run
	const pass = (k, lines) => report(name(k), true, lines);
	const fail = (k, lines) => { runFailed = true; report(name(k), false, lines); };
	// A step that needs the call (needsCall) is "not run" once it is gone.
	async function step(k, fn, needsCall = true, breaksCall = false) {
		if (needsCall && alive !== null) { fail(k, [`not run: ${alive}`]); return false; }
		try {
			const r = await fn();
			if (r && r.fail) {
				fail(k, r.lines || []);
				if (breaksCall) alive = `"${name(k)}" failed`;
				return false;
			}
			pass(k, (r && r.lines) || []);
			return true;
		} catch (e) {
			fail(k, [errText(e)]);
			if (breaksCall) alive = `"${name(k)}" failed`;
			return false;
		}
	}

	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, `stoa-${run.key}.log`), args: ['-E', '127.0.0.1'], env: run.env });
	ctx.stoa = stoa;
	let context = null, page = null, wire = null;
	const ev = (fn, arg, ms = 15000) => withTimeout(page.evaluate(fn, arg), ms, 'page.evaluate');
	const stats = () => ev(() => window.stoaTest.stats(), null, 5000);
	let sessionId = null, handleId = null, first = null, upAt = Date.now();

	try {
		diag([`${run.key}: starting ${stoa.describe()}`]);
		const up = await stoa.start();
		if (!up) {
			fail('start', [stoa.exit ? `stoa exited early: ${JSON.stringify(stoa.exit)}` : 'ports not open after 10 s', ...stoa.logTail(20)]);
			alive = 'the server did not start';
		} else pass('start');

		if (up) {
			context = await browser.newContext();
			page = await context.newPage();
			recordConsole(page, consoleLines, 400);
			page.on('pageerror', (e) => pageErrors.push(errText(e)));
			wire = new Wire(page);
		}

		await step('load', async () => {
			const resp = await page.goto(`${ORIGIN}/${PAGE_NAME}`, { timeout: 10000 });
			if (!resp || resp.status() !== 200) return { fail: true, lines: [`GET /${PAGE_NAME} -> HTTP ${resp && resp.status()}`] };
			await page.waitForFunction(() => window.stoaReady === true, null, { timeout: 10000 });
			const i = await ev(() => window.stoaTest.init());
			if (!i.webrtc) return { fail: true, lines: ['Janus.isWebrtcSupported() is false'] };
			const r = await ev(([s, o]) => window.stoaTest.start(s, o), [WS_URL, `stoa-echotest-${run.key}`]);
			sessionId = r.sessionId;
			handleId = r.handleId;
			return { lines: [`session ${sessionId}, handle ${handleId}`] };
		}, true, true);

		await step('negotiate', async () => {
			first = await ev((ms) => window.stoaTest.offer(ms), 10000, 15000);
			const m = first.msg || {};
			if (m.echotest !== 'event' || m.result !== 'ok' || !first.answer)
				return { fail: true, lines: ['expected {"echotest":"event","result":"ok"} with a JSEP answer', `got ${JSON.stringify(first).slice(0, 600)}`] };
			const setup = /a=setup:(\w+)/.exec(first.answer);
			return { lines: [`answer: a=setup:${setup ? setup[1] : '?'}, ${first.answer.split('\n').filter((l) => l.startsWith('m=')).map((l) => l.trim()).join(' | ')}`] };
		}, true, true);

		await step('webrtcup', async () => {
			const until = Date.now() + 10000;
			let s;
			while (Date.now() < until) {
				s = await ev(() => window.stoaTest.state());
				if (s.webrtc.some((w) => w.on === true)) break;
				await sleep(100);
			}
			const onWire = wire.events.some((e) => e.janus === 'webrtcup');
			const w = s.webrtc.find((x) => x.on === true);
			if (w) upAt = w.t;
			if (!s.webrtc.some((w) => w.on === true) || !onWire)
				return { fail: true, lines: [`webrtcState calls: ${JSON.stringify(s.webrtc)}`, `webrtcup on the WebSocket: ${onWire}`, `events: ${wire.kinds()}`] };
		}, true, true);

		await step('media', async () => {
			const until = Date.now() + 8000;
			const ok = (s) => ['audio', 'video'].every((k) => s.media.some((m) => m.type === k && m.on === true));
			let s;
			while (Date.now() < until) {
				s = await ev(() => window.stoaTest.state());
				if (ok(s)) break;
				await sleep(100);
			}
			if (!ok(s))
				return { fail: true, lines: [`mediaState calls: ${JSON.stringify(s.media)}`, `events: ${wire.kinds()}`] };
			return { lines: [`mediaState calls: ${s.media.map((m) => `${m.type}/${m.mid}:${m.on}`).join(' ')}`] };
		});

		// Both counts are watched together: video needs a few seconds anyway.
		let last = null;
		const mediaReady = (async () => {
			if (alive !== null) return;
			const until = Date.now() + MEDIA_WAIT_MS;
			while (Date.now() < until) {
				last = await stats();
				if (last.video && last.video.framesDecoded > MIN_FRAMES && last.video.frameWidth > 0 &&
					last.audio && last.audio.packetsReceived > MIN_AUDIO_PACKETS)
					return;
				await sleep(250);
			}
		})();

		// The data channel meanwhile.
		await step('data', async () => {
			const until = Date.now() + 8000;
			let s;
			while (Date.now() < until) {
				s = await ev(() => window.stoaTest.state());
				if (s.dataOpen.length) break;
				await sleep(100);
			}
			if (!s.dataOpen.length) return { fail: true, lines: ['ondataopen never called', `state: ${JSON.stringify(s).slice(0, 400)}`] };
			const text = `hello from Chromium ${run.key} ${process.pid}`;
			await ev((t) => window.stoaTest.sendData(t), text);
			const want = ECHO_PREFIX + text;
			const until2 = Date.now() + 5000;
			while (Date.now() < until2) {
				s = await ev(() => window.stoaTest.state());
				if (s.data.some((d) => d.data === want)) return { lines: [`got "${want}" on "${s.data[0].label}"`] };
				await sleep(100);
			}
			return { fail: true, lines: [`sent "${text}", expected "${want}"`, `ondata got: ${JSON.stringify(s.data)}`] };
		});

		await mediaReady;
		await step('video', async () => {
			const v = last && last.video;
			const line = `inbound-rtp video: ${JSON.stringify(v)}`;
			if (!v || !(v.framesDecoded > MIN_FRAMES) || !(v.frameWidth > 0))
				return { fail: true, lines: [line, `after ${MEDIA_WAIT_MS / 1000} s; stats ${JSON.stringify(last)}`] };
			return { lines: [line] };
		});
		await step('audio', async () => {
			const a = last && last.audio;
			const line = `inbound-rtp audio: ${JSON.stringify(a)}`;
			if (!a || !(a.packetsReceived > MIN_AUDIO_PACKETS)) return { fail: true, lines: [line] };
			return { lines: [line] };
		});

		await step('cipher', async () => {
			const s = await stats();
			const t = s.transport || {};
			const line = `transport: ${JSON.stringify(t)}`;
			if (!run.cipher.includes(t.srtpCipher) || t.dtlsState !== 'connected')
				return { fail: true, lines: [`expected srtpCipher ${run.cipher.join(' or ')} and dtlsState connected`, line] };
			return { lines: [line] };
		});

		await step('admin', async () => {
			const a = await admin({ janus: 'handle_info' }, sessionId, handleId);
			const info = a.json.info || {};
			const w = info.webrtc || {};
			const d = w.dtls || {};
			const media = Object.values(w.media || {});
			const problems = [];
			if (a.json.janus !== 'success') problems.push('not a success');
			if (d['dtls-state'] !== 'connected') problems.push(`dtls-state ${d['dtls-state']}`);
			if (d['srtp-profile'] !== run.profile) problems.push(`srtp-profile ${d['srtp-profile']}`);
			if (d.released !== true) problems.push(`released ${d.released}`);
			for (const kind of ['audio', 'video']) {
				const m = media.find((x) => x.type === kind);
				const st = m && m.stats;
				if (!st || !(st.in && st.in.packets > 0) || !(st.out && st.out.packets > 0))
					problems.push(`${kind}: stats ${JSON.stringify(st)}`);
			}
			const summary = media.map((m) => `${m.type}/${m.mid} in ${m.stats && m.stats.in.packets} out ${m.stats && m.stats.out.packets}`).join(', ');
			if (problems.length)
				return { fail: true, lines: [`POST ${a.url} ${JSON.stringify(a.req)}`, ...problems, `webrtc: ${JSON.stringify(w).slice(0, 1500)}`] };
			return { lines: [`dtls ${d['dtls-state']}, role ${d['dtls-role']}, ${d['srtp-profile']}; ${summary}; ice ${w.ice && w.ice.state} ${w.ice && w.ice['selected-pair']}`] };
		});

		if (run.restart) {
			await step('restart', async () => {
				const before = await stats();
				const restartAt = Date.now();
				const r = await ev((ms) => window.stoaTest.restart(ms), 10000, 15000);
				const m = r.msg || {};
				const problems = [];
				if (m.result !== 'ok' || !r.answer) problems.push(`reply ${JSON.stringify(r).slice(0, 400)}`);
				const uf = (sdp) => { const x = /a=ice-ufrag:(\S+)/.exec(sdp || ''); return x ? x[1] : null; };
				const offerUfrag = uf(r.offer), answerUfrag = uf(r.answer);
				const firstOffer = uf(first.offer), firstAnswer = uf(first.answer);
				if (!offerUfrag || offerUfrag === firstOffer) problems.push(`Chromium's ufrag did not change (${firstOffer} -> ${offerUfrag})`);
				if (!answerUfrag || answerUfrag === firstAnswer) problems.push(`Stoa's ufrag did not change (${firstAnswer} -> ${answerUfrag})`);
				// Frames must keep coming after the answer (counted from then: the
				// restart itself may cost a few). Chromium keeps one inbound-rtp
				// per SSRC (a new one if the answer changes Stoa's SSRCs), so
				// progress is summed per SSRC.
				const mid = await stats();
				const base = (mid.video && mid.video.ssrcs) || {};
				const progress = (x, i) => Object.entries((x.video && x.video.ssrcs) || {})
					.reduce((n, [ssrc, c]) => n + c[i] - (base[ssrc] ? base[ssrc][i] : 0), 0);
				const flowing = (x) => progress(x, 0) >= RESTART_MIN_FRAMES && progress(x, 1) >= RESTART_MIN_PACKETS;
				let after = null;
				const until = Date.now() + 8000;
				while (Date.now() < until) {
					await sleep(250);
					after = await stats();
					if (flowing(after) && after.pair && after.pair.state === 'succeeded' &&
						['connected', 'completed'].includes(after.iceConnectionState))
						break;
				}
				const lines = [`ufrags: Chromium ${firstOffer} -> ${offerUfrag}, Stoa ${firstAnswer} -> ${answerUfrag}`,
					`after the answer: ${after ? progress(after, 0) : '?'} frames decoded, ${after ? progress(after, 1) : '?'} video packets; ice ${after && after.iceConnectionState}, pair ${JSON.stringify(after && after.pair)}`];
				if (!after || !flowing(after))
					problems.push(`video stopped after the restart: fewer than ${RESTART_MIN_FRAMES} frames or ${RESTART_MIN_PACKETS} packets in 8 s`);
				if (!after || !after.pair || after.pair.state !== 'succeeded' || !['connected', 'completed'].includes(after.iceConnectionState))
					problems.push('the candidate pair is not connected after the restart');
				const s = await ev(() => window.stoaTest.state());
				if (s.webrtc.some((x) => x.on === false)) problems.push(`webrtcState(false) during the restart: ${JSON.stringify(s.webrtc)}`);
				const a = await admin({ janus: 'handle_info' }, sessionId, handleId);
				const w = (a.json.info || {}).webrtc || {};
				const ssrcs = (sdp) => [...new Set((sdp || '').split('\n').filter((l) => /^a=ssrc:/.test(l)).map((l) => l.split(' ')[0].slice(7)))].join(',');
				lines.push(`server: ice ${w.ice && w.ice.state}, dtls ${w.dtls && w.dtls['dtls-state']}`,
					`Stoa's SSRCs: first answer ${ssrcs(first.answer)}, restart answer ${ssrcs(r.answer)}`);
				// A renegotiation must keep the streams we send: new SSRCs would
				// make Chromium start a new inbound stream and wait for a keyframe.
				if (!ssrcs(first.answer) || ssrcs(first.answer) !== ssrcs(r.answer))
					problems.push(`Stoa's SSRCs changed across the restart (${ssrcs(first.answer)} -> ${ssrcs(r.answer)})`);
				const detail = [
					'server media: ' + Object.values(w.media || {}).map((x) => `${x.type}/${x.mid} in ${x.stats && x.stats.in.packets} out ${x.stats && x.stats.out.packets} ssrc ${JSON.stringify(x.ssrc)}`).join(', '),
					`Chromium inbound video before ${JSON.stringify(before.video)}, after ${JSON.stringify(after && after.video)}`,
					`Chromium inbound audio before ${JSON.stringify(before.audio)}, after ${JSON.stringify(after && after.audio)}; pair before ${JSON.stringify(before.pair)}`,
					`Chromium outbound video before ${JSON.stringify(before.videoOut)} ${JSON.stringify(before.videoRemote)}, after ${JSON.stringify(after && after.videoOut)} ${JSON.stringify(after && after.videoRemote)}`];
				lines.push(`janus.js sent, from the restart: ${wire.sent.filter((e) => e.t >= restartAt && e.janus !== 'keepalive').map((e) => `+${e.t - restartAt}ms ${e.janus}${e.ufrag ? ' ufrag ' + e.ufrag : ''}${e.candidate ? ' ' + e.candidate : ''}`).join(', ')}`);
				return problems.length ? { fail: true, lines: [...problems, ...lines, ...detail] } : { lines };
			}, true, true);
		}

		if (run.bwe) {
			await step('bwe', async () => {
				const wait = upAt + BWE_AFTER_MS - Date.now();
				if (wait > 0) await sleep(wait);
				const x = await stats();
				const aob = x.pair ? x.pair.availableOutgoingBitrate : undefined;
				const vo = x.videoOut || {};
				const lines = [`${((Date.now() - upAt) / 1000).toFixed(1)} s after webrtcup: availableOutgoingBitrate ${aob}, outbound video ${JSON.stringify(vo)}`];
				if (!(aob >= BWE_MIN) || !(vo.framesPerSecond >= BWE_MIN_FPS) || vo.qualityLimitationReason === 'bandwidth') {
					const tcc = /a=rtcp-fb:\d+ transport-cc/.test(first.answer || '');
					lines.push(`the answer negotiates ${tcc ? 'transport-cc (Chromium then waits for TWCC feedback)' : 'no transport-cc'}; inbound video ${JSON.stringify(x.video)}`);
					return { fail: true, lines };
				}
				return { lines };
			});
		}

		if (run.peerClose) await step('peerclose', async () => {
			const t0 = Date.now();
			await ev(() => window.stoaTest.closePc());
			let hang = null;
			while (!hang && Date.now() - t0 < PEER_CLOSE_MS) {
				hang = wire.events.find((e) => e.janus === 'hangup');
				if (!hang) await sleep(50);
			}
			const lines = [`server events: ${wire.kinds()}`];
			if (!hang || hang.reason !== 'DTLS alert')
				return { fail: true, lines: [`expected hangup "DTLS alert" within ${PEER_CLOSE_MS} ms`, ...lines] };
			return { lines: [`hangup "${hang.reason}" ${hang.t - t0} ms after pc.close()`, ...lines] };
		}, true, true);
		else await step('hangup', async () => {
			const r = await ev((ms) => window.stoaTest.hangup(ms), 8000, 12000);
			const off = r.webrtc.filter((w) => w.on === false);
			const hang = wire.events.filter((e) => e.janus === 'hangup');
			const lines = [`webrtcState: ${JSON.stringify(r.webrtc)}`, `plugin: ${JSON.stringify(r.done)}`, `hangup events: ${JSON.stringify(hang.map((e) => e.reason))}`];
			if (!off.length || typeof off[0].reason !== 'string' || !off[0].reason || r.done.echotest !== 'event')
				return { fail: true, lines: ['expected webrtcState(false, <reason>) and {"echotest":"event","result":"done"}', ...lines] };
			return { lines };
		}, true, true);

		await step('clean', async () => {
			const lines = [];
			let s = null;
			if (page) {
				s = await ev(() => window.stoaTest.state()).catch((e) => ({ errors: [`state: ${errText(e)}`] }));
				if (sessionId) {
					const d = await ev(() => window.stoaTest.destroy()).catch((e) => ({ error: errText(e) }));
					if (d.error) lines.push(`janus.destroy(): ${d.error}`);
				}
			}
			lines.push(...pageErrors.map((e) => 'page error: ' + e), ...((s && s.errors) || []).map((e) => 'janus.js error callback: ' + e));
			return lines.length ? { fail: true, lines } : {};
		}, false);
	} catch (e) {
		runFailed = true;
		diag([`${run.key}: unexpected: ${e && e.stack ? e.stack : e}`]);
	} finally {
		if (context) await withTimeout(context.close(), 5000, 'context.close').catch(() => {});
	}

	// The server goes last, after the browser side has closed.
	const wasAlive = stoa.alive();
	const r = stoa.proc ? await stoa.stop() : null;
	if (r && r.code === 0 && r.signal === null && wasAlive) pass('exit');
	else fail('exit', [!stoa.proc ? 'not started' : !wasAlive ? `stoa had already exited: ${JSON.stringify(stoa.exit)}` :
		r ? `exit ${JSON.stringify(r)}` : 'still running 5 s after SIGINT; killed']);
	const san = stoa.sanitizerLines();
	if (san.length) fail('sanitizer', san.slice(0, 20)); else pass('sanitizer');

	if (runFailed) {
		ctx.anyFailure = true;
		if (wire) diag([`${run.key}: events on the WebSocket: ${wire.kinds()}`, ...wire.notes]);
		diag([`${run.key}: browser console (last 40 lines):`, ...consoleLines.slice(-40)]);
		diag([`${run.key}: stoa log (last 60 lines):`, ...stoa.logTail(60)]);
	}
}

// ------------------------------------------------------------------ main
async function main() {
	const env = await preflight();
	if (!env) return 0;

	tap.header();
	diag([bundleVersions(env.bundles)]);

	const site = makeTempSite('stoa-echotest-', env, { [PAGE_NAME]: TEST_PAGE });
	const ctx = { anyFailure: false, stoa: null };
	let browser = null;
	const cleanup = async () => {
		if (browser) { const b = browser; browser = null; await withTimeout(b.close(), 10000, 'browser.close').catch(() => {}); }
		if (ctx.stoa) ctx.stoa.kill();
	};
	const dog = watchdog(TOTAL_BUDGET_MS, tap, async () => {
		if (ctx.stoa) diag(['stoa log (last 40 lines):', ...ctx.stoa.logTail(40)]);
		await cleanup();
	});

	try {
		try {
			browser = await launchChromium(env.playwright);
			report(PLAN[0], true, [`chromium ${browser.version()}`]);
		} catch (e) {
			report(PLAN[0], false, [errText(e)]);
			throw new Error('browser did not start');
		}
		for (const run of RUNS) {
			const t0 = Date.now();
			await runOne(env, browser, run, site, ctx);
			diag([`${run.key}: ${((Date.now() - t0) / 1000).toFixed(1)} s`]);
		}
	} catch (e) {
		ctx.anyFailure = true;
		diag([`aborted: ${errText(e)}`]);
	} finally {
		await cleanup();
	}

	finishPlan('aborted earlier');
	dog.cancel();
	if (!tap.failed && !ctx.anyFailure && !process.env.STOA_KEEP_TMP) fs.rmSync(site.tmp, { recursive: true, force: true });
	else diag([`temporary files kept in ${site.tmp}`]);
	return tap.failed ? 1 : 0;
}

runMain(main, tap);
