#!/usr/bin/env node
// test_janus_demos.mjs: Janus's own demo pages, unchanged, against Stoa.
//
// Debian's janus-demos package (1.1.2) ships the pages people try first
// with Janus, on its own janus.js (libjs-janus-gateway 1.1.2, not the npm
// bundle the other tests use), jQuery and bootbox. They talk to
// http://<host>:8088/janus (their settings.js) and the VideoRoom demo joins
// room 1234. This test serves a copy of /usr/share/janus/demos from Stoa,
// with the VideoRoom config installed the way a user installs it (the
// sample copied to janus.plugin.videoroom.jcfg), and clicks through two
// demos in two Chromium pages each, like a person would:
//   - videoroomtest.html: A and B press Start, type a name and join room
//     1234; each publishes its camera and subscribes to the other; each
//     decodes > MIN_FRAMES frames of the other (getStats on the page's own
//     RTCPeerConnections, recorded by a wrapper installed before the page
//     runs) and shows the other's name; B presses Stop, and A's page drops
//     B's feed (its tile emptied and hidden, the subscription closed);
//   - mvideoroomtest.html, the multistream demo (one subscription
//     PeerConnection for every feed): the same, except that when B leaves,
//     A's subscription stays open and B's media in it stops;
//   - videocalltest.html: A registers "alice", B "bob"; A calls bob, B
//     answers in the bootbox dialog; each decodes > MIN_FRAMES frames of the
//     other; A hangs up and both pages are back to "Call" with their
//     PeerConnections closed.
// A bootbox alert on any page is a failure (the demos report every error
// that way), except the incoming-call dialog. About 30 s.
// Environment, npm packages and network namespace: see lib.mjs.

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, createTap, errText, preflight, makeTempSite, Stoa, sleep, createSteps, createRun,
	recordConsole, runMain,
} from './lib.mjs';

const DEMOS = '/usr/share/janus/demos';
const TOTAL_BUDGET_MS = 90000;
const MIN_FRAMES = 60;
const MEDIA_WAIT_MS = 30000;
const UI_WAIT_MS = 10000;

// The two VideoRoom demos: one subscription handle (and PeerConnection) per
// remote feed, and the multistream one with a single subscription for all.
const ROOM_DEMOS = [
	{ file: 'videoroomtest.html', multi: false },
	{ file: 'mvideoroomtest.html', multi: true },
];
const roomPlan = ({ file, multi }) => [
	`${file}: A and B press Start, the name form shows (session and janus.plugin.videoroom handle made by the page)`,
	`${file}: A joins room 1234 as "Alice", then B as "Bob"; each page shows its own video and the other's name`,
	`${file}: A and B each decode > ${MIN_FRAMES} frames of the other and receive its audio`,
	multi ? `${file}: B presses Stop; A empties and hides B's tile, and B's media stops in A's one subscription`
		: `${file}: B presses Stop; A empties and hides B's tile and closes that subscription`,
];
const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts with the sample VideoRoom config installed, serving a copy of Debian\'s janus-demos',
	...ROOM_DEMOS.flatMap(roomPlan),
	'videocalltest.html: A registers "alice", B "bob" (each shows "Registered as ...")',
	'videocalltest.html: A calls bob; B gets the bootbox "Incoming call" dialog and presses Answer',
	`videocalltest.html: A and B each decode > ${MIN_FRAMES} frames of the other`,
	'videocalltest.html: A presses Hangup; both pages go back to "Call", hide the videos and close their PeerConnections',
	'no uncaught page errors and no bootbox alert on any page',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// Runs in every page before its scripts: keeps each RTCPeerConnection the
// page (janus.js) makes, so the test can read what flowed through it.
function recordPeerConnections() {
	const Orig = window.RTCPeerConnection;
	window.__pcs = [];
	window.RTCPeerConnection = class extends Orig {
		constructor(...args) { super(...args); window.__pcs.push(this); }
	};
}

// Per PeerConnection: states, and what its receivers got.
async function pcStats() {
	const out = [];
	for (const pc of window.__pcs) {
		const r = { conn: pc.connectionState, sig: pc.signalingState, frames: 0, audio: 0 };
		try {
			(await pc.getStats()).forEach((s) => {
				if (s.type !== 'inbound-rtp') return;
				if (s.kind === 'video') r.frames += s.framesDecoded || 0;
				if (s.kind === 'audio') r.audio += s.packetsReceived || 0;
			});
		} catch { /* closed */ }
		out.push(r);
	}
	return out;
}

// The text of the bootbox modals on screen.
function modals() {
	return [...document.querySelectorAll('.bootbox.modal')].filter((m) => m.offsetParent !== null || m.classList.contains('in') || m.classList.contains('show'))
		.map((m) => m.innerText.trim().replace(/\s+/g, ' '));
}

async function main() {
	const env = await preflight();
	if (!env) return 0;
	if (!fs.existsSync(path.join(DEMOS, 'videoroomtest.html'))) {
		process.stdout.write(`1..0 # SKIP ${DEMOS} not found (apt-get install janus-demos)\n`);
		return 0;
	}
	tap.header();

	const site = makeTempSite('stoa-janus-demos-', env, {});
	const demoDir = path.join(site.tmp, 'demos');
	// A copy with the package's symlinks (javascript -> /usr/share/javascript)
	// resolved: Stoa serves only what is inside its html folder.
	fs.cpSync(DEMOS, demoDir, { recursive: true, dereference: true });
	// settings.js is the file users edit to point the demos at their server.
	// Debian's copy lacks the `token` and `apisecret` the demo scripts read
	// (a packaging slip: every page stops with "token is not defined"), so
	// declare them, unset, as upstream's settings.js does.
	fs.appendFileSync(path.join(demoDir, 'settings.js'), '\nvar token = null;\nvar apisecret = null;\n');
	fs.copyFileSync(path.join(process.env.STOA_SRCDIR, 'conf', 'janus.plugin.videoroom.jcfg.sample'),
		path.join(site.confDir, 'janus.plugin.videoroom.jcfg'));
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: demoDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });
	const t0 = Date.now();
	const P = {};          // 'A' | 'B' -> { page, errors, console, alerts }
	const steps = createSteps(report);
	const { step } = steps;
	let n = 2;

	async function openPages(file) {
		for (const who of ['A', 'B']) {
			if (P[who]) await P[who].page.context().close().catch(() => {});
			const context = await run.browser.newContext();
			await context.addInitScript(recordPeerConnections);
			const page = await context.newPage();
			const rec = { page, errors: P[who] ? P[who].errors : [], console: [], alerts: P[who] ? P[who].alerts : [] };
			page.on('pageerror', (e) => rec.errors.push(`${file}: ${errText(e)}`));
			recordConsole(page, rec.console);
			P[who] = rec;
			await page.goto(`${ORIGIN}/${file}`, { waitUntil: 'load', timeout: UI_WAIT_MS });
		}
	}
	const stats = (who) => P[who].page.evaluate(pcStats);
	// Records bootbox texts; `allow` matches the ones the flow expects.
	async function alerts(who, allow) {
		const texts = await P[who].page.evaluate(modals).catch(() => []);
		for (const t of texts) if (!(allow && allow.test(t)) && !P[who].alerts.includes(t)) P[who].alerts.push(t);
		return texts;
	}
	async function until(what, fn, ms) {
		const end = Date.now() + ms;
		let last = null;
		while (Date.now() < end) {
			last = await fn();
			if (last.ok) return last;
			await sleep(250);
		}
		throw new Error(`${what}: not within ${ms} ms; last: ${JSON.stringify(last).slice(0, 600)}`);
	}
	// Waits until some PeerConnection of the page decoded > min frames, and
	// (with audio) received audio packets.
	const decoding = (who, min, audio) => until(`${who} decoding`, async () => {
		const s = await stats(who);
		return { ok: s.some((p) => p.frames > min && (!audio || p.audio > 0)), s };
	}, MEDIA_WAIT_MS);
	async function startAndName(who, name) {
		const { page } = P[who];
		await page.click('#start');
		await page.waitForSelector('#username:visible', { timeout: UI_WAIT_MS });
		await page.fill('#username', name);
		await page.click('#register');
	}
	const remoteTiles = (who) => P[who].page.evaluate(() => [...document.querySelectorAll('[id^=remote]')]
		.filter((e) => /^remote\d+$/.test(e.id)).map((e) => ({ id: e.id, shown: e.offsetParent !== null, text: e.textContent.trim() })));
	// Two people in room 1234 through one of the VideoRoom demos, then one
	// leaves.
	async function roomDemo({ file, multi }) {
		await step(PLAN[n++], async () => {
			await openPages(file);
			for (const who of ['A', 'B']) {
				await P[who].page.click('#start');
				await P[who].page.waitForSelector('#username:visible', { timeout: UI_WAIT_MS });
			}
			return {};
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const [who, name] of [['A', 'Alice'], ['B', 'Bob']]) {
				await P[who].page.fill('#username', name);
				await P[who].page.click('#register');
				await P[who].page.waitForSelector('#videolocal video', { timeout: UI_WAIT_MS });
				lines.push(`${who}: joined, own video shown`);
			}
			for (const [who, other] of [['A', 'Bob'], ['B', 'Alice']]) {
				await until(`${who} shows ${other}`, async () => {
					const tiles = await remoteTiles(who);
					await alerts(who);
					return { ok: tiles.some((t) => t.shown && t.text === other), tiles };
				}, UI_WAIT_MS);
				lines.push(`${who} shows ${other}`);
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of ['A', 'B']) {
				const r = await decoding(who, MIN_FRAMES, true);
				lines.push(`${who}: ${JSON.stringify(r.s)}`);
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			const before = await stats('A');
			await P.B.page.click('#start');   // now "Stop": janus.destroy()
			let frames = null;
			const r = await until('A drops Bob', async () => {
				const tiles = await remoteTiles('A');
				const s = await stats('A');
				const bobShown = tiles.some((t) => t.shown && t.text === 'Bob');
				// The PeerConnection that decoded Bob (A's own only sends): closed,
				// or (multistream) still open with no new frame for a second.
				const sub = s.findIndex((p, i) => before[i] && before[i].frames > 0);
				let gone;
				if (!multi) gone = s[sub].sig === 'closed';
				else {
					gone = frames !== null && frames.n === s[sub].frames && Date.now() - frames.t >= 1000;
					if (frames === null || frames.n !== s[sub].frames) frames = { n: s[sub].frames, t: Date.now() };
				}
				await alerts('A');
				return { ok: !bobShown && gone, tiles, s };
			}, UI_WAIT_MS);
			return { lines: [`A: ${JSON.stringify(r.tiles)}`, `A's PeerConnections: ${JSON.stringify(r.s)}`] };
		});
	}

	try {
		await run.start(env, PLAN[0], PLAN[1]);

		// ---- videoroomtest.html, mvideoroomtest.html
		for (const demo of ROOM_DEMOS) await roomDemo(demo);

		// ---- videocalltest.html
		await step(PLAN[n++], async () => {
			await openPages('videocalltest.html');
			const lines = [];
			for (const [who, name] of [['A', 'alice'], ['B', 'bob']]) {
				await startAndName(who, name);
				await P[who].page.waitForSelector('#youok:visible', { timeout: UI_WAIT_MS });
				lines.push(`${who}: ${(await P[who].page.textContent('#youok')).trim()}`);
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			await P.A.page.fill('#peer', 'bob');
			await P.A.page.click('#call');
			const r = await until('B gets the incoming call', async () => {
				const texts = await alerts('B', /Incoming call/i);
				return { ok: texts.some((t) => /Incoming call from alice/i.test(t)), texts };
			}, UI_WAIT_MS);
			await P.B.page.click('.bootbox .btn-success');
			return { lines: [`B's dialog: ${JSON.stringify(r.texts)}`] };
		});

		await step(PLAN[n++], async () => {
			const lines = [];
			for (const who of ['A', 'B']) {
				const r = await decoding(who, MIN_FRAMES, false);
				lines.push(`${who}: ${JSON.stringify(r.s)}`);
			}
			return { lines };
		});

		await step(PLAN[n++], async () => {
			await P.A.page.click('#call');   // now "Hangup"
			const lines = [];
			for (const who of ['A', 'B']) {
				const r = await until(`${who} back to Call`, async () => {
					const button = (await P[who].page.textContent('#call')).trim();
					const videos = await P[who].page.isVisible('#videos');
					const s = await stats(who);
					await alerts(who);
					return { ok: button === 'Call' && !videos && s.length > 0 && s.every((p) => p.sig === 'closed'), button, videos, s };
				}, UI_WAIT_MS);
				lines.push(`${who}: button "${r.button}", videos shown ${r.videos}, PeerConnections ${JSON.stringify(r.s.map((p) => p.sig))}`);
			}
			return { lines };
		});
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	tap.notRunUpTo(PLAN.length - 3, steps.broken || 'aborted');
	{
		const lines = [];
		for (const who of Object.keys(P)) {
			await alerts(who, /Incoming call/i);
			for (const e of P[who].errors) lines.push(`${who}: page error: ${e}`);
			for (const a of P[who].alerts) lines.push(`${who}: bootbox: ${a}`);
		}
		report(PLAN[PLAN.length - 3], lines.length === 0 && Object.keys(P).length === 2, lines);
	}
	await run.closeBrowser();
	await run.reportStoaExit(PLAN[PLAN.length - 2]);
	run.reportSanitizers(PLAN[PLAN.length - 1]);
	return run.finish({ t0, site, pages: P });
}

runMain(main, tap);
