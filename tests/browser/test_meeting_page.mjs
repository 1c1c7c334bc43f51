#!/usr/bin/env node
// test_meeting_page.mjs: the meeting page (html/meeting.html, served by stoa)
// on janus.plugin.videoroom, driven like people would drive it, in three
// headless Chromium pages (separate contexts, fake camera and microphone).
//
// The page is the real one from the html copy lib.mjs makes; the test clicks
// its buttons, types into it and reads its state from the DOM and from
// window.stoaMeeting (tiles, people, captured tracks, PeerConnections, an
// event log). Stoa runs with --reclaim-session-timeout so that a dropped
// WebSocket can claim its session back. Flows:
//   - index.html links to meeting.html; ?room=…&name=… prefill the form;
//     A and B talk WebSocket, C long polling (its WebSocket blocked);
//   - the test makes the room through the Admin API (message_plugin create,
//     audiolevel_event with thresholds that Chromium's fake microphone
//     crosses); A, B and C join it by its name (`list`): A captures
//     1280x720 (three simulcast layers), B and C 320x240 to keep the CPU
//     load down; C joins with the keyboard;
//   - every page shows two remote tiles and three people, and decodes
//     frames and gets audio packets from each of the other two (getStats
//     inbound-rtp per tile mid); a screenshot of B with the stats overlay;
//   - talking: every page sees the two others talking (VideoRoom
//     talking events) in the list and on the tiles;
//   - A mutes: B and C stop getting A's audio packets and show A muted;
//     unmuted, they flow again. A's camera off: the camera track ends, B
//     shows A's placeholder; on again: B decodes A again;
//   - B picks Low for A's tile: B's decoded width of A drops to <= 320;
//   - A shares its screen (Chromium's fake screen) and stops: B keeps
//     decoding A, and A's camera is back;
//   - B's WebSocket is closed from the page: B says reconnecting, then
//     reconnected, keeps its session, and media keeps flowing both ways;
//   - C leaves: all its tracks end, its PeerConnections close; A and B drop
//     C's tile and C from the list;
//   - C tries a room number that does not exist, then a camera that is
//     refused: a clear message each time, nothing joined, no camera opened;
//   - stoa stops (exit 0, no sanitizer report): A and B say reconnecting,
//     C's Join says the server is unreachable; stoa starts again: A and B's
//     claim is refused and each page rejoins once on its own (new session,
//     the room made again by name: the first page creates it with an id
//     derived from the name, the second finds it, or gets 427 creating the
//     same id, and joins it; publish, resubscribe), A with its camera still
//     off; then A's camera comes on and A and B decode each other;
//   - B closes its tab: its pagehide handler leaves, so A drops B at once
//     (not after the reclaim timeout); A leaves: every track it captured
//     has ended;
//   - no uncaught page error and no console error (except the refused
//     connections while stoa was down); stoa exits 0 on SIGINT with no
//     sanitizer report.
// Waits are deadlines on page state; fixed sleeps only where a count must
// stay still (mute, camera off). About 40 s; 80 s with sanitizers next to
// another browser test on 2 cores.
//
// The screenshot goes to tests/browser/test_meeting_page-3party.png in the
// build tree (or the temporary folder when stoa is not a build's src/stoa).
// Environment, npm packages and network namespace: see lib.mjs.

import path from 'node:path';

import {
	ORIGIN, createTap, withTimeout, errText, preflight, makeTempSite, Stoa, sleep, screenshotPath,
	admin, createRun, runMain,
} from './lib.mjs';

const TOTAL_BUDGET_MS = 300000;
const ROOM_NAME = 'Stoa test meeting';
const MISSING_ROOM = '987654321';
const RECLAIM_S = 30;
const MIN_FRAMES = 60;           // per remote feed, on every page
const MIN_AUDIO = 50;            // audio packets per remote feed
const MORE_FRAMES = 30;          // "keeps decoding"
const MEDIA_WAIT_MS = 30000;
const UI_WAIT_MS = 10000;        // a click and the server's answer
const GONE_WAIT_MS = 5000;       // "within a few seconds"
const SETTLE_MS = 1000;          // what was in flight when a switch flipped
const STILL_MS = 2000;           // how long a stopped count must stay still
const TAIL_PACKETS = 3;
const TAIL_FRAMES = 5;
const REJOIN_WAIT_MS = 60000;
const NAMES = ['A', 'B', 'C'];
const HTTP_PAGE = 'C';
const HD = { audio: true, video: { width: 1280, height: 720 } };
const SMALL = { audio: true, video: { width: 320, height: 240 } };
// Console lines that are expected while stoa is down (reconnect attempts).
const DOWN_NOISE = /ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/;

const PLAN = [
	'chromium launches (playwright-core)',
	`stoa starts (--reclaim-session-timeout ${RECLAIM_S}) and listens on 8088, 8188 and 7088`,
	'index.html links to meeting.html ("Meeting")',
	'pages A, B, C load meeting.html?room=…&name=…: the form is prefilled, focus on Join, no PeerConnection',
	`the Admin API makes room "${ROOM_NAME}" (message_plugin create, audiolevel_event)`,
	`A, B and C join "${ROOM_NAME}" by name, one after the other (C with the Enter key): each is in the room the test made and sends a live camera and mic; A and B over WebSocket, C over HTTP long poll (its WebSocket blocked)`,
	'every page shows two remote tiles, and the list shows the three people',
	`every page decodes > ${MIN_FRAMES} frames and gets > ${MIN_AUDIO} audio packets from EACH of the other two (getStats per tile mid); every remote <video> plays`,
	'the stats overlay shows bitrate, resolution, fps, loss and RTT; a screenshot of B in the 3-party meeting is saved',
	'talking: every page shows the two others talking (VideoRoom talking events), in the list and on their tiles',
	'A mutes: no audio track on its sender, B and C stop getting A\'s audio packets and list A as muted; unmuted, the packets flow again',
	'A turns its camera off: the camera track has ended, B shows A\'s placeholder; on again: a new live camera track and B decodes A again',
	'B picks Low for A\'s tile (A sends 1280x720 in three simulcast layers): B\'s decoded width of A drops to <= 320',
	'A shares its screen (fake screen): B keeps decoding A; stopping puts A\'s camera back and ends the screen track',
	'B\'s WebSocket is closed from the page: B says reconnecting then reconnected, keeps its session id, and media keeps flowing both ways (no rejoin)',
	'C leaves: every track C captured has ended and its PeerConnections are closed, the form is back; A and B drop C\'s tile and C from the list within 5 s',
	`A and B keep decoding each other after C left (> ${MORE_FRAMES} more frames)`,
	`C joins room ${MISSING_ROOM} (no such room): a clear message, focus on the room field, no PeerConnection, no camera opened`,
	'C\'s camera is refused (getUserMedia NotAllowedError): a clear message, nobody sees C join, no PeerConnection',
	'stoa (first run) exits with status 0 on SIGINT, with no sanitizer report',
	'with stoa gone, A and B say they are reconnecting, and C\'s Join says the server is unreachable (no camera opened)',
	'stoa starts again: A and B\'s claim is refused and each rejoins the room by name on its own (new session, same room for both), A with its camera still off',
	`after the rejoin A turns its camera on: A and B decode > ${MORE_FRAMES} frames and get audio from each other`,
	'B closes its tab (pagehide): A drops B\'s tile and B from the list within 5 s; A leaves: every track A captured has ended, its PeerConnections are closed',
	'no uncaught page errors; no console errors (except refused connections while stoa was down)',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// ------------------------------------------------------------------ in-page probes
const SNAP = () => {
	const s = window.stoaMeeting;
	const el = (id) => document.getElementById(id);
	if (!s) return null;
	const st = el('status');
	return {
		state: s.state, sessionId: s.sessionId, room: s.room, myId: s.myId, transport: s.transport,
		view: !el('meeting').hidden ? 'meeting' : !el('lobby').hidden ? 'lobby' : null,
		status: st.textContent, statusKind: st.classList.contains('error') ? 'error' : st.classList.contains('warning') ? 'warning' : 'info',
		form: { room: el('room-input').value, name: el('name-input').value, joinDisabled: el('join-button').disabled },
		active: document.activeElement ? document.activeElement.id || document.activeElement.tagName : null,
		tiles: s.tiles(), people: s.people(), talked: s.talked,
		roster: [...document.querySelectorAll('#people li')].map((li) => ({ id: li.dataset.id, text: li.textContent, talking: li.classList.contains('talking') })),
		events: s.events.map((e) => e.type),
		tracks: s.localTracks(), sending: s.sending(), pcs: s.pcStates(),
		pressed: Object.fromEntries(['mute', 'camera', 'share', 'stats'].map((k) => [k, el(`${k}-button`).getAttribute('aria-pressed')])),
	};
};

// Per remote tile (by feed id): frames decoded, width, audio packets.
const STATS = async () => {
	const s = window.stoaMeeting;
	const pc = s.subPc;
	if (!pc || pc.signalingState === 'closed') return {};
	const byMid = {};
	(await pc.getStats()).forEach((x) => { if (x.type === 'inbound-rtp') byMid[x.mid] = x; });
	const out = {};
	for (const t of s.tiles()) {
		if (t.me) continue;
		const v = t.videoMid !== null ? byMid[t.videoMid] : null, a = t.audioMid !== null ? byMid[t.audioMid] : null;
		out[t.key] = { display: t.display, frames: v ? v.framesDecoded || 0 : 0, width: v ? v.frameWidth || 0 : 0, audio: a ? a.packetsReceived || 0 : 0 };
	}
	return out;
};

// A's outgoing video layers.
const LAYERS = async () => {
	const pc = window.stoaMeeting.pubPc;
	if (!pc) return [];
	const out = [];
	(await pc.getStats()).forEach((x) => { if (x.type === 'outbound-rtp' && x.kind === 'video') out.push({ rid: x.rid || null, width: x.frameWidth || 0, bytes: x.bytesSent || 0 }); });
	return out.sort((a, b) => String(a.rid).localeCompare(String(b.rid)));
};

const overlayOf = (key) => {
	const t = document.querySelector(`#grid figure[data-key="${key}"] .stats-overlay`);
	return t ? { hidden: t.hidden, text: t.textContent } : null;
};

const trackLine = (s) => s.tracks.length ? s.tracks.map((t) => `${t.kind}:${t.readyState}`).join(' ') : 'none captured';
const describe = (s) => s ? `${s.state}, view ${s.view}, status "${s.status}" (${s.statusKind}), session ${s.sessionId}, tracks ${trackLine(s)}, pcs ${JSON.stringify(s.pcs)}` : 'no window.stoaMeeting';

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();

	const site = makeTempSite('stoa-meeting-page-', env, {});
	const stoaArgs = { bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1', '-m', String(RECLAIM_S)] };
	let stoa = new Stoa(stoaArgs);
	const shotFile = screenshotPath(env, site, 'test_meeting_page-3party.png');
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	const P = {};                    // who -> { page, errors, console, id, session }
	let broken = null;
	let n = 0;
	let downSince = null, upAgain = null;
	const sanitizerFirstRun = [];
	const t0 = Date.now();
	const step = async (name, fn, breaks = true) => {
		if (broken !== null) { report(name, false, [`not run: ${broken}`]); n++; return false; }
		const ts = Date.now();
		n++;
		try {
			const r = await fn();
			const took = `(${((Date.now() - ts) / 1000).toFixed(1)} s)`;
			if (r && r.fail) { report(name, false, [...(r.lines || []), took]); if (breaks) broken = `"${name}" failed`; return false; }
			report(name, true, [...((r && r.lines) || []), took]);
			return true;
		} catch (e) {
			report(name, false, [errText(e)]);
			if (breaks) broken = `"${name}" failed`;
			return false;
		}
	};

	const evaluate = (who, fn, arg, ms = 10000) => withTimeout(P[who].page.evaluate(fn, arg), ms, `page ${who}: evaluate`);
	const snap = (who) => evaluate(who, SNAP);
	const stats = (who) => evaluate(who, STATS);
	const waitFor = async (who, pred, ms, probe = SNAP) => {
		const start = Date.now();
		for (;;) {
			const value = await evaluate(who, probe);
			if (pred(value)) return { ok: true, value, ms: Date.now() - start };
			if (Date.now() - start >= ms) return { ok: false, value, ms: Date.now() - start };
			await sleep(150);
		}
	};
	const click = (who, selector) => P[who].page.locator(selector).click({ timeout: UI_WAIT_MS });
	const nameOf = (id) => NAMES.find((x) => P[x] && String(P[x].id) === String(id)) || id;
	const others = (who, among = NAMES) => among.filter((x) => x !== who);
	const statsLine = (st) => Object.entries(st || {}).map(([id, x]) => `${nameOf(id)}: ${x.frames} frames ${x.width}px, ${x.audio} audio pkts`).join('; ') || 'no remote tiles';
	// Waits until `who` decodes > minFrames more frames (and > minAudio more
	// audio packets) of each feed in `from` than in `base`.
	const decodes = async (who, from, minFrames, minAudio, base = {}, ms = MEDIA_WAIT_MS) => {
		const ids = from.map((x) => String(P[x].id));
		const r = await waitFor(who, (st) => ids.every((id) => st[id] &&
			st[id].frames > (base[id] ? base[id].frames : 0) + minFrames &&
			st[id].audio > (base[id] ? base[id].audio : 0) + minAudio), ms, STATS);
		return { ok: r.ok, value: r.value, line: `${who}: ${statsLine(r.value)} (${(r.ms / 1000).toFixed(1)} s)` };
	};
	// How much the counters of feed `of` grow on `who` during ms.
	const growth = async (who, of, ms) => {
		const id = String(P[of].id);
		const a = await stats(who);
		await sleep(ms);
		const b = await stats(who);
		const x = a[id] || { frames: 0, audio: 0 }, y = b[id] || { frames: 0, audio: 0 };
		return { frames: y.frames - x.frames, audio: y.audio - x.audio };
	};
	const allEnded = (s) => s.tracks.length > 0 && s.tracks.every((t) => t.readyState === 'ended');
	const pcsClosed = (s) => s.pcs.every((p) => p.signaling === 'closed');

	try {
		await run.start(env, PLAN[0], PLAN[1], { playwrightVersion: true });
		n = 2;

		for (const who of NAMES) {
			const context = await run.browser.newContext({ viewport: { width: 1280, height: 860 } });
			// C's page cannot open WebSockets, so janus.mjs falls back to HTTP long polling.
			if (who === HTTP_PAGE) await context.addInitScript(() => {
				window.WebSocket = class { constructor() { throw new Error('WebSockets are blocked by the test'); } };
			});
			const page = await context.newPage();
			P[who] = { page, errors: [], console: [] };
			page.on('pageerror', (e) => P[who].errors.push(errText(e)));
			page.on('console', (m) => {
				const line = `[${m.type()}] ${m.text()}`;
				P[who].console.push({ t: Date.now(), type: m.type(), line });
				if (P[who].console.length > 400) P[who].console.shift();
			});
			// Which request a "Failed to load resource" line is about.
			page.on('response', (res) => {
				if (res.status() >= 400) P[who].console.push({ t: Date.now(), type: 'response', line: `HTTP ${res.status()} for ${res.request().method()} ${res.url()}` });
			});
		}

		await step(PLAN[n], async () => {
			const page = P.A.page;
			const resp = await page.goto(`${ORIGIN}/`, { timeout: 15000 });
			if (!resp || resp.status() !== 200) return { fail: true, lines: [`GET / -> HTTP ${resp && resp.status()}`] };
			const links = await evaluate('A', () => [...document.querySelectorAll('#demo-list li > a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
			const ok = links.some((l) => l.href === 'meeting.html' && l.text === 'Meeting');
			return ok ? { lines: [JSON.stringify(links)] } : { fail: true, lines: [JSON.stringify(links)] };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			let ok = true;
			for (const who of NAMES) {
				const url = `${ORIGIN}/meeting.html?room=${encodeURIComponent(ROOM_NAME)}&name=${who}`;
				const resp = await P[who].page.goto(url, { timeout: 15000 });
				if (!resp || resp.status() !== 200) { ok = false; lines.push(`${who}: GET ${url} -> HTTP ${resp && resp.status()}`); continue; }
				const r = await waitFor(who, (s) => s && s.state === 'idle' && s.view === 'lobby' && s.form.room === ROOM_NAME && s.form.name === who &&
					s.active === 'join-button' && s.pcs.length === 0, UI_WAIT_MS);
				lines.push(`${who}: form ${JSON.stringify(r.value && r.value.form)}, focus on #${r.value && r.value.active}`);
				if (!r.ok) ok = false;
				await evaluate(who, (c) => { window.stoaMeeting.constraints = c; }, who === 'A' ? HD : SMALL);
			}
			return ok ? { lines } : { fail: true, lines };
		});

		let roomId = null;
		await step(PLAN[n], async () => {
			// Thresholds the fake microphone crosses: it is never quite silent.
			const r = await admin({ janus: 'message_plugin', plugin: 'janus.plugin.videoroom', request: {
				request: 'create', description: ROOM_NAME, publishers: 16, audiolevel_event: true,
				audio_active_packets: 25, audio_level_average: 126, notify_joining: true } });
			const resp = r.json && r.json.response;
			if (!resp || resp.videoroom !== 'created') return { fail: true, lines: [JSON.stringify(r.json)] };
			roomId = resp.room;
			return { lines: [JSON.stringify(resp)] };
		});

		await step(PLAN[n], async () => {
			const lines = [];
			for (const who of NAMES) {
				if (who === 'C') await P.C.page.keyboard.press('Enter');   // focus is on Join
				else await click(who, '#join-button');
				const r = await waitFor(who, (s) => s.state === 'joined' && s.view === 'meeting' && s.room === roomId &&
					s.transport === (who === HTTP_PAGE ? 'http' : 'websocket') &&
					s.sending.length === 2 && s.sending.every((x) => x.track && x.track.readyState === 'live') &&
					s.pcs.some((p) => p.role === 'publisher' && p.connection === 'connected'), MEDIA_WAIT_MS);
				const s = r.value;
				P[who].id = s.myId;
				P[who].session = s.sessionId;
				lines.push(`${who}: id ${s.myId}, session ${s.sessionId} (${s.transport}), room ${s.room}, sending ${JSON.stringify(s.sending.map((x) => `${x.kind}:${x.track && x.track.label}`))}; "${s.status}" (${(r.ms / 1000).toFixed(1)} s)`);
				if (!r.ok) return { fail: true, lines: [...lines, describe(s), `events: ${s.events.join(', ')}`] };
			}
			return { lines };
		});

		await step(PLAN[n], async () => {
			const lines = [];
			let ok = true;
			for (const who of NAMES) {
				const want = others(who).map((x) => String(P[x].id)).sort();
				const r = await waitFor(who, (s) => JSON.stringify(s.tiles.filter((t) => !t.me).map((t) => String(t.key)).sort()) === JSON.stringify(want) &&
					s.tiles.length === 3 && s.people.length === 3 && s.roster.length === 3 &&
					NAMES.every((x) => s.people.some((p) => p.display === x && p.me === (x === who))), UI_WAIT_MS);
				lines.push(`${who}: tiles ${r.value.tiles.map((t) => (t.me ? `${t.display}(me)` : t.display)).join(', ')}; list ${r.value.roster.map((x) => x.text).join(' | ')}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n], async () => {
			const results = await Promise.all(NAMES.map((who) => decodes(who, others(who), MIN_FRAMES, MIN_AUDIO)));
			const lines = results.map((r) => r.line);
			let ok = results.every((r) => r.ok);
			for (const who of NAMES) {
				const r = await waitFor(who, (s) => s.tiles.filter((t) => !t.me).every((t) => t.videoWidth > 0 && t.currentTime > 0 && !t.placeholder), UI_WAIT_MS);
				lines.push(`${who}: remote <video>s ${r.value.tiles.filter((t) => !t.me).map((t) => `${t.display} ${t.videoWidth}px t=${t.currentTime.toFixed(1)}`).join(', ')}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n], async () => {
			await click('B', '#stats-button');
			const aKey = String(P.A.id);
			const start = Date.now();
			let o = null;
			while (Date.now() - start < UI_WAIT_MS) {
				o = await evaluate('B', overlayOf, aKey);
				if (o && !o.hidden && /kbit\/s/.test(o.text) && /\d+×\d+/.test(o.text) && /fps/.test(o.text) && /Loss/.test(o.text) && /RTT[\d.]+ ms/.test(o.text)) break;
				await sleep(200);
			}
			const me = await evaluate('B', overlayOf, 'me');
			const lines = [`B's overlay on A's tile: "${o && o.text}"`, `B's own tile: "${me && me.text}"`];
			await P.B.page.screenshot({ path: shotFile, fullPage: true, timeout: 10000 });
			lines.push(shotFile);
			const ok = o && !o.hidden && /\d+×\d+/.test(o.text) && /RTT[\d.]+ ms/.test(o.text) && me && /kbit\/s/.test(me.text);
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			let ok = true;
			for (const who of NAMES) {
				const ids = others(who).map((x) => String(P[x].id));
				const r = await waitFor(who, (s) => ids.every((id) => s.talked.map(String).includes(id)) &&
					ids.every((id) => s.roster.some((x) => x.id === id && x.talking) && s.tiles.some((t) => String(t.key) === id && t.talking)), 15000);
				const s = r.value;
				lines.push(`${who}: talked ${JSON.stringify(s.talked.map(nameOf))}; list ${s.roster.map((x) => `${nameOf(x.id)}${x.talking ? ' (talking)' : ''}`).join(', ')}; tiles ${s.tiles.map((t) => `${t.display}${t.talking ? ' (talking)' : ''}`).join(', ')}`);
				if (!r.ok) ok = false;
			}
			await click('B', '#stats-button');   // overlay off again
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			const aId = String(P.A.id);
			await click('A', '#mute-button');
			const m = await waitFor('A', (s) => s.pressed.mute === 'true' && s.sending.find((x) => x.kind === 'audio').track === null, UI_WAIT_MS);
			if (!m.ok) return { fail: true, lines: [`A's audio sender still has a track: ${JSON.stringify(m.value.sending)}`] };
			await sleep(SETTLE_MS);
			const [gb, gc] = await Promise.all([growth('B', 'A', STILL_MS), growth('C', 'A', STILL_MS)]);
			lines.push(`muted: A's audio at B +${gb.audio}, at C +${gc.audio} packets in ${STILL_MS / 1000} s (frames still +${gb.frames}/+${gc.frames})`);
			const shown = await waitFor('B', (s) => s.people.some((p) => String(p.id) === aId && p.silent && !p.talking) &&
				s.roster.some((x) => x.id === aId && /muted/.test(x.text)), 5000);
			lines.push(`B lists A as "${(shown.value.roster.find((x) => x.id === aId) || {}).text}"`);
			await click('A', '#mute-button');
			const u = await waitFor('A', (s) => s.pressed.mute === 'false' && s.sending.find((x) => x.kind === 'audio').track, UI_WAIT_MS);
			await sleep(500);
			const [hb, hc] = await Promise.all([growth('B', 'A', 1500), growth('C', 'A', 1500)]);
			lines.push(`unmuted: A's audio at B +${hb.audio}, at C +${hc.audio} packets in 1.5 s`);
			const back = await waitFor('B', (s) => s.people.some((p) => String(p.id) === aId && !p.silent), 5000);
			const ok = gb.audio <= TAIL_PACKETS && gc.audio <= TAIL_PACKETS && gb.frames > 0 && shown.ok && u.ok && hb.audio >= 20 && hc.audio >= 20 && back.ok;
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			const aId = String(P.A.id);
			await click('A', '#camera-button');
			const off = await waitFor('A', (s) => s.pressed.camera === 'true' && s.sending.find((x) => x.kind === 'video').track === null &&
				s.tracks.filter((t) => t.kind === 'video').every((t) => t.readyState === 'ended'), UI_WAIT_MS);
			lines.push(`A: camera off: sending ${JSON.stringify(off.value.sending)}, tracks ${trackLine(off.value)}`);
			if (!off.ok) return { fail: true, lines };
			const ph = await waitFor('B', (s) => s.tiles.some((t) => String(t.key) === aId && t.placeholder), 8000);
			await sleep(SETTLE_MS);
			const still = await growth('B', 'A', STILL_MS);
			lines.push(`B: A's placeholder shown ${ph.ok} (${(ph.ms / 1000).toFixed(1)} s); A's frames +${still.frames} in ${STILL_MS / 1000} s, audio +${still.audio}`);
			const base = await stats('B');
			await click('A', '#camera-button');
			const on = await waitFor('A', (s) => s.pressed.camera === 'false' && s.sending.find((x) => x.kind === 'video').track &&
				s.sending.find((x) => x.kind === 'video').track.readyState === 'live', UI_WAIT_MS);
			lines.push(`A: camera on: sending ${JSON.stringify(on.value.sending.map((x) => x.track && x.track.readyState))}`);
			const d = await decodes('B', ['A'], MORE_FRAMES, 0, base);
			const noPh = await waitFor('B', (s) => s.tiles.some((t) => String(t.key) === aId && !t.placeholder), 8000);
			lines.push(d.line, `B: A's placeholder gone ${noPh.ok}`);
			const ok = ph.ok && still.frames <= TAIL_FRAMES && still.audio > 20 && on.ok && d.ok && noPh.ok;
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			const aId = String(P.A.id);
			const layers = await evaluate('A', LAYERS);
			lines.push(`A sends ${layers.map((l) => `${l.rid}:${l.width}px`).join(', ')}`);
			const before = (await stats('B'))[aId];
			await P.B.page.selectOption(`#tile-${aId}-quality`, '0', { timeout: UI_WAIT_MS });
			const base = await stats('B');
			const r = await waitFor('B', (st) => st[aId] && st[aId].width > 0 && st[aId].width <= 320 && st[aId].frames > base[aId].frames + 10, 15000, STATS);
			lines.push(`B: A's width ${before ? before.width : '?'} -> ${r.value[aId] ? r.value[aId].width : '?'}px after Low (${(r.ms / 1000).toFixed(1)} s)`);
			await P.B.page.selectOption(`#tile-${aId}-quality`, '2', { timeout: UI_WAIT_MS });
			const h = await waitFor('B', (st) => st[aId] && st[aId].width > 320, 8000, STATS);
			lines.push(`B: back to High: ${h.value[aId] ? h.value[aId].width : '?'}px${h.ok ? '' : ' (A\'s top layer may be held back by the CPU; not asserted)'}`);
			const ok = layers.length === 3 && r.ok;
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			const base = await stats('B');
			await click('A', '#share-button');
			const on = await waitFor('A', (s) => s.pressed.share === 'true' && /screen/i.test((s.sending.find((x) => x.kind === 'video').track || {}).label || ''), UI_WAIT_MS);
			lines.push(`A sharing: ${JSON.stringify(on.value.sending.map((x) => x.track && x.track.label))}; "${on.value.status}"`);
			if (!on.ok) return { fail: true, lines };
			const d = await decodes('B', ['A'], MORE_FRAMES, 0, base);
			lines.push(`B while A shares: ${d.line}`);
			const base2 = await stats('B');
			await click('A', '#share-button');
			const off = await waitFor('A', (s) => s.pressed.share === 'false' && !/screen/i.test((s.sending.find((x) => x.kind === 'video').track || {}).label || 'screen') &&
				s.tracks.filter((t) => /screen/i.test(t.label)).every((t) => t.readyState === 'ended'), UI_WAIT_MS);
			lines.push(`A stopped sharing: ${JSON.stringify(off.value.sending.map((x) => x.track && `${x.track.label}:${x.track.readyState}`))}`);
			const d2 = await decodes('B', ['A'], MORE_FRAMES, 0, base2);
			lines.push(`B after: ${d2.line}`);
			return on.ok && d.ok && off.ok && d2.ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			const before = await snap('B');
			const base = { A: await stats('A'), B: await stats('B'), C: await stats('C') };
			const dropped = await evaluate('B', () => window.stoaMeeting.dropSocket());
			if (!dropped) return { fail: true, lines: ['B has no WebSocket to drop'] };
			const r = await waitFor('B', (s) => {
				const i = s.events.lastIndexOf('reconnecting'), j = s.events.lastIndexOf('reconnected');
				return i >= 0 && j > i;
			}, 20000);
			const s = r.value;
			const statusNow = s.status;
			lines.push(`B: events ${s.events.slice(before.events.length).join(', ')}; session ${before.sessionId} -> ${s.sessionId}; status "${statusNow}" (${(r.ms / 1000).toFixed(1)} s)`);
			const okSignal = r.ok && s.sessionId === before.sessionId && s.state === 'joined' && /reconnected/i.test(statusNow) &&
				!s.events.slice(before.events.length).some((e) => e === 'lost' || e === 'rejoining');
			const results = await Promise.all([
				decodes('B', ['A', 'C'], MORE_FRAMES, 20, base.B),
				decodes('A', ['B'], MORE_FRAMES, 20, base.A),
				decodes('C', ['B'], MORE_FRAMES, 20, base.C),
			]);
			lines.push(...results.map((x) => x.line));
			return okSignal && results.every((x) => x.ok) ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const lines = [];
			const cId = String(P.C.id);
			await click('C', '#leave-button');
			const r = await waitFor('C', (s) => s.state === 'idle' && s.view === 'lobby' && allEnded(s) && s.pcs.length === 2 && pcsClosed(s), UI_WAIT_MS);
			lines.push(`C: ${describe(r.value)}`);
			const gone = await Promise.all(['A', 'B'].map((who) => waitFor(who, (s) => !s.tiles.some((x) => String(x.key) === cId) &&
				!s.people.some((p) => String(p.id) === cId) && !s.roster.some((x) => x.id === cId) && s.tiles.length === 2, GONE_WAIT_MS)));
			gone.forEach((g, i) => lines.push(`${['A', 'B'][i]}: tiles ${g.value.tiles.map((x) => x.display).join(', ')}; list ${g.value.roster.map((x) => nameOf(x.id)).join(', ')} (${(g.ms / 1000).toFixed(1)} s)`));
			return r.ok && gone.every((g) => g.ok) ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const [a, b] = await Promise.all([stats('A'), stats('B')]);
			const results = await Promise.all([decodes('A', ['B'], MORE_FRAMES, 20, a), decodes('B', ['A'], MORE_FRAMES, 20, b)]);
			return results.every((x) => x.ok) ? { lines: results.map((x) => x.line) } : { fail: true, lines: results.map((x) => x.line) };
		}, false);

		await step(PLAN[n], async () => {
			const before = await snap('C');
			await P.C.page.fill('#room-input', MISSING_ROOM);
			await click('C', '#join-button');
			const r = await waitFor('C', (s) => s.state === 'idle' && s.view === 'lobby' && s.statusKind === 'error' &&
				new RegExp(`no room ${MISSING_ROOM}`, 'i').test(s.status) && !s.form.joinDisabled, UI_WAIT_MS);
			const s = r.value;
			const lines = [`C: "${s.status}"; focus on #${s.active}; pcs ${JSON.stringify(s.pcs)}; tracks ${before.tracks.length} -> ${s.tracks.length}`];
			return r.ok && s.active === 'room-input' && s.pcs.length === 0 && s.tracks.length === before.tracks.length ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			const before = await snap('C');
			await evaluate('C', () => {
				window.realGetUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
				navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
			});
			await P.C.page.fill('#room-input', ROOM_NAME);
			await click('C', '#join-button');
			const r = await waitFor('C', (s) => s.state === 'idle' && s.view === 'lobby' && s.statusKind === 'error' && /denied/i.test(s.status), UI_WAIT_MS);
			await evaluate('C', () => { navigator.mediaDevices.getUserMedia = window.realGetUserMedia; });
			const s = r.value;
			await sleep(500);
			const [a, b] = await Promise.all([snap('A'), snap('B')]);
			const lines = [`C: "${s.status}"; pcs ${JSON.stringify(s.pcs)}; tracks ${before.tracks.length} -> ${s.tracks.length}`,
				`A lists ${a.people.map((p) => p.display).join(', ')}; B lists ${b.people.map((p) => p.display).join(', ')}`];
			const ok = r.ok && s.pcs.length === 0 && s.tracks.length === before.tracks.length && a.people.length === 2 && b.people.length === 2;
			return ok ? { lines } : { fail: true, lines };
		}, false);

		// ---- stoa goes away and comes back
		const beforeDown = { A: await snap('A'), B: await snap('B') };
		await step(PLAN[n], async () => {
			// A's camera off first: its rejoin must publish without one.
			await click('A', '#camera-button');
			const off = await waitFor('A', (s) => s.pressed.camera === 'true' && s.sending.find((x) => x.kind === 'video').track === null, UI_WAIT_MS);
			downSince = Date.now();
			const r = await stoa.stop();
			const san = stoa.sanitizerLines();
			sanitizerFirstRun.push(...san);
			const lines = [r ? `exit ${JSON.stringify(r)}` : 'still running 5 s after SIGINT; killed', `sanitizer lines: ${san.length}`, `A's camera off first: ${off.ok}`];
			return r && r.code === 0 && r.signal === null && san.length === 0 && off.ok ? { lines } : { fail: true, lines: [...lines, ...san.slice(0, 20)] };
		});

		await step(PLAN[n], async () => {
			const lines = [];
			let ok = true;
			for (const who of ['A', 'B']) {
				const k = beforeDown[who].events.filter((e) => e === 'reconnecting').length;
				const r = await waitFor(who, (s) => s.events.filter((e) => e === 'reconnecting').length > k && s.statusKind === 'warning' && /reconnecting/i.test(s.status), 8000);
				lines.push(`${who}: "${r.value.status}"`);
				if (!r.ok) ok = false;
			}
			const before = await snap('C');
			await click('C', '#join-button');
			const r = await waitFor('C', (s) => s.state === 'idle' && s.statusKind === 'error' && /unreachable/i.test(s.status), 15000);
			lines.push(`C: "${r.value.status}"; tracks ${before.tracks.length} -> ${r.value.tracks.length}`);
			if (!r.ok || r.value.tracks.length !== before.tracks.length || r.value.pcs.length) ok = false;
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n], async () => {
			stoa = new Stoa(stoaArgs);
			run.stoa = stoa;
			const up2 = await stoa.start();
			upAgain = Date.now();
			if (!up2) return { fail: true, lines: [stoa.exit ? `stoa exited early: ${JSON.stringify(stoa.exit)}` : 'ports not open after 10 s', ...stoa.logTail(20)] };
			const lines = [`stoa back after ${((upAgain - downSince) / 1000).toFixed(1)} s down`];
			const results = await Promise.all(['A', 'B'].map((who) => waitFor(who, (s) => {
				const ev = s.events.slice(beforeDown[who].events.length);
				return s.state === 'joined' && ev.includes('lost') && ev.includes('rejoining') && ev.includes('rejoined') &&
					s.sessionId !== beforeDown[who].sessionId && s.tiles.length === 2 && s.people.length === 2 &&
					s.tiles.some((t) => !t.me && t.display === others(who, ['A', 'B'])[0]);
			}, REJOIN_WAIT_MS)));
			let ok = true;
			results.forEach((r, i) => {
				const who = ['A', 'B'][i];
				const s = r.value;
				P[who].id = s.myId;
				lines.push(`${who}: ${s.events.slice(beforeDown[who].events.length).join(', ')}; session ${beforeDown[who].sessionId} -> ${s.sessionId}, room ${s.room}, "${s.status}" (${(r.ms / 1000).toFixed(1)} s after stoa was back)`);
				if (!r.ok) ok = false;
			});
			const [a, b] = results.map((r) => r.value);
			lines.push(`A sends ${JSON.stringify(a.sending.map((x) => `${x.kind}:${x.track ? x.track.readyState : 'no track'}`))}, camera button pressed ${a.pressed.camera}`);
			if (a.room !== b.room || a.sending.find((x) => x.kind === 'video').track !== null || a.pressed.camera !== 'true') ok = false;
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n], async () => {
			const [a, b] = await Promise.all([stats('A'), stats('B')]);
			await click('A', '#camera-button');
			const on = await waitFor('A', (s) => s.pressed.camera === 'false' && (s.sending.find((x) => x.kind === 'video').track || {}).readyState === 'live', UI_WAIT_MS);
			const results = await Promise.all([decodes('A', ['B'], MORE_FRAMES, 20, a), decodes('B', ['A'], MORE_FRAMES, 20, b)]);
			const lines = [`A's camera on: ${on.ok}`, ...results.map((x) => x.line)];
			return on.ok && results.every((x) => x.ok) ? { lines } : { fail: true, lines };
		}, false);
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- the end, reported whatever happened before
	const tail = PLAN.length - 4;
	tap.notRunUpTo(tail, broken || 'aborted');
	{
		const lines = [];
		let ok = !!(P.A && P.B);
		try {
			const a0 = await snap('A'), b0 = await snap('B');
			if (a0.state === 'joined' && b0.state === 'joined') {
				const bId = String(b0.myId);
				await withTimeout(P.B.page.close(), 10000, 'closing B');
				P.B.closed = true;
				const g = await waitFor('A', (s) => !s.tiles.some((x) => String(x.key) === bId) && !s.people.some((p) => String(p.id) === bId), GONE_WAIT_MS);
				lines.push(`B closed its tab: A's tiles ${g.value.tiles.map((x) => x.display).join(', ')}, list ${g.value.people.map((p) => p.display).join(', ')} (${(g.ms / 1000).toFixed(1)} s)`);
				if (!g.ok) ok = false;
			} else {
				ok = false;
				lines.push(`not both in the meeting: A ${a0.state}, B ${b0.state}`);
			}
			const s0 = await snap('A');
			if (s0.state !== 'idle') await click('A', '#leave-button');
			const r = await waitFor('A', (s) => s.state === 'idle' && s.view === 'lobby' && allEnded(s) && pcsClosed(s), UI_WAIT_MS);
			lines.push(`A: ${describe(r.value)}`);
			if (!r.ok) ok = false;
		} catch (e) { ok = false; lines.push(errText(e)); }
		report(PLAN[tail], ok, lines);
	}
	{
		const lines = [];
		let ok = Object.keys(P).length === NAMES.length;
		for (const who of Object.keys(P)) {
			const bad = P[who].console.filter((c) => c.type === 'error' &&
				!(downSince && c.t >= downSince && c.t <= (upAgain || Date.now()) + REJOIN_WAIT_MS && DOWN_NOISE.test(c.line)));
			const noise = P[who].console.filter((c) => c.type === 'error').length - bad.length;
			if (P[who].errors.length || bad.length) ok = false;
			lines.push(`${who}: ${P[who].errors.length} page errors, ${bad.length} console errors (${noise} refused connections while stoa was down)`,
				...P[who].errors, ...bad.map((c) => c.line));
			if (bad.length) lines.push(...P[who].console.filter((c) => c.type === 'response').map((c) => c.line));
		}
		report(PLAN[tail + 1], ok, lines);
	}
	await run.reportStoaExit(PLAN[tail + 2]);
	run.reportSanitizers(PLAN[tail + 3], sanitizerFirstRun);
	// The pages' own event logs, read while the pages are still open
	// (finish() closes them).
	if (tap.failed) {
		for (const who of Object.keys(P)) {
			if (P[who].closed) continue;
			try { diag([`${who}: events: ${JSON.stringify(await evaluate(who, () => window.stoaMeeting.events))}`.slice(0, 3000)]); } catch { /* closed */ }
		}
	}
	const consoles = Object.fromEntries(Object.entries(P).map(([who, p]) => [who, p.console.map((c) => c.line)]));
	return run.finish({ t0, site, consoles, keep: [shotFile] });
}

runMain(main, tap);
