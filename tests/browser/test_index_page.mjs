#!/usr/bin/env node
// test_index_page.mjs: the front page (html/index.html + js/info.js) in
// headless Chromium, against a real stoa.
//   - the status box shows Stoa's version and a live session count that
//     follows sessions made and destroyed outside the page;
//   - the public rooms table lists VideoRoom rooms made through the Janus
//     API (not private ones), with Join/Watch links to the meeting and watch
//     pages, and picks up a new room on its own;
//   - every link in the Demos list answers 200 from stoa's own HTTP server;
//   - no uncaught page errors or console errors; a screenshot.
// Prints TAP. Environment, npm packages and network namespace: lib.mjs.

import fs from 'node:fs';
import path from 'node:path';

import {
	ORIGIN, createTap, withTimeout, errText, preflight, makeTempSite, launchChromium, Stoa, watchdog, sleep,
	screenshotPath, runMain,
} from './lib.mjs';

const TOTAL_BUDGET_MS = 60000;
const REFRESH_WAIT_MS = 15000;    // the page refreshes every 5 s
const PLAN = [
	'chromium launches (playwright-core)',
	'stoa starts and listens on 8088, 8188 and 7088',
	'status: the version names Stoa and the Janus API level; the session count shows the two sessions there are',
	'the session count follows two sessions made (and then destroyed) outside the page',
	'public rooms: a room made through the Janus API is listed with Join/Watch links; a private one is not',
	'a room made later appears without reloading',
	'every Demos link answers 200',
	'no uncaught page errors, no console errors',
	'stoa exits with status 0 within 5 s of SIGINT',
	'stoa log has no sanitizer reports',
];
const tap = createTap(PLAN);
const { report, diag, finishPlan } = tap;

// One Janus API request over HTTP (outside the page).
async function janus(body, where = '') {
	const res = await fetch(`${ORIGIN}/janus${where}`, {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ transaction: Math.random().toString(36).slice(2), ...body }),
	});
	return res.json();
}

async function newSession() {
	const s = (await janus({ janus: 'create' })).data.id;
	const h = (await janus({ janus: 'attach', plugin: 'janus.plugin.videoroom' }, `/${s}`)).data.id;
	return { s, h, send: async (body) => (await janus({ janus: 'message', body }, `/${s}/${h}`)).plugindata.data };
}

async function main() {
	const env = await preflight();
	if (!env) return 0;
	tap.header();
	const site = makeTempSite('stoa-index-page-', env, {});
	const stoa = new Stoa({ bin: env.bin, plugins: env.plugins, confDir: site.confDir, htmlDir: site.htmlDir,
		logFile: path.join(site.tmp, 'stoa.log'), args: ['-E', '127.0.0.1'] });
	const shotFile = screenshotPath(env, site, 'test_index_page.png');
	let browser = null;
	const closeBrowser = async () => {
		if (browser) { const b = browser; browser = null; await withTimeout(b.close(), 10000, 'browser.close').catch(() => {}); }
	};
	const dog = watchdog(TOTAL_BUDGET_MS, tap, async () => { await closeBrowser(); stoa.kill(); });
	const errors = [];
	let page = null;
	const text = (sel) => page.locator(sel).innerText({ timeout: 5000 });
	const waitText = async (sel, pred, ms) => {
		const end = Date.now() + ms;
		let last = '';
		while (Date.now() < end) {
			last = await text(sel).catch(() => '');
			if (pred(last)) return { ok: true, last };
			await sleep(200);
		}
		return { ok: false, last };
	};
	try {
		try {
			browser = await launchChromium(env.playwright);
			report(PLAN[0], true);
		} catch (e) { report(PLAN[0], false, [errText(e)]); throw e; }
		const up = await stoa.start();
		report(PLAN[1], up, up ? [] : stoa.logTail(20));
		if (!up) throw new Error('server did not start');

		const room = await newSession();
		const lobby = await room.send({ request: 'create', description: 'Lobby', is_private: false });
		const hidden = await room.send({ request: 'create', description: 'Backstage', is_private: true });

		page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
		page.on('pageerror', (e) => errors.push(`pageerror: ${errText(e)}`));
		page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
		await page.goto(`${ORIGIN}/`);

		// Sessions: the test's own (making rooms) and, once it lists rooms, the page's.
		const version = await waitText('#info-version', (t) => /^Stoa \S+ \(Janus API \d/.test(t), 10000);
		const base = await waitText('#info-sessions', (t) => t === '2', REFRESH_WAIT_MS);
		report(PLAN[2], version.ok && base.ok, [`version "${version.last}", sessions "${base.last}" (expected 2)`]);

		const extra = [await newSession(), await newSession()];
		const more = await waitText('#info-sessions', (t) => t === '4', REFRESH_WAIT_MS);
		for (const x of extra) await janus({ janus: 'destroy' }, `/${x.s}`);
		const less = await waitText('#info-sessions', (t) => t === '2', REFRESH_WAIT_MS);
		report(PLAN[3], more.ok && less.ok, [`with two more "${more.last}" (expected 4), after destroying them "${less.last}" (expected 2)`]);

		const listed = await waitText('#rooms-body', (t) => t.includes('Lobby'), REFRESH_WAIT_MS);
		const href = await page.locator(`#rooms-body a[href="meeting.html?room=${lobby.room}"]`).count();
		const watch = await page.locator(`#rooms-body a[href="watch.html?room=${lobby.room}"]`).count();
		report(PLAN[4], listed.ok && href === 1 && watch === 1 && !listed.last.includes('Backstage'),
			[`rooms: ${JSON.stringify(listed.last)}`, `join links ${href}, watch links ${watch}, private room ${hidden.room}`]);

		const later = await room.send({ request: 'create', description: 'Standup', is_private: false });
		const seen = await waitText('#rooms-body', (t) => t.includes('Standup'), REFRESH_WAIT_MS);
		report(PLAN[5], seen.ok && later.videoroom === 'created', [JSON.stringify(seen.last)]);

		const links = await page.locator('#demo-list a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
		const status = [];
		for (const l of links) status.push(`${l}: ${(await fetch(`${ORIGIN}/${l}`)).status}`);
		report(PLAN[6], links.length >= 3 && status.every((s) => s.endsWith(': 200')), status);

		await page.screenshot({ path: shotFile, fullPage: true });
		diag([`screenshot: ${shotFile}`]);
		await janus({ janus: 'destroy' }, `/${room.s}`);
	} catch (e) {
		diag([`aborted: ${errText(e)}`]);
	}
	finishPlanUpTo(7);
	report(PLAN[7], page !== null && errors.length === 0, errors.length ? errors : ['none']);
	await closeBrowser();
	const wasAlive = stoa.alive();
	const r = stoa.proc ? await stoa.stop() : null;
	report(PLAN[8], wasAlive && !!r && r.code === 0 && r.signal === null,
		[!wasAlive ? `stoa had already exited: ${JSON.stringify(stoa.exit)}` : r ? `exit ${JSON.stringify(r)}` : 'killed after 5 s']);
	const san = stoa.sanitizerLines();
	report(PLAN[9], san.length === 0, san.slice(0, 20));
	finishPlan('aborted earlier');
	dog.cancel();
	if (tap.failed) diag(['stoa log (last 40 lines):', ...stoa.logTail(40)]);
	if (!tap.failed && !shotFile.startsWith(site.tmp)) fs.rmSync(site.tmp, { recursive: true, force: true });
	else diag([`temporary files kept in ${site.tmp}`]);
	return tap.failed ? 1 : 0;
}

// Marks the tests before `idx` that did not report as failed (an abort).
function finishPlanUpTo(idx) {
	while (tap.nextTest < idx) tap.emit(tap.nextTest++, false, ['not run']);
}

runMain(main, tap);
