// videoroom_page.mjs: the test page the VideoRoom browser tests share
// (test_videoroom_meeting.mjs, test_videoroom_simulcast.mjs,
// test_videoroom_janusjs.mjs), plus the Node-side helpers that drive it.
//
// The page is a small VideoRoom client written on Janus's own janus.js
// (multistream API), the way an application would use it:
//   - one publisher handle: `join` (ptype publisher), `publish` with a
//     createOffer({tracks}) offer, the JSEP answer applied;
//   - it keeps the list of feeds in the room from the `joined` publishers and
//     the `publishers` / `unpublished` / `leaving` events;
//   - subscribers: either one multistream handle that subscribes to every
//     feed it learns about (a `join` listing the feeds known at the time,
//     then `subscribe` updates, one negotiation at a time), or one handle per
//     feed (subscribeFeed); every server offer (attached, updated) is
//     answered with createAnswer({jsep, tracks:[{type:'data'}]}) and `start`;
//   - one tile (<div> with a <video>) per remote feed, created from
//     onremotetrack and removed when the feed leaves;
//   - getStats() summed per remote feed (inbound-rtp mapped to the feed
//     through the subscriber mid).
// Node calls window.vr.* through page.evaluate; every call settles within
// its timeout. The janus.js callbacks only record what they are given.

import { PAGE_TIMEOUT_JS, sleep, withTimeout } from './lib.mjs';

export const VIDEOROOM_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Stoa: VideoRoom test</title>
<link rel="icon" href="data:,">
<style>.tile { display: inline-block; width: 160px; } .tile video { width: 160px; }</style>
<script src="adapter.js"></script>
<script type="module">
import Janus from './janus.es.js';
window.Janus = Janus;
const st = {
	errors: [],         // janus.js error callbacks and failed steps
	handles: {},        // key -> handle record
	feeds: new Map(),   // feed id -> { id, display, from, t }: publishers in the room (not me)
	feedEvents: [],     // { type: 'publishers'|'unpublished'|'leaving', id, t }
	gone: [],           // feed ids seen leaving
	me: null,           // { id, private_id, room }
	room: null,
	localTracks: [],    // MediaStreamTracks handed to onlocaltrack (on = true)
	remoteEvents: [],   // onremotetrack calls: { key, mid, kind, on, reason, feed, t }
	auto: false,        // subscribe to every announced feed
	sub: null,          // the multistream subscriber: { key, busy, queue, subscribed, negotiations }
	destroyed: 0,
};
window.st = st;
${PAGE_TIMEOUT_JS}
// Turns the first video m-section's one SSRC (+ its RTX SSRC) into three
// simulcast layers: two more SSRC pairs with the same cname and msid, an
// FID group per pair and one SIM group listing the layers lowest first.
function simSsrcMunge(sdp) {
	const lines = sdp.split('\\r\\n');
	const start = lines.findIndex((l) => l.startsWith('m=video'));
	if (start < 0) return sdp;
	let end = lines.findIndex((l, i) => i > start && l.startsWith('m='));
	if (end < 0) end = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
	const sect = lines.slice(start, end);
	const fid = sect.find((l) => l.startsWith('a=ssrc-group:FID '));
	if (!fid) return sdp;
	const v1 = fid.split(' ')[1];
	const attrs = sect.filter((l) => l.startsWith('a=ssrc:' + v1 + ' ')).map((l) => l.slice(('a=ssrc:' + v1 + ' ').length));
	const rand = () => String(1 + Math.floor(Math.random() * 0xfffffff0));
	const more = [[rand(), rand()], [rand(), rand()]];
	const add = [];
	for (const [v, r] of more) {
		add.push('a=ssrc-group:FID ' + v + ' ' + r);
		for (const a of attrs) add.push('a=ssrc:' + v + ' ' + a);
		for (const a of attrs) add.push('a=ssrc:' + r + ' ' + a);
	}
	add.push('a=ssrc-group:SIM ' + [v1, more[0][0], more[1][0]].join(' '));
	return [...lines.slice(0, end), ...add, ...lines.slice(end)].join('\\r\\n');
}
function plain(x) { try { return JSON.parse(JSON.stringify(x === undefined ? null : x)); } catch (e) { return String(x); } }
function matches(msg, match) {
	if (!msg) return false;
	for (const [k, v] of Object.entries(match)) {
		if (v === '*') { if (msg[k] === undefined) return false; }
		else if (msg[k] !== v) return false;
	}
	return true;
}
function fail(what, e) { const s = what + ': ' + (e && e.message ? e.message : String(e)); st.errors.push(s); return new Error(s); }

// ---------------------------------------------------------------- handles
function waitMsg(rec, pred, since, ms, what) {
	const found = rec.msgs.find((m) => m.seq > since && pred(m));
	if (found) return Promise.resolve(found);
	const w = { pred, since };
	return timeout(new Promise((res) => { w.res = res; rec.waiters.push(w); }), ms, what || 'message')
		.finally(() => { const i = rec.waiters.indexOf(w); if (i >= 0) rec.waiters.splice(i, 1); });
}
// Waits for a message matching match (an object of fields; '*' = present),
// or an error_code message, whichever comes first after since.
async function waitMatch(rec, match, since, ms, what) {
	const m = await waitMsg(rec, (x) => matches(x.msg, match) || (x.msg && x.msg.error_code !== undefined), since, ms, what);
	if (m.msg.error_code !== undefined && !matches(m.msg, match))
		throw new Error((what || 'request') + ': error ' + m.msg.error_code + ' ' + m.msg.error);
	return m;
}
function attach(key, opaqueId) {
	return timeout(new Promise((res, rej) => {
		const rec = { key, handle: null, msgs: [], waiters: [], seq: 0, webrtc: [], media: [], cleanups: 0, detached: 0, onmsg: null };
		st.handles[key] = rec;
		st.janus.attach({
			plugin: 'janus.plugin.videoroom', opaqueId: opaqueId + '-' + key,
			success: (h) => { rec.handle = h; res(rec); },
			error: (e) => { rej(fail('attach ' + key, e)); },
			onmessage: (msg, jsep) => {
				const m = { msg: plain(msg), jsep: jsep ? { type: jsep.type, sdp: jsep.sdp } : null, t: Date.now(), seq: ++rec.seq };
				rec.msgs.push(m);
				if (rec.onmsg) { try { rec.onmsg(m); } catch (e) { fail('onmessage ' + key, e); } }
				for (const w of rec.waiters.slice()) if (m.seq > w.since && w.pred(m)) { rec.waiters.splice(rec.waiters.indexOf(w), 1); w.res(m); }
			},
			webrtcState: (on, reason) => rec.webrtc.push({ on, reason: reason === undefined ? null : reason, t: Date.now() }),
			mediaState: (type, on, mid) => rec.media.push({ type, on, mid, t: Date.now() }),
			onlocaltrack: (track, on) => { if (on && !st.localTracks.includes(track)) st.localTracks.push(track); },
			onremotetrack: (track, mid, on, meta) => onRemoteTrack(rec, track, mid, on, meta),
			oncleanup: () => { rec.cleanups++; },
			ondetached: () => { rec.detached++; },
		});
	}), 10000, 'attach ' + key);
}
// An asynchronous request: resolves on the ack (janus.js success callback).
function send(rec, message, jsep) {
	return timeout(new Promise((res, rej) => rec.handle.send({ message, jsep,
		success: (data) => res(plain(data)),
		error: (e) => rej(fail('send ' + JSON.stringify(message), e)) })), 10000, 'send ' + (message.request || ''));
}
function webrtcUp(rec, ms) {
	return timeout((async () => {
		while (!rec.webrtc.some((w) => w.on === true)) await new Promise((r) => setTimeout(r, 50));
		return true;
	})(), ms, 'webrtcState(true) on ' + rec.key);
}

// ---------------------------------------------------------------- feeds and tiles
function addFeed(p, from) {
	if (!p || p.id === undefined || (st.me && p.id === st.me.id) || st.gone.includes(p.id)) return;
	if (!st.feeds.has(p.id)) {
		st.feeds.set(p.id, { id: p.id, display: p.display === undefined ? null : p.display, from, t: Date.now(),
			streams: (p.streams || []).map((s) => ({ type: s.type, mid: s.mid, codec: s.codec, simulcast: !!s.simulcast })) });
		if (st.auto && st.sub) { st.sub.queue.push(p.id); pump(); }
	}
}
function removeFeed(id, type) {
	if (!st.gone.includes(id)) st.gone.push(id);
	st.feeds.delete(id);
	if (st.sub) st.sub.queue = st.sub.queue.filter((f) => f !== id);
	const tile = document.getElementById('tile-' + id);
	if (tile) tile.remove();
}
function publisherEvent(m) {
	const d = m.msg;
	if (!d || d.videoroom !== 'event') return;
	if (Array.isArray(d.publishers)) for (const p of d.publishers) { st.feedEvents.push({ type: 'publishers', id: p.id, t: m.t }); addFeed(p, 'event'); }
	for (const type of ['unpublished', 'leaving']) {
		if (d[type] !== undefined && d[type] !== 'ok') { st.feedEvents.push({ type, id: d[type], t: m.t }); removeFeed(d[type], type); }
	}
}
function tileFor(feed) {
	let tile = document.getElementById('tile-' + feed);
	if (!tile) {
		tile = document.createElement('div');
		tile.className = 'tile';
		tile.id = 'tile-' + feed;
		tile.dataset.feed = String(feed);
		const v = document.createElement('video');
		v.autoplay = true; v.playsInline = true; v.muted = true;
		v.srcObject = new MediaStream();
		tile.appendChild(v);
		document.getElementById('tiles').appendChild(tile);
	}
	return tile;
}
function onRemoteTrack(rec, track, mid, on, meta) {
	const s = rec.streams ? rec.streams[mid] : null;
	const known = rec.midFeed ? rec.midFeed[mid] : undefined;
	const feed = on && s && s.feed_id !== undefined ? s.feed_id : known;
	if (on && feed !== undefined) { rec.midFeed = rec.midFeed || {}; rec.midFeed[mid] = feed; }
	st.remoteEvents.push({ key: rec.key, mid, kind: track.kind, on, reason: meta && meta.reason ? meta.reason : null,
		feed: feed === undefined ? null : feed, t: Date.now() });
	if (feed === undefined) return;
	if (on) {
		if (st.gone.includes(feed)) return;
		const v = tileFor(feed).querySelector('video');
		const ms = v.srcObject;
		for (const t of ms.getTracks()) if (t.kind === track.kind && t !== track) ms.removeTrack(t);
		if (!ms.getTracks().includes(track)) ms.addTrack(track);
		v.srcObject = ms;
		v.play().catch(() => {});
	} else {
		const tile = document.getElementById('tile-' + feed);
		if (tile) { const ms = tile.querySelector('video').srcObject; if (ms) ms.removeTrack(track); }
	}
}

// ---------------------------------------------------------------- subscribers
// The m-lines of an SDP: mid, kind, port and direction.
function mlines(sdp) {
	return sdp.split(/\\r?\\n(?=m=)/).slice(1).map((sec) => {
		const m = /^m=(\\w+) (\\d+)/.exec(sec);
		const mid = /^a=mid:(\\S+)/m.exec(sec);
		const dir = /^a=(sendrecv|sendonly|recvonly|inactive)$/m.exec(sec);
		return { kind: m[1], port: Number(m[2]), mid: mid ? mid[1] : null, dir: dir ? dir[1] : 'sendrecv' };
	});
}
// Every server offer on a subscriber handle is answered with start.
function subscriberMessage(rec, m) {
	const d = m.msg;
	if (Array.isArray(d.streams) && (d.videoroom === 'attached' || d.videoroom === 'updated')) {
		rec.streams = rec.streams || {};
		for (const s of d.streams) rec.streams[s.mid] = Object.assign({}, rec.streams[s.mid] || {}, s);
	}
	if (d.videoroom === 'event' && d.started === 'ok') {
		for (const n of rec.negotiations) if (n.answered && !n.started) n.started = Date.now();
		if (rec.sub) { rec.sub.busy = false; rec.sub.started++; pump(); }
	}
	if (d.videoroom === 'updated' && !m.jsep && rec.sub) { rec.sub.busy = false; pump(); }
	if (d.error_code !== undefined) { st.errors.push('subscriber ' + rec.key + ': ' + d.error_code + ' ' + d.error); if (rec.sub) { rec.sub.busy = false; pump(); } }
	if (m.jsep && m.jsep.type === 'offer') {
		const n = { at: Date.now(), videoroom: d.videoroom, mlines: mlines(m.jsep.sdp) };
		rec.negotiations.push(n);
		rec.handle.createAnswer({
			jsep: m.jsep,
			tracks: [{ type: 'data' }],
			success: (answer) => {
				n.answered = Date.now();
				send(rec, { request: 'start' }, answer).catch((e) => { n.failed = String(e && e.message ? e.message : e); });
			},
			error: (e) => { n.failed = 'createAnswer: ' + fail('createAnswer on ' + rec.key, e).message; if (rec.sub) { rec.sub.busy = false; } },
		});
	}
}
async function newSubscriber(key) {
	const rec = await attach(key, st.opaqueId);
	rec.streams = {}; rec.midFeed = {}; rec.negotiations = [];
	rec.onmsg = (m) => subscriberMessage(rec, m);
	return rec;
}
// One negotiation at a time on the multistream subscriber: a join with all
// queued feeds first, subscribe updates after that.
async function pump() {
	const sub = st.sub;
	if (!sub || sub.busy || !sub.queue.length || sub.broken) return;
	sub.busy = true;
	const feeds = sub.queue.splice(0).filter((f) => !sub.subscribed.includes(f));
	if (!feeds.length) { sub.busy = false; return; }
	const streams = feeds.map((feed) => ({ feed }));
	sub.subscribed.push(...feeds);
	try {
		if (!sub.rec) {
			sub.rec = await newSubscriber(sub.key);
			sub.rec.sub = sub;
			sub.requests.push({ request: 'join', feeds, t: Date.now() });
			await send(sub.rec, { request: 'join', room: st.room, ptype: 'subscriber', private_id: st.me ? st.me.private_id : undefined, streams });
		} else {
			sub.requests.push({ request: 'subscribe', feeds, t: Date.now() });
			await send(sub.rec, { request: 'subscribe', streams });
		}
	} catch (e) {
		sub.broken = String(e);
		sub.busy = false;
	}
}
async function subscriberStats(rec) {
	const pc = rec && rec.handle && rec.handle.webrtcStuff ? rec.handle.webrtcStuff.pc : null;
	const out = {};
	if (!pc) return out;
	const midOfTrack = {};
	for (const t of pc.getTransceivers()) if (t.receiver && t.receiver.track) midOfTrack[t.receiver.track.id] = t.mid;
	const r = await pc.getStats();
	r.forEach((s) => {
		if (s.type !== 'inbound-rtp' || (s.kind !== 'audio' && s.kind !== 'video')) return;
		const mid = s.mid !== undefined ? s.mid : midOfTrack[s.trackIdentifier];
		const feed = rec.midFeed && rec.midFeed[mid] !== undefined ? rec.midFeed[mid] : (rec.streams && rec.streams[mid] ? rec.streams[mid].feed_id : undefined);
		if (feed === undefined) return;
		const f = out[feed] || (out[feed] = {});
		const k = f[s.kind] || (f[s.kind] = { mids: [], packetsReceived: 0, framesDecoded: 0 });
		if (!k.mids.includes(mid)) k.mids.push(mid);
		k.packetsReceived += s.packetsReceived || 0;
		if (s.kind === 'video') {
			k.framesDecoded += s.framesDecoded || 0;
			if (s.frameWidth && (!k.last || s.lastPacketReceivedTimestamp >= k.last)) {
				k.frameWidth = s.frameWidth; k.frameHeight = s.frameHeight; k.last = s.lastPacketReceivedTimestamp;
			}
		}
	});
	return out;
}

// ---------------------------------------------------------------- the API Node uses
window.vr = {
	init() {
		return timeout(new Promise((res) => Janus.init({
			debug: ['warn', 'error'],
			dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }),
			callback: () => res({ webrtc: Janus.isWebrtcSupported() }),
		})), 5000, 'Janus.init');
	},
	connect(server, opaqueId) {
		st.opaqueId = opaqueId;
		return timeout(new Promise((res, rej) => {
			st.janus = new Janus({
				server,
				success: () => res({ sessionId: st.janus.getSessionId() }),
				error: (e) => rej(fail('session', e)),
				destroyed: () => { st.destroyed++; },
			});
		}), 10000, 'new Janus');
	},
	async attachPublisher() {
		const rec = await attach('pub', st.opaqueId);
		rec.onmsg = publisherEvent;
		return { handleId: rec.handle.getId() };
	},
	// A synchronous request: resolves with the plugin's reply (plugindata.data).
	request(key, message) {
		const rec = st.handles[key];
		return timeout(new Promise((res, rej) => rec.handle.send({ message,
			success: (data) => res(plain(data)),
			error: (e) => rej(fail('request ' + JSON.stringify(message), e)) })), 10000, 'request ' + message.request);
	},
	seq(key) { return st.handles[key] ? st.handles[key].seq : 0; },
	// Sends an asynchronous request and waits for the event matching match.
	async sendWait(key, message, match, ms) {
		const rec = st.handles[key];
		const since = rec.seq;
		const ack = await send(rec, message);
		const m = await waitMatch(rec, match, since, ms, message.request);
		return { ack, msg: m.msg, jsep: m.jsep ? m.jsep.type : null, t: m.t };
	},
	async waitFor(key, match, since, ms) {
		const m = await waitMatch(st.handles[key], match, since, ms, 'wait for ' + JSON.stringify(match));
		return { msg: m.msg, t: m.t };
	},
	messages(key, since) { const rec = st.handles[key]; return rec ? rec.msgs.filter((m) => m.seq > (since || 0)).map((m) => ({ msg: m.msg, jsep: m.jsep ? m.jsep.type : null, seq: m.seq, t: m.t })) : []; },
	async join(room, display, auto, subKey) {
		st.room = room;
		st.auto = !!auto;
		if (auto) st.sub = { key: subKey || 'sub', rec: null, busy: false, queue: [], subscribed: [], requests: [], started: 0, broken: null };
		const r = await this.sendWait('pub', { request: 'join', room, ptype: 'publisher', display }, { videoroom: 'joined' }, 10000);
		st.me = { id: r.msg.id, private_id: r.msg.private_id, room };
		// The publishers already in the room go in one subscription request.
		st.auto = false;
		for (const p of r.msg.publishers || []) addFeed(p, 'joined');
		st.auto = !!auto;
		if (auto) { st.sub.queue.push(...st.feeds.keys()); pump(); }
		return r.msg;
	},
	// Publishes with createOffer({tracks}); resolves once the answer is applied
	// and janus.js reports webrtcState(true). With opts.ssrcSimulcast the
	// offer is munged before setLocalDescription into SSRC-based simulcast
	// (a=ssrc-group:SIM), the way applications did it before rids.
	publish(tracks, body, ms, opts) {
		const rec = st.handles.pub;
		return timeout(new Promise((res, rej) => {
			rec.handle.createOffer({
				tracks,
				customizeSdp: (jsep) => { if (opts && opts.ssrcSimulcast) jsep.sdp = simSsrcMunge(jsep.sdp); },
				success: async (jsep) => {
					try {
						const since = rec.seq;
						await send(rec, Object.assign({ request: 'publish' }, body || {}), jsep);
						const m = await waitMatch(rec, { configured: 'ok' }, since, ms, 'publish');
						if (!m.jsep) throw new Error('no JSEP answer with ' + JSON.stringify(m.msg));
						await new Promise((ok, ko) => rec.handle.handleRemoteJsep({ jsep: m.jsep, success: ok,
							error: (e) => ko(new Error('handleRemoteJsep: ' + e)) }));
						await webrtcUp(rec, ms);
						res({ msg: m.msg, offer: jsep.sdp, answer: m.jsep.sdp, ridOrder: jsep.rid_order || null });
					} catch (e) { rej(fail('publish', e)); }
				},
				error: (e) => rej(fail('createOffer', e)),
			});
		}), ms + 5000, 'publish');
	},
	// A subscriber handle of its own for one feed (join with streams [{feed}]).
	async subscribeFeed(key, room, feed, ms) {
		if (room !== undefined && room !== null) st.room = room;
		const rec = await newSubscriber(key);
		const since = rec.seq;
		await send(rec, { request: 'join', room: st.room, ptype: 'subscriber', private_id: st.me ? st.me.private_id : undefined, streams: [{ feed }] });
		const a = await waitMatch(rec, { videoroom: 'attached' }, since, ms, 'join (subscriber)');
		await waitMatch(rec, { started: 'ok' }, since, ms, 'start');
		return { attached: a.msg, handleId: rec.handle.getId() };
	},
	feeds() { return [...st.feeds.keys()]; },
	subscription() {
		const sub = st.sub;
		if (!sub) return null;
		const rec = sub.rec;
		return { busy: sub.busy, queue: sub.queue.slice(), subscribed: sub.subscribed.slice(), requests: sub.requests.slice(),
			started: sub.started, broken: sub.broken, handleId: rec && rec.handle ? rec.handle.getId() : null,
			streams: rec ? Object.values(rec.streams) : [], negotiations: rec ? rec.negotiations.slice() : [],
			midFeed: rec ? Object.assign({}, rec.midFeed) : {} };
	},
	async stats(key) {
		const rec = st.handles[key || (st.sub ? st.sub.key : 'sub')];
		return subscriberStats(rec);
	},
	async outbound() {
		const rec = st.handles.pub;
		const pc = rec && rec.handle && rec.handle.webrtcStuff ? rec.handle.webrtcStuff.pc : null;
		if (!pc) return [];
		const r = await pc.getStats();
		const out = [];
		r.forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({ rid: s.rid || null, frameWidth: s.frameWidth || 0,
			frameHeight: s.frameHeight || 0, fps: s.framesPerSecond || 0, framesSent: s.framesSent || 0, active: s.active,
			qualityLimitationReason: s.qualityLimitationReason }); });
		out.sort((a, b) => (a.rid || '').localeCompare(b.rid || ''));
		return out;
	},
	// The server offers a subscriber handle got and what became of them:
	// { at, videoroom, mlines: [{ kind, port, mid, dir }], answered?, started?, failed? }.
	negotiations(key) { const rec = st.handles[key]; return rec && rec.negotiations ? rec.negotiations.slice() : []; },
	// Subscriber m-lines (mid, direction) as Chromium sees them.
	transceivers(key) {
		const rec = st.handles[key || (st.sub ? st.sub.key : 'sub')];
		const pc = rec && rec.handle && rec.handle.webrtcStuff ? rec.handle.webrtcStuff.pc : null;
		if (!pc) return [];
		return pc.getTransceivers().map((t) => ({ mid: t.mid, kind: t.receiver.track ? t.receiver.track.kind : null,
			currentDirection: t.currentDirection, stopped: t.currentDirection === 'stopped',
			trackState: t.receiver.track ? t.receiver.track.readyState : null, muted: t.receiver.track ? t.receiver.track.muted : null,
			feed: rec.midFeed && rec.midFeed[t.mid] !== undefined ? rec.midFeed[t.mid] : null }));
	},
	// Leaves the room: the publisher stops its media first (janus.js hangup:
	// the PeerConnection closes, the capture tracks stop) and then sends
	// leave; subscriber handles, once no offer of theirs is still being
	// answered, send leave, then hang up. which: 'pub', 'subs' or all.
	// Waits for the local capture tracks to end.
	async leave(ms, which) {
		const out = { replies: {}, errors: [] };
		const offersUntil = Date.now() + ms;   // one deadline for the whole page
		for (const key of Object.keys(st.handles)) {
			const rec = st.handles[key];
			const pub = key === 'pub';
			if ((which === 'pub' && !pub) || (which === 'subs' && pub) || rec.left || (pub && !st.me)) continue;
			if (!pub)
				while (rec.negotiations.some((g) => !g.started && !g.failed) && Date.now() < offersUntil) await new Promise((r) => setTimeout(r, 50));
			if (pub && rec.handle.webrtcStuff && rec.handle.webrtcStuff.pc) {
				// janus.js cleans up at once; the server's hangup event
				// (webrtcState false) says the server has let the media go.
				const n = rec.webrtc.length;
				rec.handle.hangup();
				const until = Date.now() + ms;
				while (!rec.webrtc.slice(n).some((w) => w.on === false) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
				out.hangup = rec.webrtc.slice(n);
			}
			try { out.replies[key] = (await this.sendWait(key, { request: 'leave' }, pub ? { leaving: 'ok' } : { left: 'ok' }, ms)).msg; rec.left = true; }
			catch (e) { out.errors.push(key + ': ' + (e && e.message ? e.message : e)); }
			if (!pub) rec.handle.hangup();
		}
		const until = Date.now() + ms;
		while (which !== 'subs' && st.localTracks.some((t) => t.readyState !== 'ended') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
		out.localTracks = st.localTracks.map((t) => ({ kind: t.kind, label: t.label, readyState: t.readyState }));
		return out;
	},
	hangup(key) { st.handles[key].handle.hangup(); return true; },
	destroy() {
		return timeout(new Promise((res, rej) => st.janus.destroy({
			success: () => setTimeout(() => res({ destroyed: st.destroyed }), 50),
			error: (e) => rej(fail('destroy', e)),
		})), 10000, 'destroy');
	},
	state() {
		const tiles = [...document.querySelectorAll('#tiles .tile')].map((t) => {
			const v = t.querySelector('video');
			const ms = v.srcObject;
			return { feed: Number(t.dataset.feed), videoWidth: v.videoWidth, currentTime: v.currentTime,
				tracks: ms ? ms.getTracks().map((x) => x.kind + ':' + x.readyState) : [] };
		});
		const handles = {};
		for (const [k, r] of Object.entries(st.handles))
			handles[k] = { id: r.handle ? r.handle.getId() : null, webrtc: r.webrtc.slice(), media: r.media.slice(), cleanups: r.cleanups, messages: r.msgs.length };
		return { errors: st.errors.slice(), me: st.me, feeds: [...st.feeds.values()], feedEvents: st.feedEvents.slice(), gone: st.gone.slice(),
			remoteEvents: st.remoteEvents.slice(), tiles, handles, destroyed: st.destroyed,
			localTracks: st.localTracks.map((t) => ({ kind: t.kind, readyState: t.readyState })) };
	},
	now() { return Date.now(); },
};
window.stoaReady = true;
</script></head>
<body><div id="tiles"></div></body></html>
`;

// ------------------------------------------------------------------ Node side
// Evaluates fn(arg) in the page, bounded by ms.
export function pageCall(page, fn, arg, ms = 20000) {
	return withTimeout(page.evaluate(fn, arg), ms, 'page.evaluate');
}

// Polls the page with fn(arg) until pred(value) holds or ms pass; returns
// { ok, value }.
export async function pollPage(page, fn, arg, pred, ms, every = 250) {
	const until = Date.now() + ms;
	let value;
	for (;;) {
		value = await pageCall(page, fn, arg, 10000);
		if (pred(value)) return { ok: true, value };
		if (Date.now() >= until) return { ok: false, value };
		await sleep(every);
	}
}

// The page loads from the server, janus.js initialises and a session is
// created on server (a ws:// URL or '/janus'); resolves with the session id.
export async function openPage(page, origin, pageName, server, opaqueId) {
	const resp = await page.goto(`${origin}/${pageName}`, { timeout: 15000 });
	if (!resp || resp.status() !== 200) throw new Error(`GET /${pageName} -> HTTP ${resp && resp.status()}`);
	await page.waitForFunction(() => window.stoaReady === true, null, { timeout: 10000 });
	const i = await pageCall(page, () => window.vr.init());
	if (!i.webrtc) throw new Error('Janus.isWebrtcSupported() is false');
	const c = await pageCall(page, ([s, o]) => window.vr.connect(s, o), [server, opaqueId]);
	return c.sessionId;
}

// Compact one-line summary of per-feed stats for TAP diagnostics.
export function statsLine(stats) {
	return Object.entries(stats || {}).map(([feed, f]) =>
		`feed ${feed}: video ${f.video ? `${f.video.framesDecoded} frames ${f.video.frameWidth || 0}x${f.video.frameHeight || 0} (${f.video.packetsReceived} pkts, mid ${f.video.mids.join(',')})` : 'none'}, ` +
		`audio ${f.audio ? `${f.audio.packetsReceived} pkts (mid ${f.audio.mids.join(',')})` : 'none'}`).join('; ') || 'no inbound streams';
}

// The end of every test: on each page still there, the subscribers leave
// first (so that publishers going away cause no more offers), then the
// publishers; then janus.destroy(). Returns what went wrong, with the
// pages' uncaught errors and janus.js error callbacks.
export async function teardown(pages) {
	const lines = [];
	const live = Object.entries(pages).filter(([, p]) => p && p.page);
	for (const which of ['subs', 'pub']) {
		for (const [who, p] of live) {
			try {
				const r = await pageCall(p.page, (w) => (window.vr ? window.vr.leave(5000, w) : null), which, 30000);
				if (r && r.errors.length) lines.push(`${who}: leave: ${r.errors.join('; ')}`);
			} catch (e) { lines.push(`${who}: leave: ${e && e.message ? e.message : e}`); }
		}
	}
	for (const [who, p] of live) {
		let s = null;
		try {
			s = await pageCall(p.page, () => (window.vr ? window.vr.state() : null), null, 5000);
			if (s && Object.keys(s.handles).length) await pageCall(p.page, () => window.vr.destroy(), null, 12000);
			if (s) s = await pageCall(p.page, () => window.vr.state(), null, 5000);
		} catch (e) { lines.push(`${who}: ${e && e.message ? e.message : e}`); }
		lines.push(...(p.errors || []).map((e) => `${who}: page error: ${e}`), ...((s && s.errors) || []).map((e) => `${who}: janus.js: ${e}`));
	}
	return lines;
}

// The closing check of the VideoRoom tests, reported as `test` whatever
// happened before: every page leaves and destroys its session (teardown()
// above). It also fails when fewer than `expected` pages were opened, since
// an abort before the pages existed left nothing to check.
export async function reportTeardown(tap, test, pages, expected, t0) {
	const t1 = Date.now();
	const lines = await teardown(pages);
	tap.diag([`teardown: ${((Date.now() - t1) / 1000).toFixed(1)} s, from ${((t1 - t0) / 1000).toFixed(1)} s`]);
	tap.report(test, lines.length === 0 && Object.keys(pages).length === expected, lines);
}

// The end the VideoRoom page tests share, whose plan ends with three
// checks: the pages leave cleanly (`expected` of them), stoa exits 0 on
// SIGINT, its log has no sanitizer report. Returns main()'s exit code.
export async function finishRoomRun(run, tap, plan, { pages, expected, t0, site, broken }) {
	tap.notRunUpTo(plan.length - 3, broken || 'aborted');
	await reportTeardown(tap, plan[plan.length - 3], pages, expected, t0);
	await run.closeBrowser();
	await run.reportStoaExit(plan[plan.length - 2]);
	run.reportSanitizers(plan[plan.length - 1]);
	return run.finish({ t0, site, pages });
}
