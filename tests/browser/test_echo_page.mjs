#!/usr/bin/env node
// test_echo_page.mjs: the echo test page (html/echotest.html, served by stoa)
// on janus.plugin.echotest, driven like a person would drive it in one
// headless Chromium page with the fake camera and microphone.
//
// The page is the real one from the html copy lib.mjs makes; the test clicks
// its buttons and checkboxes and reads its state from the DOM and from
// window.stoaEcho (the RTCPeerConnection, the state, the captured tracks).
// Flows:
//   - index.html's Demos list links to echotest.html and to the video call;
//   - Start: the echoed video decodes > MIN_FRAMES frames and echoed audio
//     packets arrive (getStats inbound-rtp on window.stoaEcho.pc); the stats
//     panel shows a resolution and a bitrate > 0; a screenshot of the running
//     page;
//   - "Echo video" off: framesDecoded stops rising (a few frames in flight
//     are allowed) while audio keeps coming; on again: it resumes. "Echo
//     audio" off and on does the same for the audio packets;
//   - Stop: every captured track has ended, the PeerConnection is closed, the
//     Start view is back; Start again decodes > MORE_FRAMES frames, Stop;
//   - the camera refused: a clear message, back to Start, no PeerConnection;
//   - no uncaught page error; stoa exits 0 on SIGINT with no sanitizer
//     report; then Start says the server is unreachable.
// Waits are deadlines on page state, except the short windows that check that
// a count stays still. About 15 s, a little more with sanitizers.
//
// The screenshot goes to tests/browser/test_echo_page-running.png in the
// build tree (or the temporary folder when stoa is not a build's src/stoa).
// Environment, npm packages and network namespace: see lib.mjs.

import path from 'node:path';

import {
	ORIGIN, createTap, withTimeout, errText, preflight, makeTempSite, Stoa, sleep, screenshotPath,
	createSteps, createRun, recordConsole, runMain,
} from './lib.mjs';

const TOTAL_BUDGET_MS = 58000;
const MIN_FRAMES = 60;
const MORE_FRAMES = 30;
const MEDIA_WAIT_MS = 15000;
const UI_WAIT_MS = 8000;
const STILL_MS = 1500;           // how long a paused count must stay still
const SETTLE_MS = 600;           // what was in flight when a switch flipped
const TAIL_FRAMES = 5;           // frames allowed to trickle in during STILL_MS
const TAIL_PACKETS = 5;

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'index.html\'s Demos list links to echotest.html ("Echo test") and to "Video call"',
	'echotest.html loads: Start view, Start button enabled, no PeerConnection, no uncaught error',
	'Start: the running view (local video muted and mirrored, remote video, "Echo audio" and "Echo video" checked and labelled, Stop focused)',
	`the echoed video decodes > ${MIN_FRAMES} frames and echoed audio packets arrive (getStats inbound-rtp on window.stoaEcho.pc); the remote <video> plays`,
	'the stats panel shows a resolution, a bitrate > 0 kbit/s, a frame rate, packets lost and an RTT',
	'a screenshot of the running page is saved',
	`"Echo video" off: framesDecoded stops rising (<= ${TAIL_FRAMES} more in ${STILL_MS / 1000} s) while audio keeps coming; on again: it rises again`,
	`"Echo audio" off: echoed audio packets stop (<= ${TAIL_PACKETS} in ${STILL_MS / 1000} s); on again: they come back`,
	'Stop: every local track has ended, the PeerConnection is closed, the Start view is back with focus on Start',
	`Start again: the echoed video decodes > ${MORE_FRAMES} frames; Stop ends every track and closes the PeerConnection`,
	'camera refused (getUserMedia NotAllowedError): a clear message, the Start view, no new PeerConnection',
	'no uncaught page errors',
	'stoa exits with status 0 within 5 s of SIGINT',
	'with stoa gone, Start says the server is unreachable and captures nothing',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// ------------------------------------------------------------------ in-page probes
const SNAP = () => {
	const e = window.stoaEcho;
	const el = (id) => document.getElementById(id);
	if (!e) return null;
	const label = (id) => { const l = el(id).closest('label'); return l ? l.textContent.trim() : ''; };
	return {
		state: e.state,
		view: !el('echo').hidden ? 'echo' : !el('start').hidden ? 'start' : null,
		status: el('status').textContent, statusError: el('status').classList.contains('error'),
		startDisabled: el('start-button').disabled,
		active: document.activeElement ? document.activeElement.id || document.activeElement.tagName : null,
		tracks: e.tracks,
		pc: e.pc ? { conn: e.pc.connectionState, signaling: e.pc.signalingState } : null,
		echo: { audio: el('echo-audio').checked, video: el('echo-video').checked,
			audioLabel: label('echo-audio'), videoLabel: label('echo-video'),
			busy: el('echo-audio').disabled || el('echo-video').disabled },
		local: { w: el('local-video').videoWidth, muted: el('local-video').muted,
			transform: getComputedStyle(el('local-video')).transform },
		remote: { w: el('remote-video').videoWidth, t: el('remote-video').currentTime },
		stats: Object.fromEntries(['bitrate', 'resolution', 'fps', 'lost', 'rtt'].map((k) => [k, el(`stat-${k}`).textContent])),
	};
};

const STATS = async () => {
	const pc = window.stoaEcho.pc;
	if (!pc || pc.signalingState === 'closed') return null;
	const out = { frames: 0, width: 0, height: 0, audioPackets: 0 };
	(await pc.getStats()).forEach((s) => {
		if (s.type === 'inbound-rtp' && s.kind === 'video') {
			out.frames += s.framesDecoded || 0;
			if (s.frameWidth) { out.width = s.frameWidth; out.height = s.frameHeight; }
		} else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
			out.audioPackets += s.packetsReceived || 0;
		}
	});
	return out;
};

const idle = (s) => s && s.state === 'idle' && s.view === 'start' && !s.startDisabled &&
	s.tracks.every((t) => t.readyState === 'ended') && (s.pc === null || s.pc.signaling === 'closed');
const running = (s) => s && s.state === 'running' && s.view === 'echo' && s.pc !== null;
const describe = (s) => s ? `${s.state}, view ${s.view}, status "${s.status}", tracks ${s.tracks.map((t) => `${t.kind}:${t.readyState}`).join(' ') || 'none'}, pc ${JSON.stringify(s.pc)}` : 'no window.stoaEcho';
const statsLine = (x) => x ? `${x.frames} frames ${x.width}x${x.height}, ${x.audioPackets} audio packets` : 'no PeerConnection';

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();

	const site = makeTempSite('stoa-echo-page-', env, {});
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const shotFile = screenshotPath(env, site, 'test_echo_page-running.png');
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	let page = null;
	const errors = [];
	const consoleLines = [];
	let n = 2;
	const t0 = Date.now();
	const steps = createSteps(report);
	const step = (name, fn, breaks) => steps.step(name, fn, breaks);

	const evaluate = (fn, arg, ms = 10000) => withTimeout(page.evaluate(fn, arg), ms, 'page.evaluate');
	const snap = () => evaluate(SNAP);
	const stats = () => evaluate(STATS);
	const waitFor = async (pred, ms, probe = SNAP) => {
		const start = Date.now();
		for (;;) {
			const value = await evaluate(probe);
			if (pred(value)) return { ok: true, value, ms: Date.now() - start };
			if (Date.now() - start >= ms) return { ok: false, value, ms: Date.now() - start };
			await sleep(100);
		}
	};
	const click = (selector) => page.locator(selector).click({ timeout: UI_WAIT_MS });
	const decode = async (min) => {
		const r = await waitFor((x) => x && x.frames > min && x.audioPackets > 0, MEDIA_WAIT_MS, STATS);
		return { ok: r.ok, value: r.value, line: `${statsLine(r.value)} after ${(r.ms / 1000).toFixed(1)} s` };
	};
	// How much a stats counter grows during ms.
	const growth = async (key, ms) => {
		const a = await stats();
		await sleep(ms);
		const b = await stats();
		return a && b ? b[key] - a[key] : NaN;
	};
	// A switch flipped through the UI, acknowledged by the server (the box is enabled again).
	const flip = async (id, on) => {
		await page.locator(`#${id}`).setChecked(on, { timeout: UI_WAIT_MS });
		const key = id === 'echo-audio' ? 'audio' : 'video';
		return waitFor((s) => s.echo[key] === on && !s.echo.busy && !s.statusError, UI_WAIT_MS);
	};

	try {
		await run.start(env, PLAN[0], PLAN[1], { playwrightVersion: true });

		const context = await run.browser.newContext({ viewport: { width: 1000, height: 760 } });
		page = await context.newPage();
		page.on('pageerror', (e) => errors.push(errText(e)));
		recordConsole(page, consoleLines);

		await step(PLAN[n++], async () => {
			const resp = await page.goto(`${ORIGIN}/`, { timeout: 15000 });
			if (!resp || resp.status() !== 200) return { fail: true, lines: [`GET / -> HTTP ${resp && resp.status()}`] };
			const links = await evaluate(() => [...document.querySelectorAll('#demo-list li > a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
			const i = links.findIndex((l) => l.href === 'echotest.html' && l.text === 'Echo test');
			const j = links.findIndex((l) => l.href === 'call.html' && l.text === 'Video call');
			const lines = [`#demo-list: ${JSON.stringify(links)}`];
			return i >= 0 && j >= 0 ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			// Through the index's link, as a person would get there.
			const link = page.locator('#demo-list a[href="echotest.html"]');
			if (await link.count() === 1) await Promise.all([page.waitForURL(/echotest\.html$/, { timeout: 15000 }), link.click({ timeout: UI_WAIT_MS })]);
			else await page.goto(`${ORIGIN}/echotest.html`, { timeout: 15000 });
			const r = await waitFor((s) => idle(s) && s.pc === null, UI_WAIT_MS);
			const lines = [`${page.url()}: ${describe(r.value)}`];
			return r.ok && errors.length === 0 ? { lines } : { fail: true, lines: [...lines, ...errors] };
		});

		await step(PLAN[n++], async () => {
			await click('#start-button');
			const r = await waitFor((s) => running(s) && s.local.w > 0, UI_WAIT_MS);
			const s = r.value;
			const lines = [describe(s), `local video muted ${s.local.muted}, transform ${s.local.transform}; switches ${JSON.stringify(s.echo)}; focus on #${s.active}`];
			// scaleX(-1) computes to matrix(-1, 0, 0, 1, 0, 0).
			const ok = r.ok && s.local.muted && /^matrix\(-1,/.test(s.local.transform) && s.echo.audio && s.echo.video &&
				s.echo.audioLabel === 'Echo audio' && s.echo.videoLabel === 'Echo video' && s.active === 'stop-button' && !s.statusError;
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const d = await decode(MIN_FRAMES);
			const v = await waitFor((s) => s.remote.w > 0 && s.remote.t > 0, 5000);
			const lines = [d.line, `remote <video> ${v.value.remote.w}px wide, t=${v.value.remote.t.toFixed(1)} s`];
			return d.ok && v.ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const r = await waitFor((s) => /^\d+×\d+$/.test(s.stats.resolution) && parseInt(s.stats.bitrate, 10) > 0 &&
				/kbit\/s$/.test(s.stats.bitrate) && /fps$/.test(s.stats.fps) && /^\d+$/.test(s.stats.lost) && /ms$/.test(s.stats.rtt), 5000);
			const lines = [`stats panel: ${JSON.stringify(r.value.stats)}`];
			return r.ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			await page.screenshot({ path: shotFile, fullPage: true, timeout: 10000 });
			return { lines: [shotFile] };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			const off = await flip('echo-video', false);
			if (!off.ok) return { fail: true, lines: [`"Echo video" off not acknowledged: ${describe(off.value)}`] };
			await sleep(SETTLE_MS);
			const [frames, audio] = await Promise.all([growth('frames', STILL_MS), growth('audioPackets', STILL_MS)]);
			lines.push(`video off: +${frames} frames and +${audio} audio packets in ${STILL_MS / 1000} s`);
			const on = await flip('echo-video', true);
			if (!on.ok) return { fail: true, lines: [...lines, `"Echo video" on not acknowledged: ${describe(on.value)}`] };
			const base = (await stats()).frames;
			const d = await decode(base + 20);
			lines.push(`video on again: ${d.line} (was ${base})`);
			return frames <= TAIL_FRAMES && audio >= 20 && d.ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			const off = await flip('echo-audio', false);
			if (!off.ok) return { fail: true, lines: [`"Echo audio" off not acknowledged: ${describe(off.value)}`] };
			await sleep(SETTLE_MS);
			const silent = await growth('audioPackets', STILL_MS);
			const on = await flip('echo-audio', true);
			if (!on.ok) return { fail: true, lines: [`"Echo audio" on not acknowledged: ${describe(on.value)}`] };
			await sleep(300);
			const back = await growth('audioPackets', 1000);
			lines.push(`audio off: +${silent} packets in ${STILL_MS / 1000} s; on again: +${back} in 1 s`);
			return silent <= TAIL_PACKETS && back >= 20 ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			await click('#stop-button');
			const r = await waitFor((s) => idle(s) && s.pc && s.pc.signaling === 'closed' && s.active === 'start-button', UI_WAIT_MS);
			const lines = [describe(r.value), `focus on #${r.value.active}`];
			return r.ok && r.value.tracks.length >= 2 && !r.value.statusError ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const before = await evaluate(() => { window.stoaEchoFirstPc = window.stoaEcho.pc; return window.stoaEcho.tracks.length; });
			await click('#start-button');
			const r = await waitFor(running, UI_WAIT_MS);
			if (!r.ok) return { fail: true, lines: [describe(r.value)] };
			const fresh = await evaluate(() => window.stoaEcho.pc !== window.stoaEchoFirstPc);
			const d = await decode(MORE_FRAMES);
			const lines = [d.line, `a new PeerConnection: ${fresh}`];
			if (!d.ok || !fresh) return { fail: true, lines };
			await click('#stop-button');
			const s = await waitFor((x) => idle(x) && x.pc && x.pc.signaling === 'closed', UI_WAIT_MS);
			lines.push(describe(s.value));
			return s.ok && s.value.tracks.length >= before + 2 ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const before = await evaluate(() => {
				window.realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
				navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
				window.stoaEchoLastPc = window.stoaEcho.pc;
				return window.stoaEcho.tracks.length;
			});
			await click('#start-button');
			const r = await waitFor((s) => idle(s) && /denied/i.test(s.status), UI_WAIT_MS);
			const same = await evaluate(() => {
				navigator.mediaDevices.getUserMedia = window.realGetUserMedia;
				return window.stoaEcho.pc === window.stoaEchoLastPc;
			});
			const lines = [describe(r.value), `no new PeerConnection: ${same}`];
			return r.ok && r.value.statusError && same && r.value.tracks.length === before ? { lines } : { fail: true, lines };
		}, false);
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- end, reported whatever happened before
	const tail = PLAN.length - 4;
	tap.notRunUpTo(tail, steps.broken || 'aborted');
	report(PLAN[tail], page !== null && errors.length === 0, errors.length ? errors : page ? ['none'] : ['no page']);
	await run.reportStoaExit(PLAN[tail + 1]);
	{
		const lines = [];
		let ok = !!(page && run.browser);
		if (ok) {
			try {
				const before = (await snap()).tracks.length;
				await click('#start-button');
				const w = await waitFor((s) => idle(s) && /unreachable/.test(s.status), 10000);
				ok = w.ok && w.value.statusError && w.value.tracks.length === before;
				lines.push(`${describe(w.value)} (${w.ms} ms)`);
			} catch (e) { ok = false; lines.push(errText(e)); }
		} else lines.push('no page');
		report(PLAN[tail + 2], ok, lines);
	}
	run.reportSanitizers(PLAN[tail + 3]);
	return run.finish({ t0, site, consoles: { '': consoleLines }, keep: [shotFile] });
}

runMain(main, tap);
