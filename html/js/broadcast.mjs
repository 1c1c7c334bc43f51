// broadcast.mjs: the presenter's "go live" page (broadcast.html).
//
// A broadcast is a VideoRoom room with `publishers: 1`: its one publisher is
// the presenter, everyone else subscribes (watch.html?room=<id>).
//
// Flow: the page connects (janus.mjs: WebSocket, else HTTP long poll) and
// attaches a control handle to janus.plugin.videoroom, used only for the
// synchronous room requests (create, edit, listparticipants). Go live:
//   1. capture the chosen camera and microphone (the preview may already
//      have them),
//   2. `create` the room (description = the title, publishers 1; the id
//      from ?room=, else the server picks one; "already exists" means we
//      come back to our own room after a reload or a Stop, and we reuse it),
//   3. join it as a publisher (videoroom.mjs Publisher) on a handle of its
//      own, and publish the tracks with simulcast.
// The watch link appears once the room exists, and the page's own address
// gets ?room= so a reload stays in the same broadcast. Every ~2 s
// `listparticipants` gives the viewer count: Stoa's reply carries the number
// of subscriber handles in the room as `subscribers` (Janus has no such
// field: the page then shows "–").
//
// Stop (and every failure once Go live was pressed) goes through stopRun():
// every captured track is stopped at once (the camera light goes off), then
// `unpublish` and `leave`, and the publisher handle is detached. Go live
// again joins the same room with a new handle, so viewers see a new
// publisher id; watch.html follows it.
//
// Switching camera, microphone or picture size while live replaces the
// track being sent (RTCRtpSender.replaceTrack), without renegotiation.
//
// For the browser tests, window.stoaBroadcast exposes the state, the room,
// the viewer count shown, every captured track and the PeerConnection (see
// the bottom). Threads: the page's main thread.

import { Session, JanusError, clientConfig } from './janus.mjs';
import { Publisher, PLUGIN, ERR } from './videoroom.mjs';
import { StreamMeter } from './stats.mjs';

const VIEWERS_POLL_MS = 2000;
const STATS_MS = 1000;
const RECONNECT_MS = 5000;
const ROOM_EXISTS = 427;           // VideoRoom: "Room <id> already exists"
const INVALID_ELEMENT = 430;       // VideoRoom: e.g. a numeric room id on a server with string ids
const SIZES = { 720: [1280, 720], 540: [960, 540], 360: [640, 360] };

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), secureNote: $('secure-note'),
  preview: $('preview'), stageMessage: $('stage-message'), liveBadge: $('live-badge'), caption: $('stage-caption'),
  live: $('live-button'), stop: $('stop-button'), previewButton: $('preview-button'),
  viewers: $('viewer-count'), link: $('watch-link'), copy: $('copy-button'), copyNote: $('copy-note'), open: $('open-link'),
  title: $('title'), camera: $('camera'), mic: $('mic'), quality: $('quality'), deviceHint: $('device-hint'),
  form: $('setup-form'),
  stat: { bitrate: $('stat-bitrate'), resolution: $('stat-resolution'), fps: $('stat-fps'), layers: $('stat-layers') },
};

const params = new URLSearchParams(window.location.search);
const parseRoom = (v) => (v === null || v.trim() === '' ? null : /^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());

const app = {
  state: 'connecting',   // connecting, offline, idle, starting, live, stopping
  session: null,
  control: null,         // handle for create / edit / listparticipants
  iceServers: [],
  room: parseRoom(params.get('room')),
  roomReady: false,      // we created the room, or found it there
  stream: null,          // the MediaStream we capture (preview or live), or null
  captured: [],          // every MediaStreamTrack this page captured
  run: null,             // the current broadcast (see goLive), or null
  lastPc: null,
  stopping: Promise.resolve(),
  viewers: null,         // the last count from the server, or null
  pollTimer: null,
  reconnectTimer: null,
  connecting: null,
};

// ---------------------------------------------------------------- view

function setStatus(text, kind = 'info') {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', kind === 'error');
}

function setState(state) {
  app.state = state;
  const live = state === 'live', busy = state === 'starting' || state === 'stopping';
  ui.live.hidden = live || state === 'stopping';
  ui.stop.hidden = !(live || state === 'stopping');
  ui.live.disabled = busy || state === 'connecting';
  ui.stop.disabled = state !== 'live';
  ui.previewButton.hidden = live || busy;
  ui.liveBadge.hidden = !live;
  ui.title.disabled = busy;
  ui.secureNote.hidden = window.isSecureContext && state !== 'offline';
  document.body.dataset.state = state;
  updateStage();
}

function updateStage() {
  const on = !!app.stream;
  ui.stageMessage.hidden = on;
  if (!on) ui.stageMessage.textContent = app.state === 'starting' ? 'Starting the camera…' : 'Camera off';
  ui.previewButton.textContent = on ? 'Turn camera off' : 'Preview camera';
  ui.caption.textContent = app.state === 'live' ? 'You are live: viewers see this picture.'
    : on ? 'Preview: only you see this until you go live.' : 'Preview: what viewers will see.';
}

function showViewers(n) {
  app.viewers = n;
  ui.viewers.textContent = typeof n === 'number' ? String(n) : '–';
}

function showLink() {
  if (app.room === null || !app.roomReady) return;
  const url = new URL(`watch.html?room=${encodeURIComponent(app.room)}`, window.location.href).href;
  ui.link.value = url;
  ui.copy.disabled = false;
  ui.open.href = url;
  ui.open.removeAttribute('aria-disabled');
  const own = new URL(window.location.href);
  if (own.searchParams.get('room') !== String(app.room)) {
    own.searchParams.set('room', String(app.room));
    history.replaceState(null, '', own.href);
  }
}

function describeError(e) {
  const text = String(e && e.message ? e.message : e).replace(/\.$/, '');
  if (e instanceof JanusError) {
    switch (e.code) {
    case 0: return `${/unreachable/.test(text) ? text : `The server is unreachable (${text})`}. Check that it is running; the page keeps trying.`;
    case 460: return `The server has no VideoRoom plugin (${PLUGIN}).`;
    case ERR.NO_SUCH_ROOM: return `The broadcast room ${app.room} does not exist on the server any more. Press Go live to create it again.`;
    case ERR.PUBLISHERS_FULL: return `Someone is already live in room ${app.room} (another tab, or a page closed less than a minute ago): a broadcast has one presenter. Open broadcast.html without ?room= to start a new one.`;
    case ERR.UNAUTHORIZED: return `The server refused (${text}). It may only let administrators create rooms (admin_key).`;
    default: return `Going live failed: ${text} (error ${e.code}).`;
    }
  }
  switch (e && e.name) {
  case 'NotAllowedError': case 'SecurityError':
    return 'Camera and microphone access was denied. Allow it for this site in the browser\'s settings (the camera icon in the address bar), then press Go live again.';
  case 'NotFoundError':
    return 'No camera or microphone was found. Connect one, then press Go live again.';
  case 'OverconstrainedError':
    return 'The chosen camera or microphone is not available any more. Pick another one.';
  case 'NotReadableError': case 'AbortError':
    return 'The camera or microphone could not be started (is another application using it?).';
  default:
    return `Going live failed: ${text}.`;
  }
}

// ---------------------------------------------------------------- connection

function connect() {
  if (app.session) return Promise.resolve(app.session);
  if (!app.connecting) {
    app.connecting = (async () => {
      clearTimeout(app.reconnectTimer);
      const [session, cfg] = await Promise.all([
        Session.connect({ onLost: connectionLost, onReconnecting, onReconnected, reconnect: true }),
        clientConfig(),
      ]);
      try {
        app.control = await session.attach(PLUGIN, `stoa-broadcast-${Math.random().toString(36).slice(2, 10)}`);
      } catch (e) {
        session.destroy().catch(() => { /* it times out on the server */ });
        throw e;
      }
      app.iceServers = cfg.iceServers;
      app.session = session;
      pollViewers();
      return session;
    })().finally(() => { app.connecting = null; });
  }
  return app.connecting;
}

async function firstConnect() {
  try {
    await connect();
    if (app.state !== 'connecting' && app.state !== 'offline') return;   // Go live got there first
    if (app.room !== null && !app.roomReady) {
      // Back in a room of ours (a reload): its link and viewers at once.
      const { data } = await app.control.message({ request: 'exists', room: app.room }).catch(() => ({ data: {} }));
      if (data.exists) { app.roomReady = true; showLink(); pollViewers(); }
    }
    setState('idle');
    setStatus(app.room !== null
      ? `Connected. Press Go live to broadcast in room ${app.room}.`
      : 'Connected. Pick a camera and microphone, then press Go live.');
  } catch (e) {
    if (app.state === 'connecting' || app.state === 'offline') goOffline(describeError(e));
    else scheduleReconnect();
  }
}

function scheduleReconnect() {
  clearTimeout(app.reconnectTimer);
  app.reconnectTimer = setTimeout(firstConnect, RECONNECT_MS);
}

function goOffline(text) {
  setState('offline');
  ui.live.disabled = false;     // Go live tries to connect again
  setStatus(text, 'error');
  showViewers(null);
  scheduleReconnect();
}

function connectionLost(why) {
  app.session = null;
  app.control = null;
  clearTimeout(app.pollTimer);
  const text = `Lost the connection to the server (${why}).${app.run ? ' The broadcast stopped.' : ''} The page keeps trying to reconnect.`;
  if (app.run) stopRun(app.run, { tellServer: false });
  goOffline(text);
}

function onReconnecting() {
  setStatus('The connection to the server dropped; reconnecting… (viewers keep receiving meanwhile).', 'error');
}

function onReconnected() {
  setStatus(app.state === 'live' ? `Reconnected. You are live in room ${app.room}.` : 'Reconnected to the server.');
}

// The viewer count: listparticipants every VIEWERS_POLL_MS while connected.
async function pollViewers() {
  clearTimeout(app.pollTimer);
  const control = app.control;
  if (!control) return;
  if (app.room !== null && app.roomReady) {
    try {
      const { data } = await control.message({ request: 'listparticipants', room: app.room });
      if (control !== app.control) return;
      showViewers(typeof data.subscribers === 'number' ? data.subscribers : null);
    } catch (e) {
      if (control !== app.control) return;
      if (e.code === ERR.NO_SUCH_ROOM) { app.roomReady = false; showViewers(null); }
    }
  }
  if (control === app.control) app.pollTimer = setTimeout(pollViewers, VIEWERS_POLL_MS);
}

// ---------------------------------------------------------------- devices

function constraintsFor(kind) {
  if (kind === 'audio') {
    const id = ui.mic.value;
    return id ? { deviceId: { exact: id } } : true;
  }
  const [w, h] = SIZES[ui.quality.value] || SIZES[720];
  const v = { width: { ideal: w }, height: { ideal: h }, frameRate: { ideal: 30 } };
  if (ui.camera.value) v.deviceId = { exact: ui.camera.value };
  return v;
}

async function listDevices() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return { audio: [], video: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  return { audio: all.filter((d) => d.kind === 'audioinput'), video: all.filter((d) => d.kind === 'videoinput') };
}

// Fills a picker, keeping the current choice (or the device in use) selected.
function fillPicker(select, devices, noun, inUse) {
  const want = inUse || select.value;
  const named = devices.filter((d) => d.deviceId && d.deviceId !== 'default' && d.deviceId !== 'communications');
  const options = [new Option('System default', '')];
  named.forEach((d, i) => options.push(new Option(d.label || `${noun} ${i + 1}`, d.deviceId)));
  select.replaceChildren(...options);
  select.value = named.some((d) => d.deviceId === want) ? want : '';
}

async function refreshDevices() {
  let devs;
  try { devs = await listDevices(); } catch { return; }
  const using = (kind) => {
    const t = app.stream && app.stream.getTracks().find((x) => x.kind === kind);
    return t && t.getSettings ? t.getSettings().deviceId : null;
  };
  fillPicker(ui.camera, devs.video, 'Camera', using('video'));
  fillPicker(ui.mic, devs.audio, 'Microphone', using('audio'));
  const labelled = [...devs.audio, ...devs.video].some((d) => d.label);
  ui.deviceHint.textContent = labelled
    ? 'You can switch camera, microphone or picture size while live.'
    : 'Device names appear once the browser lets this page use the camera. You can switch devices while live.';
  app.devices = devs;
}

// Captures every kind the machine has (one permission prompt), unless we already do.
async function ensureStream() {
  if (app.stream) return app.stream;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
    throw new Error('this page is not in a secure context, so the browser offers no camera (use localhost or HTTPS)');
  const devs = app.devices || await listDevices().catch(() => ({ audio: [1], video: [1] }));
  const want = { audio: devs.audio.length ? constraintsFor('audio') : false, video: devs.video.length ? constraintsFor('video') : false };
  if (!want.audio && !want.video) throw new DOMException('no camera or microphone', 'NotFoundError');
  const stream = await navigator.mediaDevices.getUserMedia(want);
  app.captured.push(...stream.getTracks());
  app.stream = stream;
  ui.preview.srcObject = stream;
  ui.preview.play().catch(() => { /* muted preview; autoplay allows it */ });
  updateStage();
  refreshDevices();
  return stream;
}

function releaseStream() {
  if (app.stream) for (const t of app.stream.getTracks()) t.stop();
  app.stream = null;
  ui.preview.srcObject = null;
  updateStage();
}

// A new device or size for one kind: capture it, swap it into the stream
// (and into the PeerConnection when live), stop the old track.
async function switchDevice(kind) {
  if (!app.stream) return;
  const stream = app.stream;
  const old = stream.getTracks().find((t) => t.kind === kind);
  try {
    if (old) old.stop();    // some cameras cannot be opened twice
    const got = await navigator.mediaDevices.getUserMedia({ [kind]: constraintsFor(kind) });
    const track = got.getTracks()[0];
    app.captured.push(track);
    if (app.stream !== stream) { track.stop(); return; }
    if (old) stream.removeTrack(old);
    stream.addTrack(track);
    ui.preview.srcObject = stream;
    ui.preview.play().catch(() => {});
    const run = app.run;
    if (run && run.pub && run.pub.pc) await run.pub.replaceTrack(kind, track);
    if (app.state === 'live') setStatus(`Switched ${kind === 'audio' ? 'microphone' : 'camera'}; you are still live in room ${app.room}.`);
  } catch (e) {
    setStatus(`Could not switch the ${kind === 'audio' ? 'microphone' : 'camera'}: ${describeError(e)}`, 'error');
  }
}

async function togglePreview() {
  if (app.state !== 'idle' && app.state !== 'offline') return;
  if (app.stream) { releaseStream(); setStatus('Camera and microphone off.'); return; }
  ui.previewButton.disabled = true;
  try {
    await ensureStream();
    setStatus('Previewing: only you see this. Press Go live to broadcast.');
  } catch (e) {
    setStatus(describeError(e), 'error');
  } finally {
    ui.previewButton.disabled = false;
  }
}

// ---------------------------------------------------------------- going live and stopping

function title() { return ui.title.value.trim() || 'Broadcast'; }

// Creates the room, or finds it there (ours, after a Stop or a reload). A
// room we pick ourselves gets a random 8-digit id (a short link); if that is
// taken we pick another, and a server with string ids picks one itself.
async function ensureRoom() {
  const chosen = app.room !== null;
  let serverPicks = false;
  for (let attempt = 0; ; attempt++) {
    const body = { request: 'create', description: title(), publishers: 1 };
    if (chosen) body.room = app.room;
    else if (!serverPicks) body.room = 10000000 + Math.floor(Math.random() * 90000000);
    try {
      const { data } = await app.control.message(body);
      app.room = data.room;
      break;
    } catch (e) {
      if (e.code === ROOM_EXISTS && chosen) {
        // Ours already (or someone's): keep its settings, refresh the title
        // (which fails harmlessly if the room has a secret).
        app.control.message({ request: 'edit', room: app.room, new_description: title() }).catch(() => {});
        break;
      }
      if (chosen || serverPicks || (e.code !== ROOM_EXISTS && e.code !== INVALID_ELEMENT)) throw e;
      serverPicks = e.code === INVALID_ELEMENT || attempt >= 3;
    }
  }
  app.roomReady = true;
  showLink();
}

async function goLive() {
  if (app.run || (app.state !== 'idle' && app.state !== 'offline')) return;
  const run = { pub: null, ended: false, statsTimer: null, meter: null };
  app.run = run;
  setState('starting');
  try {
    await app.stopping;
    setStatus('Connecting to the server…');
    await connect();
    if (run.ended) return;
    setStatus('Asking for your camera and microphone…');
    const stream = await ensureStream();
    if (run.ended) return;
    setStatus('Setting up the broadcast…');
    await ensureRoom();
    if (run.ended) return;
    const pub = await Publisher.join(app.session, { room: app.room, display: title(), iceServers: app.iceServers,
      opaqueId: `stoa-broadcast-${app.room}` });
    run.pub = pub;
    if (run.ended) { pub.leave().catch(() => {}); return; }
    pub.ondestroyed = () => { app.roomReady = false; stopRun(run, { status: 'The room was destroyed on the server; the broadcast stopped.', error: true, tellServer: false }); };
    pub.onkicked = () => stopRun(run, { status: 'An administrator removed you from the room; the broadcast stopped.', error: true, tellServer: false });
    pub.onmedia = (msg) => {
      if (msg.janus === 'hangup' && !run.ended)
        stopRun(run, { status: `The server closed the connection (${msg.reason || 'hangup'}); the broadcast stopped.`, error: true });
    };
    setStatus('Connecting the media…');
    const pc = await pub.publish(stream, { simulcast: true, descriptions: { audio: 'Microphone', video: 'Camera' } });
    app.lastPc = pc;
    if (run.ended) return;
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed' && !run.ended)
        stopRun(run, { status: 'The media connection to the server failed (ICE or DTLS). Check the network, then press Go live again.', error: true });
    });
    run.meter = new StreamMeter(pc, { direction: 'outbound', kind: 'video' });
    run.statsTimer = setInterval(() => updateStats(run), STATS_MS);
    setState('live');
    ui.stop.focus();
    setStatus(`You are live in room ${app.room}. Share the link for viewers.`);
  } catch (e) {
    if (!run.ended) stopRun(run, { status: describeError(e), error: true });
  }
}

// Every way a broadcast ends comes here. The tracks stop at once; the
// server is told (unpublish, leave) in the background, and the next Go live
// waits for that.
function stopRun(run, { status = null, error = false, tellServer = true } = {}) {
  if (run.ended) return;
  run.ended = true;
  if (app.run === run) app.run = null;
  clearInterval(run.statsTimer);
  releaseStream();
  clearStats();
  const hadFocus = document.activeElement === ui.stop;
  setState('stopping');
  const pub = run.pub;
  app.stopping = (async () => {
    if (!pub) return;
    if (tellServer && !app.session) { pub.closePc(); return; }
    if (tellServer && pub.pc) await pub.unpublish().catch(() => { /* closed anyway */ });
    await pub.leave().catch(() => {});
  })().finally(() => {
    if (app.state === 'stopping') setState(app.session ? 'idle' : 'offline');
    if (!app.session && !app.connecting) scheduleReconnect();
    if (hadFocus) ui.live.focus();
  });
  if (status !== null) setStatus(status, error ? 'error' : 'info');
  return app.stopping;
}

// ---------------------------------------------------------------- stats

function clearStats() {
  for (const dd of Object.values(ui.stat)) dd.textContent = '–';
}

async function updateStats(run) {
  const pc = run.pub && run.pub.pc;
  if (!pc || run.ended) return;
  const s = await run.meter.sample();
  let layers = 0;
  try {
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video' && r.frameWidth && r.active !== false) layers++;
    });
  } catch { /* closed meanwhile */ }
  if (run.ended || !s) return;
  if (s.kbps !== null) ui.stat.bitrate.textContent = `${Math.round(s.kbps)} kbit/s`;
  ui.stat.resolution.textContent = s.width ? `${s.width}×${s.height}` : '–';
  ui.stat.fps.textContent = s.fps !== null ? `${Math.round(s.fps)} fps` : '–';
  ui.stat.layers.textContent = layers ? String(layers) : '–';
}

// ---------------------------------------------------------------- copy

async function copyLink() {
  const url = ui.link.value;
  if (!url) return;
  try {
    await navigator.clipboard.writeText(url);
    ui.copyNote.textContent = 'Copied. Send it to your viewers.';
  } catch {
    ui.link.focus();
    ui.link.select();
    ui.copyNote.textContent = 'Selected: press Ctrl+C (⌘C on a Mac) to copy it.';
  }
}

// ---------------------------------------------------------------- wiring

ui.live.addEventListener('click', goLive);
ui.stop.addEventListener('click', () => {
  if (app.run) stopRun(app.run, { status: 'Stopped. Your camera and microphone are off; viewers see that you stopped. Go live again to continue in the same room.' });
});
ui.previewButton.addEventListener('click', togglePreview);
ui.copy.addEventListener('click', copyLink);
ui.link.addEventListener('focus', () => ui.link.select());
ui.camera.addEventListener('change', () => switchDevice('video'));
ui.quality.addEventListener('change', () => switchDevice('video'));
ui.mic.addEventListener('change', () => switchDevice('audio'));
ui.form.addEventListener('submit', (ev) => { ev.preventDefault(); if (app.state === 'idle') goLive(); });
ui.title.addEventListener('change', () => {
  const run = app.run;
  if (!run || !run.pub || app.state !== 'live') return;
  app.control.message({ request: 'edit', room: app.room, new_description: title() }).catch(() => {});
  run.pub.configure({ display: title() }).catch(() => {});
});
if (navigator.mediaDevices && navigator.mediaDevices.addEventListener)
  navigator.mediaDevices.addEventListener('devicechange', refreshDevices);
window.addEventListener('pagehide', () => {
  if (app.run) stopRun(app.run, { tellServer: false });
  releaseStream();
  if (app.session) app.session.destroy().catch(() => { /* the page is going away */ });
});

if (!window.isSecureContext) {
  ui.secureNote.classList.add('warning');
  ui.secureNote.setAttribute('role', 'alert');
}
setState('connecting');
refreshDevices();
firstConnect();

// What the browser tests look at; not an API for pages. pc is the current
// publishing RTCPeerConnection, or the last one (closed) after Stop.
window.stoaBroadcast = {
  get state() { return app.state; },
  get room() { return app.room; },
  get watchUrl() { return ui.link.value; },
  get viewers() { return ui.viewers.textContent; },
  get viewerCount() { return app.viewers; },
  get pc() { return app.run && app.run.pub && app.run.pub.pc ? app.run.pub.pc : app.lastPc; },
  get publisherId() { return app.run && app.run.pub ? app.run.pub.id : null; },
  get tracks() { return app.captured.map((t) => ({ kind: t.kind, label: t.label, readyState: t.readyState })); },
};
