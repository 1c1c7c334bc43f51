#!/usr/bin/env node
// test_admin_page.mjs: the admin dashboard (html/admin.html, served by stoa)
// on the REST admin API (/api/v1 on 127.0.0.1:7088), driven like a person
// would drive it in headless Chromium, with a second page that joins a room
// and publishes the fake camera and microphone through html/js/janus.mjs.
//
// Stoa runs with --admin-secret (every scope) and a stoa.jcfg that adds a
// read-only rest_api token. The dashboard is opened with #token=<secret>;
// the test clicks and types into it, reads its state from the DOM and from
// window.stoaAdmin (rooms, participants, the plot's samples), and checks
// the server's side with its own REST requests (Node fetch with the token).
// Flows:
//   - index.html links to admin.html; the token leaves the address bar and
//     stays in sessionStorage only;
//   - create a room through the form: REST GET shows it, the table lists it
//     (and a private room made over REST, with its flags); the API's 409 (id
//     taken) and 400 (publishers 0) show next to the fields they name;
//   - edit the description and bitrate in the Edit dialog: REST shows them;
//   - a participant page joins with the PIN and publishes: the dashboard
//     lists it, its plot's samples reach a bitrate > 0 (REST details agree),
//     the loss line has samples (from the session's counters); muting its
//     video through the UI reaches REST and the participant (moderation
//     event), unmuting too; a screenshot of that state;
//   - Kick: the participant gets leaving/kicked, REST lists nobody, the card
//     goes; Destroy (through the confirm dialog): REST GET is 404, the row goes;
//   - a read-only token: a create gets 403, the page says so and hides every
//     write control; a wrong token: the status says it was refused;
//   - no uncaught page errors, no console errors. The only ones allowed are
//     Chromium's own "Failed to load resource" lines for the 4xx answers a
//     step provokes on purpose (409/400 from the form, 401 for the wrong
//     token, 403 for the read-only one) and for its /favicon.ico request on
//     index.html (404: that page names no icon); the test lists them;
//   - stoa exits 0 on SIGINT with no sanitizer report; then the dashboard
//     says the API is unreachable.
// Waits are deadlines on page state. About 30 s.
//
// The screenshot goes to tests/browser/test_admin_page-dashboard.png in the
// build tree (or the temporary folder when stoa is not a build's src/stoa).
// Environment, npm packages and network namespace: see lib.mjs.

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, createTap, withTimeout, errText, preflight, makeTempSite, Stoa, sleep, screenshotPath,
	createRun, runMain,
} from './lib.mjs';

const TOTAL_BUDGET_MS = 90000;
const UI_WAIT_MS = 8000;
const MEDIA_WAIT_MS = 20000;
const SECRET = 'adm-' + Math.random().toString(36).slice(2, 12);
const READER = 'ro-' + Math.random().toString(36).slice(2, 12);
const API = 'http://127.0.0.1:7088/api/v1';
const ROOM = 4242;
const PRIVATE_ROOM = 4343;
// The VideoRoom's built-in room (Janus's demo room), there with no config file.
const DEMO_ROOM = 1234;
const PIN = '2718';
const MIN_SAMPLES = 6;           // bitrate > 0 samples before the screenshot

// The participant: janus.mjs, join as publisher, publish camera and mic.
const PUBLISHER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stoa: admin test publisher</title><link rel="icon" href="data:,"></head><body>
<script type="module">
import { Session } from './js/janus.mjs';
const st = { events: [], core: [], state: 'idle', error: null, id: null, pc: null };
window.pub = st;
window.publish = async (room, display, pin) => {
	try {
		st.state = 'connecting';
		const session = await Session.connect({ onLost: (why) => st.core.push('lost: ' + why) });
		const handle = await session.attach('janus.plugin.videoroom');
		handle.onevent = ({ data }) => st.events.push(data);
		handle.oncore = (m) => st.core.push(m.janus);
		const { data } = await handle.message({ request: 'join', ptype: 'publisher', room, display, pin });
		st.id = data.id;
		const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
		const pc = new RTCPeerConnection({ iceServers: [] });
		st.pc = pc;
		for (const t of stream.getTracks()) pc.addTrack(t, stream);
		handle.bindPeerConnection(pc);
		const offer = await pc.createOffer();
		await pc.setLocalDescription(offer);
		const { jsep } = await handle.message({ request: 'publish' }, { type: offer.type, sdp: offer.sdp });
		await pc.setRemoteDescription(jsep);
		st.state = 'publishing';
		return st.id;
	} catch (e) {
		st.state = 'failed';
		st.error = String(e && e.message ? e.message : e);
		throw e;
	}
};
</script></body></html>
`;

const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts with --admin-secret and a read-only rest_api token, and listens on 8088, 8188 and 7088',
	'index.html links to admin.html ("Admin dashboard")',
	'admin.html#token=<secret> connects: dashboard shown, the fragment is gone from the address bar, the token is in sessionStorage only',
	'create a room through the form (id, description, publishers, bitrate, PIN, secret): REST GET shows it and the table lists it',
	'a private room made over REST shows in the table (include=private) with its "private" and "PIN" flags',
	'the form shows the API\'s errors next to the fields: 409 on the room id (taken), 400 on publishers (0)',
	'Edit dialog: new description and bitrate; REST GET shows them and so does the table',
	'a participant page (janus.mjs) joins with the PIN and publishes the fake camera and mic: its PeerConnection connects',
	'the dashboard shows the participant and its streams (opus, vp8); the plot gets samples with bitrate > 0; REST details report bitrate > 0',
	'the loss line has samples (the session\'s packet and loss counters); the legend shows a loss figure',
	'Mute on the video stream: REST shows it moderated and the participant gets "moderation: muted"; Unmute undoes both',
	'a screenshot of the dashboard (rooms, the participant, its plot) is saved',
	'Kick: the participant gets leaving "ok" / reason "kicked", REST lists nobody, the card disappears, focus goes to the participants heading',
	'Destroy (through the confirm dialog, focus on Cancel first): REST GET returns 404, the row disappears',
	'a read-only token: creating a room gets 403, the page says so and hides every write control; nothing was created',
	'a wrong token: the status region says the token was refused and the sign-in form is shown',
	'no uncaught page errors and no console errors',
	'stoa exits with status 0 within 5 s of SIGINT',
	'with stoa gone, the dashboard says the REST API is unreachable',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag } = tap;

// ------------------------------------------------------------------ in-page probes
const SNAP = () => {
	const a = window.stoaAdmin;
	const el = (id) => document.getElementById(id);
	if (!a) return null;
	const visible = (e) => !!(e && e.offsetParent !== null);
	return {
		state: a.state, canWrite: a.canWrite, selected: a.selected, rooms: a.rooms, participants: a.participants,
		status: el('status').textContent, statusError: el('status').classList.contains('error'),
		dashboard: !el('dashboard').hidden, signin: !el('signin').hidden, signinError: el('signin-error').textContent,
		url: location.href, hash: location.hash, search: location.search,
		stored: sessionStorage.getItem('stoa-admin-token'), local: Object.keys(localStorage),
		rows: [...document.querySelectorAll('#admin-rooms-body tr')].map((tr) => ({
			room: Number(tr.dataset.room), cells: [...tr.children].map((c) => c.textContent.trim().replace(/\s+/g, ' ')),
			selected: tr.classList.contains('selected') })),
		cards: [...document.querySelectorAll('#participants-list .participant')].map((c) => ({
			id: Number(c.dataset.participant), name: c.querySelector('.name').textContent,
			legend: c.querySelector('.legend').textContent.replace(/\s+/g, ' ').trim(),
			streams: [...c.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent.trim())),
			plot: { w: c.querySelector('canvas').width, h: c.querySelector('canvas').height, label: c.querySelector('canvas').getAttribute('aria-label') } })),
		createError: el('create-error').textContent, editError: el('edit-error').textContent,
		invalid: [...document.querySelectorAll('[aria-invalid="true"]')].map((e) => e.id),
		editOpen: el('edit-dialog').open, destroyOpen: el('destroy-dialog').open,
		readOnly: document.body.classList.contains('read-only'),
		writeVisible: [...document.querySelectorAll('.write')].filter(visible).map((e) => e.id || e.getAttribute('aria-label') || e.className),
		createVisible: visible(el('create')),
		active: document.activeElement ? document.activeElement.id || document.activeElement.getAttribute('aria-label') || document.activeElement.tagName : null,
	};
};

// REST from the test itself.
async function rest(method, p, body, token = SECRET) {
	const headers = { Authorization: `Bearer ${token}` };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(API + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
	const text = await res.text();
	let json = null;
	try { json = text ? JSON.parse(text) : null; } catch { /* left null */ }
	return { status: res.status, json, text };
}
const bitrateOf = (details) => ((details && details.streams) || []).reduce((s, x) => s + (x.bitrate || 0), 0);

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();

	const site = makeTempSite('stoa-admin-page-', env, { 'publisher.html': PUBLISHER_PAGE });
	fs.writeFileSync(path.join(site.confDir, 'stoa.jcfg'),
		`rest_api: {\n\ttokens = (\n\t\t{ token = "${READER}"; scopes = "read"; }\n\t);\n}\n`);
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1', '--admin-secret', SECRET] });
	const shotFile = screenshotPath(env, site, 'test_admin_page-dashboard.png');
	const run = createRun({ tap, stoa, budgetMs: TOTAL_BUDGET_MS });

	// Every page's uncaught errors and console errors, with the step they came in.
	const errors = [];
	const consoleErrors = [];
	const consoleLines = [];
	let currentStep = '';
	const allowed = new Map();      // step -> [RegExp]: console errors a step provokes on purpose
	const allow = (re) => { if (!allowed.has(currentStep)) allowed.set(currentStep, []); allowed.get(currentStep).push(re); };
	const watch = (who, page) => {
		page.on('pageerror', (e) => errors.push(`${who}: ${errText(e)}`));
		page.on('console', (m) => {
			consoleLines.push(`${who} [${m.type()}] ${m.text()}`);
			if (consoleLines.length > 200) consoleLines.shift();
			if (m.type() === 'error') consoleErrors.push({ who, step: currentStep, text: m.text(), url: (m.location() || {}).url || '' });
		});
	};

	let page = null, pub = null;
	let broken = null;
	let n = 2;
	const t0 = Date.now();
	const step = async (name, fn, breaks = true) => {
		if (broken !== null) { report(name, false, [`not run: ${broken}`]); return false; }
		currentStep = name;
		const ts = Date.now();
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

	const evaluate = (pg, fn, arg, ms = 10000) => withTimeout(pg.evaluate(fn, arg), ms, 'page.evaluate');
	const snap = (pg = page) => evaluate(pg, SNAP);
	const waitFor = async (pred, ms, probe = SNAP, pg = page, arg = undefined) => {
		const start = Date.now();
		for (;;) {
			const value = await evaluate(pg, probe, arg);
			if (pred(value)) return { ok: true, value, ms: Date.now() - start };
			if (Date.now() - start >= ms) return { ok: false, value, ms: Date.now() - start };
			await sleep(100);
		}
	};
	// Polls an async Node-side check (REST) until pred holds.
	const waitRest = async (fn, pred, ms) => {
		const start = Date.now();
		for (;;) {
			const value = await fn();
			if (pred(value)) return { ok: true, value, ms: Date.now() - start };
			if (Date.now() - start >= ms) return { ok: false, value, ms: Date.now() - start };
			await sleep(150);
		}
	};
	const click = (selector, pg = page) => pg.locator(selector).click({ timeout: UI_WAIT_MS });
	const fill = (selector, text, pg = page) => pg.locator(selector).fill(text, { timeout: UI_WAIT_MS });
	const rowOf = (s, id) => s.rows.find((r) => r.room === id);
	const short = (s) => s ? `state ${s.state}, status "${s.status}"${s.statusError ? ' (error)' : ''}, rooms ${JSON.stringify(s.rows.map((r) => r.cells.slice(0, 6)))}` : 'no window.stoaAdmin';
	let pid = null;

	try {
		await run.start(env, PLAN[0], PLAN[1], { playwrightVersion: true });

		const context = await run.browser.newContext({ viewport: { width: 1280, height: 900 } });
		page = await context.newPage();
		watch('dashboard', page);

		await step(PLAN[n++], async () => {
			const resp = await page.goto(`${ORIGIN}/`, { timeout: 15000 });
			if (!resp || resp.status() !== 200) return { fail: true, lines: [`GET / -> HTTP ${resp && resp.status()}`] };
			const links = await evaluate(page, () => [...document.querySelectorAll('#demo-list li > a')].map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
			const lines = [`#demo-list: ${JSON.stringify(links)}`];
			return links.some((l) => l.href === 'admin.html' && l.text === 'Admin dashboard') ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			await page.goto(`${ORIGIN}/admin.html#token=${SECRET}`, { timeout: 15000 });
			const r = await waitFor((s) => s && s.state === 'connected' && s.dashboard && !s.signin, UI_WAIT_MS);
			const s = r.value;
			const lines = [short(s), `url ${s.url}, sessionStorage token ${s.stored === SECRET ? 'the secret' : JSON.stringify(s.stored)}, localStorage keys ${JSON.stringify(s.local)}`];
			const ok = r.ok && s.hash === '' && !s.url.includes(SECRET) && s.stored === SECRET && s.local.length === 0 && !s.statusError && s.rows.length === 1 && !!rowOf(s, DEMO_ROOM);
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			await fill('#create-room', String(ROOM));
			await fill('#create-description', 'Stand-up');
			await fill('#create-publishers', '6');
			await fill('#create-bitrate', '512000');
			await fill('#create-pin', PIN);
			await fill('#create-secret', 'm0derat0r');
			await click('#create-button');
			const r = await waitFor((s) => rowOf(s, ROOM) && /created/.test(s.status), UI_WAIT_MS);
			const g = await rest('GET', `/rooms/${ROOM}`);
			const lines = [short(r.value), `REST GET /rooms/${ROOM}: ${g.status} ${g.text.slice(0, 300)}`];
			const j = g.json || {};
			const row = rowOf(r.value, ROOM);
			const ok = r.ok && g.status === 200 && j.description === 'Stand-up' && j.max_publishers === 6 && j.bitrate === 512000 &&
				j.pin_required === true && j.is_private === false && row.cells[1] === 'Stand-up' && row.cells[3] === '6' &&
				row.cells[4] === '512 kbit/s' && row.cells[5] === 'PIN' && r.value.invalid.length === 0;
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const c = await rest('POST', '/rooms', { room: PRIVATE_ROOM, description: 'Back office', is_private: true, pin: '1', publishers: 2 });
			const r = await waitFor((s) => rowOf(s, PRIVATE_ROOM), 5000);
			const row = rowOf(r.value, PRIVATE_ROOM);
			const lines = [`REST POST: ${c.status}`, `row ${JSON.stringify(row)}`];
			return c.status === 201 && r.ok && row.cells[1] === 'Back office' && row.cells[5] === 'private PIN' ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			allow(/Failed to load resource: the server responded with a status of 409/);
			allow(/Failed to load resource: the server responded with a status of 400/);
			await fill('#create-room', String(ROOM));
			await fill('#create-description', 'Duplicate');
			await click('#create-button');
			const a = await waitFor((s) => /already exists/.test(s.createError) && s.invalid.includes('create-room'), UI_WAIT_MS);
			const lines = [`409: error "${a.value.createError}", invalid ${JSON.stringify(a.value.invalid)}, focus ${a.value.active}`];
			await fill('#create-room', '');
			await fill('#create-publishers', '0');
			await click('#create-button');
			const b = await waitFor((s) => /publishers/i.test(s.createError) && s.invalid.includes('create-publishers') && !s.invalid.includes('create-room'), UI_WAIT_MS);
			lines.push(`400: error "${b.value.createError}", invalid ${JSON.stringify(b.value.invalid)}, focus ${b.value.active}`);
			const list = await rest('GET', '/rooms?include=private');
			const ids = (list.json.rooms || []).map((x) => x.room).sort();
			lines.push(`REST rooms ${JSON.stringify(ids)}`);
			await evaluate(page, () => document.getElementById('create-form').reset());
			const ok = a.ok && a.value.active === 'create-room' && b.ok && b.value.active === 'create-publishers' && ids.length === 3;
			return ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			await click(`button[aria-label="Edit room ${ROOM}"]`);
			const o = await waitFor((s) => s.editOpen && s.active === 'edit-description', UI_WAIT_MS);
			if (!o.ok) return { fail: true, lines: [`dialog open ${o.value.editOpen}, focus ${o.value.active}`] };
			const pre = await evaluate(page, () => ({ d: document.getElementById('edit-description').value, b: document.getElementById('edit-bitrate').value,
				p: document.getElementById('edit-publishers').value, priv: document.getElementById('edit-private').checked }));
			await fill('#edit-description', 'Stand-up (moved to 10:30)');
			await fill('#edit-bitrate', '256000');
			await click('#edit-save');
			const r = await waitFor((s) => !s.editOpen && /saved/.test(s.status), UI_WAIT_MS);
			const g = await rest('GET', `/rooms/${ROOM}`);
			const row = rowOf(r.value, ROOM);
			const lines = [`prefilled ${JSON.stringify(pre)}`, `status "${r.value.status}", focus back on ${r.value.active}`,
				`REST: ${g.status} description ${JSON.stringify(g.json && g.json.description)}, bitrate ${g.json && g.json.bitrate}, max_publishers ${g.json && g.json.max_publishers}`,
				`row ${JSON.stringify(row && row.cells)}`];
			const ok = pre.d === 'Stand-up' && pre.b === '512000' && pre.p === '6' && !pre.priv && r.ok &&
				g.json.description === 'Stand-up (moved to 10:30)' && g.json.bitrate === 256000 && g.json.max_publishers === 6 && g.json.pin_required === true &&
				row && row.cells[1] === 'Stand-up (moved to 10:30)' && row.cells[4] === '256 kbit/s' && r.value.active === `Edit room ${ROOM}`;
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const ctx = await run.browser.newContext({ viewport: { width: 640, height: 480 } });
			pub = await ctx.newPage();
			watch('participant', pub);
			await pub.goto(`${ORIGIN}/publisher.html`, { timeout: 15000 });
			pid = await evaluate(pub, ([room, pin]) => window.publish(room, 'Alice', pin), [ROOM, PIN], 20000);
			const r = await waitFor((s) => s.pc === 'connected', MEDIA_WAIT_MS,
				() => ({ pc: window.pub.pc ? window.pub.pc.connectionState : null, state: window.pub.state, error: window.pub.error }), pub);
			const lines = [`participant id ${pid}: ${JSON.stringify(r.value)} after ${(r.ms / 1000).toFixed(1)} s`];
			return r.ok && typeof pid === 'number' ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			await click(`button[aria-label="Participants of room ${ROOM}"]`);
			const c = await waitFor((s) => s.selected === ROOM && s.cards.some((x) => x.id === pid), UI_WAIT_MS);
			if (!c.ok) return { fail: true, lines: [`selected ${c.value.selected}, cards ${JSON.stringify(c.value.cards)}`] };
			const r = await waitFor((x) => x.filter((s) => s.bitrate > 0).length >= MIN_SAMPLES, MEDIA_WAIT_MS,
				(id) => window.stoaAdmin.samples(id), page, pid);
			const d = await rest('GET', `/rooms/${ROOM}/participants/${pid}`);
			const s = await snap();
			const card = s.cards.find((x) => x.id === pid);
			const codecs = card.streams.map((row) => row[2]);
			const lines = [`samples: ${r.value.length}, with bitrate > 0: ${r.value.filter((x) => x.bitrate > 0).length}, last ${JSON.stringify(r.value[r.value.length - 1])}`,
				`REST details: ${d.status}, bitrate ${bitrateOf(d.json)} (${JSON.stringify((d.json.streams || []).map((x) => [x.mid, x.type, x.codec, x.bitrate]))})`,
				`card: ${card.name}, legend "${card.legend}", streams ${JSON.stringify(card.streams)}, canvas ${card.plot.w}x${card.plot.h}`,
				`row ${JSON.stringify(rowOf(s, ROOM).cells)}, selected ${rowOf(s, ROOM).selected}`];
			const ok = r.ok && d.status === 200 && bitrateOf(d.json) > 0 && card.name === 'Alice' && codecs.includes('opus') && codecs.includes('vp8') &&
				card.plot.w > 0 && /kbit\/s/.test(card.legend) && rowOf(s, ROOM).selected && rowOf(s, ROOM).cells[2] === '1';
			return ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			const r = await waitFor((x) => x.filter((s) => s.loss !== null).length >= 2, 10000, (id) => window.stoaAdmin.samples(id), page, pid);
			const s = await snap();
			const card = s.cards.find((x) => x.id === pid);
			const losses = r.value.filter((x) => x.loss !== null).map((x) => +x.loss.toFixed(2));
			const lines = [`loss samples ${JSON.stringify(losses.slice(-10))}`, `legend "${card.legend}"`];
			return r.ok && losses.every((x) => x >= 0 && x <= 100) && /Loss \d+\.\d %/.test(card.legend) ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			const lines = [];
			const muteSel = 'button[aria-label="Mute video 1 of Alice for everyone"]';
			const unmuteSel = 'button[aria-label="Unmute video 1 of Alice for everyone"]';
			await click(muteSel);
			const moderated = (want) => waitRest(() => rest('GET', `/rooms/${ROOM}/participants/${pid}`),
				(g) => g.status === 200 && (g.json.streams || []).some((x) => x.mid === '1' && !!x.moderated === want), 5000);
			const m = await moderated(true);
			const ev = await waitFor((x) => x.some((e) => e.moderation === 'muted' && e.mid === '1'), 5000, () => window.pub.events, pub);
			const b = await waitFor((s) => s.cards.some((c) => c.streams.some((row) => row[0] === '1' && row[6] === 'Unmute')), 5000);
			lines.push(`muted: REST moderated ${m.ok}, participant event ${ev.ok}, button says Unmute ${b.ok}`);
			await click(unmuteSel);
			const u = await moderated(false);
			const ev2 = await waitFor((x) => x.some((e) => e.moderation === 'unmuted' && e.mid === '1'), 5000, () => window.pub.events, pub);
			const b2 = await waitFor((s) => s.cards.some((c) => c.streams.some((row) => row[0] === '1' && row[6] === 'Mute')), 5000);
			lines.push(`unmuted: REST not moderated ${u.ok}, participant event ${ev2.ok}, button says Mute ${b2.ok}`);
			return m.ok && ev.ok && b.ok && u.ok && ev2.ok && b2.ok ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			// Focus off the buttons, so the picture shows the page at rest.
			await evaluate(page, () => document.activeElement && document.activeElement.blur());
			await sleep(1200);
			await page.screenshot({ path: shotFile, fullPage: true, timeout: 10000 });
			return { lines: [shotFile] };
		}, false);

		await step(PLAN[n++], async () => {
			await click('button[aria-label="Kick Alice"]');
			const ev = await waitFor((x) => x.events.some((e) => e.leaving === 'ok' && e.reason === 'kicked'), UI_WAIT_MS,
				() => ({ events: window.pub.events, core: window.pub.core }), pub);
			const g = await waitRest(() => rest('GET', `/rooms/${ROOM}/participants`), (x) => x.status === 200 && x.json.participants.length === 0, 5000);
			const c = await waitFor((s) => s.cards.length === 0 && /kicked/.test(s.status) && rowOf(s, ROOM) && rowOf(s, ROOM).cells[2] === '0' &&
				s.active === 'participants-title', UI_WAIT_MS);
			const lines = [`participant events ${JSON.stringify(ev.value.events.slice(-2))}, core ${JSON.stringify(ev.value.core)}`,
				`REST participants ${g.value.text}`, `dashboard: cards ${c.value.cards.length}, status "${c.value.status}", focus ${c.value.active}`];
			return ev.ok && g.ok && c.ok ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			await click(`button[aria-label="Destroy room ${ROOM}"]`);
			const o = await waitFor((s) => s.destroyOpen, UI_WAIT_MS);
			const focus = o.value.active;
			await click('#destroy-confirm');
			const r = await waitFor((s) => !s.destroyOpen && !rowOf(s, ROOM) && /destroyed/.test(s.status), UI_WAIT_MS);
			const g = await rest('GET', `/rooms/${ROOM}`);
			const lines = [`dialog focus on ${focus}`, `status "${r.value.status}", participants panel for ${r.value.selected}, rows ${JSON.stringify(r.value.rows.map((x) => x.room))}`,
				`REST GET /rooms/${ROOM}: ${g.status} ${g.text}`];
			return o.ok && focus === 'destroy-cancel' && r.ok && r.value.selected === null && g.status === 404 && rowOf(r.value, PRIVATE_ROOM) ? { lines } : { fail: true, lines };
		});

		await step(PLAN[n++], async () => {
			allow(/Failed to load resource: the server responded with a status of 403/);
			const ctx = await run.browser.newContext({ viewport: { width: 1000, height: 800 } });
			const ro = await ctx.newPage();
			watch('read-only', ro);
			await ro.goto(`${ORIGIN}/admin.html#token=${READER}`, { timeout: 15000 });
			const c = await waitFor((s) => s && s.state === 'connected' && s.rows.length === 2, UI_WAIT_MS, SNAP, ro);
			const before = c.value.writeVisible.length;
			await fill('#create-description', 'Not allowed', ro);
			await click('#create-button', ro);
			const r = await waitFor((s) => s.readOnly && s.canWrite === false && s.statusError && /only read/.test(s.status), UI_WAIT_MS, SNAP, ro);
			const list = await rest('GET', '/rooms?include=private');
			const lines = [`write controls visible before: ${before}, after: ${JSON.stringify(r.value.writeVisible)}; create panel visible ${r.value.createVisible}`,
				`status "${r.value.status}"`, `REST rooms ${JSON.stringify((list.json.rooms || []).map((x) => x.room))}`];
			await ctx.close();
			return c.ok && before > 0 && r.ok && r.value.writeVisible.length === 0 && !r.value.createVisible && list.json.rooms.length === 2 ? { lines } : { fail: true, lines };
		}, false);

		await step(PLAN[n++], async () => {
			allow(/Failed to load resource: the server responded with a status of 401/);
			const ctx = await run.browser.newContext({ viewport: { width: 1000, height: 800 } });
			const bad = await ctx.newPage();
			watch('wrong-token', bad);
			await bad.goto(`${ORIGIN}/admin.html#token=not-the-token`, { timeout: 15000 });
			const r = await waitFor((s) => s && s.signin && !s.dashboard && s.statusError && /refused/.test(s.status), UI_WAIT_MS, SNAP, bad);
			const lines = [`status "${r.value.status}"`, `sign-in error "${r.value.signinError}", focus ${r.value.active}, stored ${JSON.stringify(r.value.stored)}`];
			await ctx.close();
			return r.ok && r.value.active === 'api-token' && r.value.stored === null ? { lines } : { fail: true, lines };
		}, false);
	} catch (e) {
		diag([`aborted: ${e && e.stack ? e.stack : e}`]);
	}

	// ---- end, reported whatever happened before
	const tail = PLAN.length - 4;
	tap.notRunUpTo(tail, broken || 'aborted');
	{
		const bad = [], ignored = [];
		for (const c of consoleErrors) {
			// Chromium asks for /favicon.ico for index.html, which names no icon (the demo pages do).
			const favicon = /\/favicon\.ico$/.test(c.url) && /status of 404/.test(c.text);
			const ok = favicon || (allowed.get(c.step) || []).some((re) => re.test(c.text));
			(ok ? ignored : bad).push(`${c.who}: ${c.text}${c.url ? ` (${c.url})` : ""}`);
		}
		const lines = [...errors.map((e) => `page error: ${e}`), ...bad.map((e) => `console error: ${e}`)];
		if (ignored.length) lines.push(`ignored (Chromium's own "Failed to load resource" log of 4xx answers provoked on purpose, and of its favicon request): ${ignored.length}`, ...ignored.map((x) => `  ${x}`));
		report(PLAN[tail], page !== null && errors.length === 0 && bad.length === 0, lines.length ? lines : ['none']);
	}
	await run.reportStoaExit(PLAN[tail + 1]);
	{
		const lines = [];
		let ok = false;
		if (page && run.browser) {
			try {
				const w = await waitFor((s) => s.state === 'unreachable' && s.statusError && /Cannot reach/.test(s.status) && s.dashboard, 10000);
				ok = w.ok;
				lines.push(`status "${w.value.status}" (${w.ms} ms)`);
			} catch (e) { lines.push(errText(e)); }
		} else lines.push('no page');
		report(PLAN[tail + 2], ok, lines);
	}
	run.reportSanitizers(PLAN[tail + 3]);
	return run.finish({ t0, site, consoles: { '': consoleLines }, consoleLines: 40, keep: [shotFile] });
}

runMain(main, tap);
