// watch.mjs: the viewer's page (watch.html?room=<id>) for a broadcast made
// with broadcast.html: a VideoRoom room with one publisher.
//
// Flow: connect (janus.mjs: WebSocket, else HTTP long poll), attach a
// control handle to janus.plugin.videoroom, and ask `listparticipants`
// every ~2 s. A viewer is not a room participant, so it gets no
// `publishers`/`unpublished` events; the poll is what finds the presenter:
//   - 426 (no such room): say so, and keep asking (more slowly): the link
//     may have been shared before the presenter went live;
//   - no publisher: "hasn't started" (or "the presenter stopped" once we
//     have seen them), waiting;
//   - a publisher we do not receive yet: subscribe to it (videoroom.mjs
//     Subscriber). The first time that joins the room as a subscriber; later
//     (the presenter stopped and went live again, with a new publisher id)
//     it is a `subscribe` on the same handle, which reuses the m-lines that
//     went inactive. When that fails the handle is dropped and the next poll
//     joins afresh.
// The subscriber's `updated` offer (autoupdate) when the presenter leaves
// turns its tracks off (ontrack with on=false): the page says the presenter
// stopped at once, without waiting for the poll.
//
// Autoplay: playback starts muted, which browsers allow without a gesture,
// with a "Click to unmute" button over the picture. If the browser refuses
// even that, a "Click to play" button takes the gesture. Once the viewer has
// unmuted, later restarts of the broadcast play with sound.
//
// The readout samples getStats() every second: bitrate, resolution, frame
// rate and loss (stats.mjs StreamMeter), and a latency estimate: the mean
// time a frame waited in the jitter buffer over the last second
// (jitterBufferDelay / jitterBufferEmittedCount) plus half the round-trip
// time to the server. It leaves out the presenter's uplink and encoding.
//
// For the browser tests, window.stoaWatch exposes the state, the feed
// followed, the PeerConnection and the player (see the bottom). Threads:
// the page's main thread.

import { Session, JanusError, clientConfig } from './janus.mjs';
import { Subscriber, PLUGIN, ERR } from './videoroom.mjs';
import { StreamMeter } from './stats.mjs';

const POLL_MS = 2000;
const NO_ROOM_POLL_MS = 5000;
const STATS_MS = 1000;
const RECONNECT_MS = 3000;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), pick: $('pick'), pickForm: $('pick-form'), pickRoom: $('pick-room'),
  watch: $('watch'), title: $('bc-title'), state: $('bc-state'),
  video: $('video'), frame: document.querySelector('#watch .stage-frame'), message: $('stage-message'),
  liveBadge: $('live-badge'), caption: $('stage-caption'),
  play: $('play-button'), unmute: $('unmute-button'), sound: $('sound-button'), fullscreen: $('fullscreen-button'),
  stat: { latency: $('stat-latency'), bitrate: $('stat-bitrate'), resolution: $('stat-resolution'), fps: $('stat-fps'), loss: $('stat-loss') },
};
const baseTitle = document.title;

const roomParam = new URLSearchParams(window.location.search).get('room');
const app = {
  // pick (no room in the link), connecting, offline, no-room, waiting,
  // starting (subscribing), playing, stopped (the presenter stopped)
  state: 'connecting',
  room: roomParam === null || roomParam.trim() === '' ? null : /^\d+$/.test(roomParam.trim()) ? Number(roomParam.trim()) : roomParam.trim(),
  session: null,
  control: null,
  iceServers: [],
  sub: null,             // our Subscriber, or null
  feed: null,            // the publisher id we receive (or are subscribing to)
  subscribing: false,
  seenLive: false,       // the presenter was live at some point while we watched
  description: null,     // the room's description (the broadcast title)
  display: null,         // the presenter's display name (the title they set)
  tracks: new Map(),     // our mid -> { type, feed, track } being received
  renderQueued: false,
  userMuted: true,       // the viewer has not unmuted (yet)
  playBlocked: false,
  meter: null, meterMid: null, jitter: null,
  lastPc: null,
  pollTimer: null, statsTimer: null, reconnectTimer: null,
  frames: 0,
  gonePolls: 0,          // polls in a row that found no publisher while we play
};

// ---------------------------------------------------------------- view

function setStatus(text, kind = 'info') {
  if (ui.status.textContent !== text) ui.status.textContent = text;   // no repeated announcements
  ui.status.classList.toggle('error', kind === 'error');
}

const MESSAGES = {
  connecting: 'Connecting…',
  offline: 'The server is unreachable. Trying again…',
  'no-room': 'There is no broadcast at this link.',
  waiting: 'The broadcast hasn\'t started yet, or is offline — waiting for the presenter…',
  starting: 'The broadcast is starting…',
  stopped: 'The presenter stopped; waiting for them to come back…',
  playing: '',
};

function setState(state, status = null, kind = 'info') {
  const changed = state !== app.state;
  app.state = state;
  document.body.dataset.state = state;
  ui.pick.hidden = state !== 'pick';
  ui.watch.hidden = state === 'pick';
  ui.message.textContent = MESSAGES[state] || '';
  ui.message.hidden = state === 'playing' || state === 'pick';
  ui.liveBadge.hidden = state !== 'playing';
  ui.state.textContent = state === 'playing' ? 'Live' : state === 'stopped' ? 'Paused by the presenter' : '';
  if (state !== 'playing') { ui.play.hidden = true; ui.unmute.hidden = true; clearStats(); }
  updateSound();
  ui.fullscreen.disabled = state !== 'playing' || !document.fullscreenEnabled;
  if (status !== null) setStatus(status, kind);
  else if (changed && MESSAGES[state]) setStatus(MESSAGES[state], state === 'offline' || state === 'no-room' ? 'error' : 'info');
}

function showTitle() {
  const t = app.display || app.description || (app.room !== null ? `Broadcast ${app.room}` : 'Broadcast');
  if (ui.title.textContent !== t) ui.title.textContent = t;
  document.title = `${t} — ${baseTitle}`;
}

function updateSound() {
  const v = ui.video;
  const playing = app.state === 'playing' && !app.playBlocked;
  const hasAudio = [...app.tracks.values()].some((x) => x.type === 'audio');
  ui.unmute.hidden = !(playing && v.muted && hasAudio);
  ui.sound.disabled = !(playing && hasAudio);
  ui.sound.textContent = v.muted ? 'Unmute' : 'Mute';
  ui.caption.textContent = app.state !== 'playing' ? ''
    : !hasAudio ? 'This broadcast has no sound.'
      : v.muted ? 'Sound is off. Use “Click to unmute”.' : 'Sound is on.';
}

// ---------------------------------------------------------------- connection

async function connect() {
  clearTimeout(app.reconnectTimer);
  setState('connecting');
  try {
    const [session, cfg] = await Promise.all([
      Session.connect({ onLost: connectionLost, onReconnecting, onReconnected, reconnect: true }),
      clientConfig(),
    ]);
    try {
      app.control = await session.attach(PLUGIN, `stoa-watch-${Math.random().toString(36).slice(2, 10)}`);
    } catch (e) {
      session.destroy().catch(() => { /* it times out on the server */ });
      throw e;
    }
    app.session = session;
    app.iceServers = cfg.iceServers;
  } catch (e) {
    const text = String(e.message || e).replace(/\.$/, '');
    const why = e instanceof JanusError && e.code === 460 ? `The server has no VideoRoom plugin (${PLUGIN})`
      : /unreachable/.test(text) ? text : `Could not reach the server (${text})`;
    setState('offline', `${why}. Trying again every few seconds.`, 'error');
    app.reconnectTimer = setTimeout(connect, RECONNECT_MS);
    return;
  }
  await readDescription();
  poll();
}

function connectionLost(why) {
  app.session = null;
  app.control = null;
  clearTimeout(app.pollTimer);
  dropSubscriber();
  setState('offline', `Lost the connection to the server (${why}). Trying again every few seconds.`, 'error');
  app.reconnectTimer = setTimeout(connect, RECONNECT_MS);
}

function onReconnecting() {
  setStatus('The connection to the server dropped; reconnecting… (the picture may keep playing meanwhile).', 'error');
}

function onReconnected() {
  setStatus(app.state === 'playing' ? 'Reconnected.' : MESSAGES[app.state] || 'Reconnected.');
}

// The room's description, from `list` (public rooms only).
async function readDescription() {
  try {
    const { data } = await app.control.message({ request: 'list' });
    const r = (data.list || []).find((x) => String(x.room) === String(app.room));
    if (r && r.description) app.description = r.description;
  } catch { /* the title stays generic */ }
  showTitle();
}

// ---------------------------------------------------------------- following the presenter

async function poll() {
  clearTimeout(app.pollTimer);
  const control = app.control;
  if (!control) return;
  let delay = POLL_MS;
  try {
    const { data } = await control.message({ request: 'listparticipants', room: app.room });
    if (control !== app.control) return;
    if (app.state === 'no-room') readDescription();
    const pub = (data.participants || []).find((p) => p.publisher);
    if (pub) {
      app.gonePolls = 0;
      if (pub.display && pub.display !== app.display) { app.display = pub.display; showTitle(); }
      if (pub.id !== app.feed && !app.subscribing) follow(pub.id);
    } else {
      presenterGone();
    }
  } catch (e) {
    if (control !== app.control) return;
    if (e.code === ERR.NO_SUCH_ROOM) {
      dropSubscriber();
      app.feed = null;
      app.description = null;
      app.display = null;
      showTitle();
      setState('no-room', `There is no broadcast in room ${app.room} on this server (it was never created, or it has ended). `
        + 'Check the link; this page connects by itself if the broadcast appears.', 'error');
      delay = NO_ROOM_POLL_MS;
    }
    // Other failures (a lost connection) are the session's to report.
  }
  if (control === app.control) app.pollTimer = setTimeout(poll, delay);
}

function presenterGone() {
  if (app.subscribing) return;
  app.feed = null;
  // The server's `updated` offer normally says so first; give it one more
  // poll before the picture is declared stopped.
  if (app.tracks.size && app.state === 'playing' && ++app.gonePolls < 2) return;
  setState(app.seenLive ? 'stopped' : 'waiting');
}

async function follow(feed) {
  app.subscribing = true;
  app.feed = feed;
  if (app.state !== 'playing') setState('starting');
  try {
    if (!app.sub) app.sub = newSubscriber();
    await app.sub.subscribe([{ feed }]);
    app.feed = feed;
  } catch (e) {
    app.feed = null;
    // 428: the publisher is not ready yet (or just left): the next poll tries
    // again. Anything else: start over with a fresh handle.
    if (!(e instanceof JanusError && e.code === ERR.NO_SUCH_FEED)) dropSubscriber();
    if (e.code === ERR.NO_SUCH_ROOM) { app.subscribing = false; poll(); return; }
    if (app.state === 'starting') setState(app.seenLive ? 'stopped' : 'waiting');
  } finally {
    app.subscribing = false;
  }
}

function newSubscriber() {
  const sub = new Subscriber(app.session, { room: app.room, iceServers: app.iceServers, opaqueId: `stoa-watch-${app.room}` });
  sub.ontrack = (t) => {
    if (sub !== app.sub) return;
    if (t.type !== 'audio' && t.type !== 'video') return;
    if (t.on && t.track) app.tracks.set(t.mid, { type: t.type, feed: t.feed, track: t.track });
    else app.tracks.delete(t.mid);
    queueRender();
  };
  sub.onmedia = (msg) => {
    // The server closed our PeerConnection (the room went away, or ICE failed): start over.
    if (msg.janus === 'hangup' && sub === app.sub) { dropSubscriber(); poll(); }
  };
  sub.onerror = () => { if (sub === app.sub) { dropSubscriber(); poll(); } };
  return sub;
}

function dropSubscriber() {
  const sub = app.sub;
  app.sub = null;
  app.feed = null;
  if (sub) {
    if (sub.pc) app.lastPc = sub.pc;
    sub.leave().catch(() => { /* the server cleans up with the session */ });
  }
  if (app.tracks.size) { app.tracks.clear(); queueRender(); }
}

// ---------------------------------------------------------------- playback

function queueRender() {
  if (app.renderQueued) return;
  app.renderQueued = true;
  setTimeout(() => { app.renderQueued = false; render(); }, 0);
}

// Shows what we receive: a MediaStream of the active tracks in the player.
function render() {
  const v = ui.video;
  const tracks = [...app.tracks.values()].map((x) => x.track);
  const current = v.srcObject ? v.srcObject.getTracks() : [];
  if (!tracks.length) {
    v.srcObject = null;
    clearInterval(app.statsTimer);
    app.meter = null;
    if (app.state === 'playing' && !app.subscribing) {
      app.feed = null;
      setState('stopped');
    }
    return;
  }
  const same = current.length === tracks.length && tracks.every((t) => current.includes(t));
  if (!same) {
    v.srcObject = new MediaStream(tracks);
    startPlayback();
  }
  const video = [...app.tracks.entries()].find(([, x]) => x.type === 'video');
  const pc = app.sub && app.sub.pc;
  if (pc) app.lastPc = pc;
  if (pc && video && (!app.meter || app.meter.pc !== pc || app.meterMid !== video[0])) {
    app.meter = new StreamMeter(pc, { direction: 'inbound', kind: 'video', mid: video[0] });
    app.meterMid = video[0];
    app.jitter = null;
  }
  clearInterval(app.statsTimer);
  app.statsTimer = setInterval(updateStats, STATS_MS);
  app.seenLive = true;
  setState('playing', app.display || app.description ? `Watching “${app.display || app.description}” live.` : `Watching room ${app.room} live.`);
}

function startPlayback() {
  const v = ui.video;
  v.muted = app.userMuted;
  v.play().then(() => {
    app.playBlocked = false;
    ui.play.hidden = true;
    updateSound();
  }).catch((e) => {
    if (e && e.name === 'AbortError') return;      // a newer stream replaced this one
    if (!v.muted) {                                 // sound refused without a gesture: play muted
      app.userMuted = true;
      startPlayback();
      return;
    }
    app.playBlocked = true;
    ui.play.hidden = app.state !== 'playing';
    updateSound();
  });
}

function clickPlay() {
  const v = ui.video;
  v.play().then(() => {
    app.playBlocked = false;
    ui.play.hidden = true;
    updateSound();
    ui.sound.focus();
  }).catch(() => setStatus('The browser still refuses to play this video. Check its autoplay settings for this site.', 'error'));
}

function setMuted(muted) {
  const v = ui.video;
  app.userMuted = muted;
  v.muted = muted;
  if (!muted && v.paused) v.play().catch(() => { v.muted = true; app.userMuted = true; updateSound(); });
  updateSound();
}

// ---------------------------------------------------------------- readout

function clearStats() {
  for (const dd of Object.values(ui.stat)) dd.textContent = '–';
}

async function updateStats() {
  const meter = app.meter;
  const pc = app.sub && app.sub.pc;
  if (!meter || !pc || app.state !== 'playing') return;
  const s = await meter.sample();
  let jb = null;
  try {
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video' && r.mid === app.meterMid)
        jb = { delay: r.jitterBufferDelay || 0, count: r.jitterBufferEmittedCount || 0, frames: r.framesDecoded || 0 };
    });
  } catch { /* closed meanwhile */ }
  if (meter !== app.meter || !s) return;
  let jitterMs = null;
  if (jb) {
    app.frames = jb.frames;
    const prev = app.jitter;
    if (prev && jb.count > prev.count) jitterMs = (1000 * (jb.delay - prev.delay)) / (jb.count - prev.count);
    else if (jb.count > 0) jitterMs = (1000 * jb.delay) / jb.count;
    app.jitter = jb;
  }
  if (jitterMs !== null) {
    const latency = jitterMs + (s.rttMs !== null ? s.rttMs / 2 : 0);
    ui.stat.latency.textContent = `≈ ${Math.round(latency)} ms`;
    ui.stat.latency.title = `jitter buffer ${Math.round(jitterMs)} ms + half the round trip ${s.rttMs !== null ? s.rttMs.toFixed(1) : '?'} ms`;
  }
  if (s.kbps !== null) ui.stat.bitrate.textContent = `${Math.round(s.kbps)} kbit/s`;
  ui.stat.resolution.textContent = s.width ? `${s.width}×${s.height}` : '–';
  ui.stat.fps.textContent = s.fps !== null ? `${Math.round(s.fps)} fps` : '–';
  if (s.lossPct !== null) ui.stat.loss.textContent = `${s.lossPct.toFixed(1)} %`;
}

// ---------------------------------------------------------------- wiring

ui.play.addEventListener('click', clickPlay);
ui.unmute.addEventListener('click', () => { setMuted(false); ui.sound.focus(); });
ui.sound.addEventListener('click', () => setMuted(!ui.video.muted));
ui.video.addEventListener('volumechange', updateSound);
ui.fullscreen.addEventListener('click', () => {
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  else ui.frame.requestFullscreen().catch(() => {});
});
ui.pickForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const room = ui.pickRoom.value.trim();
  if (!room) { ui.pickRoom.setAttribute('aria-invalid', 'true'); ui.pickRoom.focus(); return; }
  const url = new URL(window.location.href);
  url.searchParams.set('room', room);
  window.location.href = url.href;
});
window.addEventListener('pagehide', () => {
  clearTimeout(app.pollTimer);
  if (app.session) app.session.destroy().catch(() => { /* the page is going away */ });
});

if (app.room === null) {
  setState('pick', 'This page shows one broadcast: open the link the presenter shared, or type its room.');
  ui.pickRoom.focus();
} else {
  showTitle();
  connect();
}

// What the browser tests look at; not an API for pages. pc is the current
// subscriber RTCPeerConnection, or the last one.
window.stoaWatch = {
  get state() { return app.state; },
  get room() { return app.room; },
  get feed() { return app.feed; },
  get pc() { return app.sub && app.sub.pc ? app.sub.pc : app.lastPc; },
  get message() { return ui.message.hidden ? '' : ui.message.textContent; },
  get status() { return ui.status.textContent; },
  get muted() { return ui.video.muted; },
  get paused() { return ui.video.paused; },
  get playBlocked() { return app.playBlocked; },
  get videoWidth() { return ui.video.videoWidth; },
  get tracks() { return [...app.tracks.entries()].map(([mid, x]) => ({ mid, type: x.type, feed: x.feed, readyState: x.track.readyState })); },
};
