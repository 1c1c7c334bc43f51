#!/usr/bin/env node
// test_videoroom_meeting.mjs: a three-party meeting through
// janus.plugin.videoroom (Janus 1.x multistream API), with Janus's own
// janus.js in three headless Chromium pages (fake camera and microphone).
//
// The room is made by the test with the synchronous `create` request. Pages
// A, B and C join one after the other as publishers and publish camera
// (320x240) and mic; each also subscribes, on one multistream subscriber
// handle, to every feed it is told about (the `joined` publishers list and
// `publishers` events), one negotiation at a time: C, which finds A and B
// already there, does a single `join` listing both feeds; A and B `join`
// with the first feed that appears and add the second with `subscribe`.
// Every server offer is answered with createAnswer + `start`. Checks:
//   - `joined` lists exactly the publishers already in the room;
//   - every page decodes > MIN_FRAMES frames and receives > MIN_AUDIO audio
//     packets from EACH of the other two (getStats inbound-rtp, per mid,
//     mapped to the feed through the attached/updated streams), and shows a
//     playing tile per remote feed;
//   - listparticipants lists the three publishers;
//   - C leaves: janus.js hangup() on its publisher handle (the
//     PeerConnection closes, camera and mic tracks end), then `leave` on
//     the publisher handle ("leaving":"ok") and on the subscriber handle
//     ("left":"ok", then hangup). A and B get `unpublished` (media gone) and
//     `leaving` (left the room) for C, an `updated` offer (autoupdate) that
//     makes C's m-lines inactive, onremotetrack(false) for C's audio and
//     video, and drop C's tile, while they keep decoding each other.
//     (Media first, then leave: with `leave` sent first, Janus 1.1.2 takes
//     the participant out of the room at once, and the PeerConnection that
//     closes afterwards no longer updates its subscribers: their m-lines
//     for C stay as they were.)
//   - no uncaught page error and no janus.js error callback anywhere.
// Then the server must exit 0 on SIGINT with no sanitizer report. About 10 s
// (15 s with a sanitizer build on 2 cores).
//
// Environment, npm packages and network namespace: see lib.mjs. The page is
// in videoroom_page.mjs. Stoa runs with -E 127.0.0.1.

import path from 'node:path';

import {
	ORIGIN, WS_URL, createTap, errText, preflight, bundleVersions, makeTempSite, Stoa,
	createRun, recordConsole, runMain, createSteps,
} from './lib.mjs';
import { VIDEOROOM_PAGE, pageCall, pollPage, openPage, statsLine, finishRoomRun } from './videoroom_page.mjs';

const PAGE_NAME = 'stoa-test-videoroom.html';
const TOTAL_BUDGET_MS = 85000;   // whole test; the watchdog fails what is left
const ROOM = 5101;
const MIN_FRAMES = 60;           // per remote feed, on every page
const MIN_AUDIO = 50;            // audio packets per remote feed
const MEDIA_WAIT_MS = 30000;
const AFTER_LEAVE_FRAMES = 20;   // the remaining feed keeps decoding
const NAMES = ['A', 'B', 'C'];
const LEAVER = 'C';
const STAYERS = NAMES.filter((n) => n !== LEAVER);
const TRACKS = [
	{ type: 'audio', capture: true, recv: false },
	{ type: 'video', capture: { width: 320, height: 240 }, recv: false },
];

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'pages A, B, C load from the server; janus.js sessions over WebSocket; janus.plugin.videoroom attached',
	`create room ${ROOM} (publishers 6): {"videoroom":"created","room":${ROOM}}`,
	...NAMES.map((n, i) => `${n} joins as publisher (joined.publishers lists ${i ? NAMES.slice(0, i).join(' and ') : 'nobody'}) and publishes camera+mic: configured "ok", JSEP answer, webrtcup`),
	'each page is told of the two others (joined publishers list, then "publishers" events)',
	'subscriptions: one multistream handle per page; C joins listing A and B; A and B join with one feed and add the other with "subscribe"; every offer answered with start -> started',
	...NAMES.map((n) => `${n} decodes > ${MIN_FRAMES} frames and gets > ${MIN_AUDIO} audio packets from EACH of the other two (getStats per mid)`),
	'each page shows a playing tile (video element, videoWidth > 0) for each of the two remote feeds',
	'listparticipants: A, B and C, all publisher:true',
	`${LEAVER} leaves (hangup of its publisher, then leave on both handles): "leaving":"ok" and "left":"ok", its camera and mic tracks end (readyState "ended")`,
	`${STAYERS.join(' and ')} get both "unpublished" and "leaving" events for ${LEAVER}`,
	`${STAYERS.join(' and ')}: an "updated" offer (autoupdate) leaves ${LEAVER}'s m-lines inactive and its answer is accepted ("started"); onremotetrack(false) for its audio and video; its tile is removed`,
	`${STAYERS.join(' and ')} keep decoding each other after ${LEAVER} left (> ${AFTER_LEAVE_FRAMES} more frames)`,
	`listparticipants: only ${STAYERS.join(' and ')}`,
	'no uncaught page errors, no janus.js error callbacks; everyone leaves, janus.destroy() succeeds',
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

	const site = makeTempSite('stoa-vr-meeting-', env, { [PAGE_NAME]: VIDEOROOM_PAGE });
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	const P = {};   // name -> { page, errors, console, sessionId, id }
	let n = 2;           // next plan index for the numbered steps
	const t0 = Date.now();
	const steps = createSteps(report, { timed: false });
	const { step } = steps;
	const call = (who, fn, arg, ms) => pageCall(P[who].page, fn, arg, ms);
	const others = (who) => NAMES.filter((x) => x !== who);

	try {
		await run.start(env, PLAN[0], PLAN[1]);

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of NAMES) {
				const context = await run.browser.newContext();
				const page = await context.newPage();
				P[who] = { page, errors: [], console: [] };
				page.on('pageerror', (e) => P[who].errors.push(errText(e)));
				recordConsole(page, P[who].console);
			}
			await Promise.all(NAMES.map(async (who) => {
				P[who].sessionId = await openPage(P[who].page, ORIGIN, PAGE_NAME, WS_URL, `stoa-vr-meeting-${who}`);
				const h = await call(who, () => window.vr.attachPublisher());
				lines.push(`${who}: session ${P[who].sessionId}, publisher handle ${h.handleId}`);
			}));
			return { lines: lines.sort() };
		});

		await step(PLAN[n++], async () => {
			const r = await call('A', (room) => window.vr.request('pub', { request: 'create', room, description: 'Stoa meeting test', publishers: 6 }), ROOM);
			if (r.videoroom !== 'created' || r.room !== ROOM) return { fail: true, lines: [`got ${JSON.stringify(r)}`] };
			return { lines: [JSON.stringify(r)] };
		});

		for (const [i, who] of NAMES.entries()) {
			await step(PLAN[n++], async () => {
				const before = NAMES.slice(0, i);
				// The room announces a publisher once its PeerConnection is up;
				// wait until the server lists the earlier ones as publishing.
				if (before.length) {
					const ids = before.map((x) => P[x].id);
					const r = await pollPage(P[who].page, (room) => window.vr.request('pub', { request: 'listparticipants', room }), ROOM,
						(x) => ids.every((id) => (x.participants || []).some((p) => p.id === id && p.publisher === true)), 10000);
					if (!r.ok) return { fail: true, lines: [`listparticipants never showed ${before.join(', ')} publishing`, JSON.stringify(r.value)] };
				}
				const joined = await call(who, ([room, name]) => window.vr.join(room, name, true), [ROOM, who]);
				P[who].id = joined.id;
				const lines = [`${who}: id ${joined.id}, private_id ${joined.private_id}, publishers ${JSON.stringify((joined.publishers || []).map((p) => p.id))}`];
				const listed = (joined.publishers || []).map((p) => p.id).sort();
				const want = before.map((x) => P[x].id).sort();
				if (joined.room !== ROOM || typeof joined.id !== 'number' || JSON.stringify(listed) !== JSON.stringify(want))
					return { fail: true, lines: [...lines, `expected room ${ROOM}, a numeric id, publishers ${JSON.stringify(want)}`, JSON.stringify(joined)] };
				const pub = await call(who, ([tracks]) => window.vr.publish(tracks, {}, 15000), [TRACKS], 25000);
				lines.push(`configured: ${JSON.stringify(pub.msg).slice(0, 300)}`,
					`answer: ${pub.answer.split('\n').filter((l) => l.startsWith('m=') || l.startsWith('a=mid')).map((l) => l.trim()).join(' | ')}`);
				return { lines };
			});
		}

		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			for (const who of NAMES) {
				const want = others(who).map((x) => P[x].id).sort();
				const r = await pollPage(P[who].page, () => window.vr.feeds(), null, (f) => JSON.stringify(f.slice().sort()) === JSON.stringify(want), 10000);
				const s = await call(who, () => window.vr.state());
				lines.push(`${who} knows ${JSON.stringify(r.value)}; events: ${s.feedEvents.map((e) => `${e.type} ${e.id}`).join(', ') || 'none'}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			const problems = [];
			const incomplete = [];
			for (const who of NAMES) {
				const want = others(who).map((x) => P[x].id);
				const r = await pollPage(P[who].page, () => window.vr.subscription(), null,
					(s) => s && !s.busy && s.started > 0 && want.every((id) => s.subscribed.includes(id) &&
						['audio', 'video'].every((k) => s.streams.some((x) => x.feed_id === id && x.type === k && x.active !== false))), 15000);
				const s = r.value || {};
				const reqs = (s.requests || []).map((q) => `${q.request} [${q.feeds.map((f) => NAMES.find((x) => P[x].id === f) || f).join(',')}]`);
				lines.push(`${who}: handle ${s.handleId}, ${reqs.join(', then ')}; ${s.negotiations ? s.negotiations.length : 0} offer(s) answered, ${s.started} started; streams ${(s.streams || []).map((x) => `${x.mid}=${x.type}/${NAMES.find((y) => P[y].id === x.feed_id) || x.feed_id}${x.active === false ? '(inactive)' : ''}`).join(' ')}`);
				if (!r.ok) { incomplete.push(who); problems.push(`${who}: subscription not complete: ${JSON.stringify(s).slice(0, 600)}`); continue; }
				// Feeds in a request are named in sorted order (the joined list has no order).
				const got = (s.requests || []).map((q) => `${q.request} [${q.feeds.map((f) => NAMES.find((x) => P[x].id === f) || f).sort().join(',')}]`);
				const expect = who === 'C' ? ['join [A,B]'] : [`join [${others(who).filter((x) => x !== 'C')[0]}]`, 'subscribe [C]'];
				if (JSON.stringify(got) !== JSON.stringify(expect)) problems.push(`${who}: expected ${expect.join(', then ')}`);
			}
			if (incomplete.length) steps.broken = `subscriptions incomplete on ${incomplete.join(', ')}`;
			return problems.length ? { fail: true, lines: [...problems, ...lines] } : { lines };
		}, false);

		// Media on all three pages at once, then one line per page.
		const media = {};
		if (steps.broken === null) {
			await Promise.all(NAMES.map(async (who) => {
				const ids = others(who).map((x) => P[x].id);
				media[who] = await pollPage(P[who].page, () => window.vr.stats(), null,
					(s) => ids.every((id) => s[id] && s[id].video && s[id].video.framesDecoded > MIN_FRAMES && s[id].audio && s[id].audio.packetsReceived > MIN_AUDIO),
					MEDIA_WAIT_MS, 500).catch((e) => ({ ok: false, value: null, error: errText(e) }));
				media[who].at = Date.now() - t0;
			}));
		}
		for (const who of NAMES) {
			await step(PLAN[n++], async () => {
				const m = media[who];
				const named = statsLine(m.value).replace(/feed (\d+)/g, (_, id) => `${NAMES.find((x) => String(P[x].id) === id) || id}`);
				if (!m.ok) return { fail: true, lines: [`after ${MEDIA_WAIT_MS / 1000} s: ${named}`, m.error || ''] };
				return { lines: [`${named} (at ${(m.at / 1000).toFixed(1)} s)`] };
			}, false);
		}

		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			for (const who of NAMES) {
				const want = others(who).map((x) => P[x].id).sort();
				const r = await pollPage(P[who].page, () => window.vr.state().tiles, null,
					(t) => JSON.stringify(t.map((x) => x.feed).sort()) === JSON.stringify(want) && t.every((x) => x.videoWidth > 0 && x.currentTime > 0), 8000);
				lines.push(`${who}: ${r.value.map((x) => `${NAMES.find((y) => P[y].id === x.feed) || x.feed} ${x.videoWidth}px t=${x.currentTime.toFixed(1)} [${x.tracks.join(' ')}]`).join('; ')}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const r = await call('A', (room) => window.vr.request('pub', { request: 'listparticipants', room }), ROOM);
			const want = NAMES.map((x) => P[x].id).sort();
			const got = (r.participants || []).map((p) => p.id).sort();
			const ok = r.videoroom === 'participants' && r.room === ROOM && JSON.stringify(got) === JSON.stringify(want) &&
				r.participants.every((p) => p.publisher === true);
			return ok ? { lines: [JSON.stringify(r)] } : { fail: true, lines: [`expected ${JSON.stringify(want)} all publishing`, JSON.stringify(r)] };
		}, false);

		// ---- C leaves
		const before = {};
		for (const who of STAYERS) if (steps.broken === null) before[who] = await call(who, () => window.vr.stats());
		const leaveAt = Date.now();
		await step(PLAN[n++], async () => {
			const r = await call(LEAVER, () => window.vr.leave(8000), null, 30000);
			const lines = [`publisher hangup: webrtcState ${JSON.stringify(r.hangup)}`, `replies: ${JSON.stringify(r.replies)}`, `local tracks: ${JSON.stringify(r.localTracks)}`];
			const problems = [];
			if (r.errors.length) problems.push(...r.errors);
			if (!r.replies.pub || r.replies.pub.leaving !== 'ok') problems.push('publisher handle: no {"leaving":"ok"}');
			if (!r.replies.sub || r.replies.sub.left !== 'ok') problems.push('subscriber handle: no {"left":"ok"}');
			const kinds = r.localTracks.map((t) => t.kind).sort().join(',');
			if (kinds !== 'audio,video' || r.localTracks.some((t) => t.readyState !== 'ended')) problems.push('expected one audio and one video local track, both ended');
			return problems.length ? { fail: true, lines: [...problems, ...lines] } : { lines };
		});

		const cid = P[LEAVER] ? P[LEAVER].id : null;
		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			for (const who of STAYERS) {
				const r = await pollPage(P[who].page, () => window.vr.state().feedEvents, null,
					(ev) => ['unpublished', 'leaving'].every((type) => ev.some((e) => e.id === cid && e.type === type)), 10000);
				const got = r.value.filter((e) => e.id === cid && e.type !== 'publishers');
				lines.push(`${who}: ${got.map((e) => `${e.type} +${e.t - leaveAt} ms`).join(', ') || 'nothing'}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			const problems = [];
			for (const who of STAYERS) {
				// C's m-lines must be made inactive (a=inactive, or port 0) by an
				// "updated" offer after the leave; Chromium drops the transceivers
				// of port-0 m-lines, so they are checked in the offer itself.
				const gone = (x) => {
					const offs = x.state.remoteEvents.filter((e) => e.feed === cid && e.on === false && e.t >= leaveAt).map((e) => e.kind);
					const cmids = [...new Set(x.state.remoteEvents.filter((e) => e.feed === cid).map((e) => e.mid))];
					const offers = x.sub.negotiations.filter((g) => g.at >= leaveAt && g.videoroom === 'updated');
					const inactive = (g) => cmids.every((mid) => { const l = g.mlines.find((m) => m.mid === mid); return !l || l.port === 0 || l.dir === 'inactive'; });
					const offer = offers.find(inactive) || offers[offers.length - 1];
					return { offs, cmids, offer, tr: x.trans.filter((t) => t.feed === cid),
						ok: offs.includes('audio') && offs.includes('video') && !x.state.tiles.some((t) => t.feed === cid) &&
							cmids.length >= 2 && !!offer && inactive(offer) && !!offer.started };
				};
				const r = await pollPage(P[who].page, () => ({ state: window.vr.state(), trans: window.vr.transceivers(), sub: window.vr.subscription() }), null,
					(x) => gone(x).ok, 12000);
				const g = gone(r.value);
				const lines1 = g.offer ? g.offer.mlines.filter((m) => g.cmids.includes(m.mid)).map((m) => `${m.mid}:${m.kind} port ${m.port} ${m.dir}`).join(', ') +
					(g.offer.started ? ', answered, "started"' : `, not started${g.offer.failed ? ': ' + g.offer.failed : ''}`) : 'none';
				lines.push(`${who}: onremotetrack(false) for ${g.offs.join(',') || 'nothing'}; "updated" offer after the leave: ${lines1}; ` +
					`${LEAVER}'s transceivers now ${JSON.stringify(g.tr.map((t) => `${t.mid}:${t.kind}:${t.currentDirection}`))}; tiles ${JSON.stringify(r.value.state.tiles.map((t) => NAMES.find((y) => P[y].id === t.feed) || t.feed))}`);
				if (!r.ok) {
					problems.push(`${who}: not all of: onremotetrack(false) audio+video, "updated" offer, m-lines inactive, tile removed`);
					const msgs = await call(who, () => window.vr.messages('sub', 0));
					lines.push(`${who}: subscriber messages since the leave: ${JSON.stringify(msgs.filter((m) => m.t >= leaveAt).map((m) => ({ ...m.msg, jsep: m.jsep || undefined }))).slice(0, 1500)}`);
				}
			}
			return problems.length ? { fail: true, lines: [...problems, ...lines] } : { lines };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			let ok = true;
			for (const who of STAYERS) {
				const other = P[STAYERS.find((x) => x !== who)].id;
				const base = (before[who][other] && before[who][other].video) ? before[who][other].video.framesDecoded : 0;
				const r = await pollPage(P[who].page, () => window.vr.stats(), null,
					(s) => s[other] && s[other].video && s[other].video.framesDecoded > base + AFTER_LEAVE_FRAMES, 10000);
				const now = r.value[other] && r.value[other].video ? r.value[other].video.framesDecoded : 0;
				lines.push(`${who}: frames from ${STAYERS.find((x) => x !== who)} ${base} -> ${now}`);
				if (!r.ok) ok = false;
			}
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const want = STAYERS.map((x) => P[x].id).sort();
			const r = await pollPage(P.A.page, (room) => window.vr.request('pub', { request: 'listparticipants', room }), ROOM,
				(x) => JSON.stringify((x.participants || []).map((p) => p.id).sort()) === JSON.stringify(want), 5000);
			return r.ok ? { lines: [JSON.stringify(r.value)] } : { fail: true, lines: [`expected ${JSON.stringify(want)}`, JSON.stringify(r.value)] };
		}, false);
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- teardown, reported whatever happened before
	return finishRoomRun(run, tap, PLAN, { pages: P, expected: NAMES.length, t0, site, broken: steps.broken });
}

runMain(main, tap);
