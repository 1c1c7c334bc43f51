// echotest.mjs: the loopback page (echotest.html) on janus.plugin.echotest.
//
// Flow: Start connects (janus.mjs: WebSocket, else HTTP long poll) and
// attaches to the EchoTest plugin the first time, captures the camera and
// microphone, and sends {audio:true, video:true} with an offer; the plugin
// answers and relays our media back on the same m-lines. The two checkboxes
// send {audio:bool} / {video:bool}. Every second the stats panel reads the
// echoed video from getStats(). Stop (and any failure after Start) goes
// through stopEcho(), which asks the server to hang up the PeerConnection
// (core `hangup`; the session and handle stay for the next Start), stops
// every local track, closes the RTCPeerConnection and shows Start again.
//
// The server closes its side of a PeerConnection asynchronously after a
// hangup, and an offer that arrives before it has would be taken for a
// renegotiation of the dying one: a new Start waits for the core `hangup`
// event (or a short timeout) first.
//
// For the browser tests, window.stoaEcho exposes the RTCPeerConnection, the
// state and the captured tracks (see the bottom).

import { Session, JanusError } from './janus.mjs';

const PLUGIN = 'janus.plugin.echotest';
const STATS_MS = 1000;
const SERVER_CLEANUP_WAIT_MS = 2000;
const CONSTRAINTS = { audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } };

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), secureNote: $('secure-note'),
  start: $('start'), startTitle: $('start-title'), startButton: $('start-button'),
  echo: $('echo'), localVideo: $('local-video'), remoteVideo: $('remote-video'),
  echoAudio: $('echo-audio'), echoVideo: $('echo-video'), stop: $('stop-button'),
  stat: { bitrate: $('stat-bitrate'), resolution: $('stat-resolution'), fps: $('stat-fps'), lost: $('stat-lost'), rtt: $('stat-rtt') },
};

const app = {
  state: 'idle',         // idle, starting, running
  session: null,
  handle: null,
  run: null,             // the current run (see startEcho), or null
  pc: null,              // the current or last RTCPeerConnection
  captured: [],          // every MediaStreamTrack this page captured
  serverPc: false,       // the server may still hold a PeerConnection for our handle
  serverPcWaiters: [],
};

// ---------------------------------------------------------------- view helpers

function setStatus(text, kind = 'info') {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', kind === 'error');
}

function showRunning(on) {
  ui.start.hidden = on;
  ui.echo.hidden = !on;
  ui.secureNote.hidden = on && window.isSecureContext;
}

function describeError(e) {
  const text = String(e && e.message ? e.message : e).replace(/\.$/, '');
  if (e instanceof JanusError) {
    if (e.code === 460) return `The server has no EchoTest plugin (${PLUGIN}).`;
    if (!e.code) return `${text}. Check that the server is running, then press Start again.`;
    return `The echo test failed: ${text} (error ${e.code}).`;
  }
  switch (e && e.name) {
  case 'NotAllowedError': case 'SecurityError':
    return 'Camera and microphone access was denied. Allow it for this site in the browser\'s settings, then press Start again.';
  case 'NotFoundError': case 'OverconstrainedError':
    return 'No camera or microphone was found.';
  case 'NotReadableError': case 'AbortError':
    return 'The camera or microphone could not be started (is another application using it?).';
  default:
    return `The echo test failed: ${text}.`;
  }
}

// ---------------------------------------------------------------- connection

async function ensureHandle() {
  if (app.handle) return app.handle;
  if (!app.session) app.session = await Session.connect({ onLost: connectionLost });
  const handle = await app.session.attach(PLUGIN, `stoa-echo-${Math.random().toString(36).slice(2, 10)}`);
  handle.onevent = onPluginEvent;
  handle.oncore = onCoreEvent;
  app.handle = handle;
  return handle;
}

function connectionLost(why) {
  app.session = null;
  app.handle = null;
  serverPcGone();
  const text = `The connection to the server was lost (${why}). Press Start to try again.`;
  if (app.run) stopEcho(app.run, { status: text, error: true, tellServer: false });
  else setStatus(text, 'error');
}

function onPluginEvent({ data }) {
  if (!data) return;
  // A "done" result needs nothing here: the core `hangup` that comes with it
  // ends the run, and a late "done" must not end the next one.
  if (data.error_code) setStatus(`The server reported: ${data.error} (error ${data.error_code}).`, 'error');
}

function onCoreEvent(msg) {
  if (msg.janus === 'hangup') {
    serverPcGone();
    const r = app.run;
    if (r && r.answered && !r.ended)
      stopEcho(r, { status: `The server closed the connection (${msg.reason || 'hangup'}).`, error: true, tellServer: false });
  } else if (msg.janus === 'detached') {
    app.handle = null;
    serverPcGone();
    if (app.run) stopEcho(app.run, { status: 'The server ended this page\'s EchoTest handle.', error: true, tellServer: false });
  }
}

function serverPcGone() {
  app.serverPc = false;
  for (const wake of app.serverPcWaiters.splice(0)) wake();
}

function serverPcClosed() {
  if (!app.serverPc) return Promise.resolve();
  return new Promise((resolve) => {
    app.serverPcWaiters.push(resolve);
    setTimeout(resolve, SERVER_CLEANUP_WAIT_MS);
  });
}

// ---------------------------------------------------------------- start and stop

async function startEcho() {
  if (app.run) return;
  const r = { stream: null, pc: null, unbind: null, statsTimer: null, prev: null, answered: false, ended: false };
  app.run = r;
  app.state = 'starting';
  ui.startButton.disabled = true;
  ui.echoAudio.checked = true;
  ui.echoVideo.checked = true;
  setStatus('Connecting to the server…');
  try {
    const handle = await ensureHandle();
    if (r.ended) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
      throw new Error('this page is not in a secure context, so the browser offers no camera (use localhost or HTTPS)');
    setStatus('Asking for your camera and microphone…');
    const stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    app.captured.push(...stream.getTracks());
    r.stream = stream;
    if (r.ended) { for (const t of stream.getTracks()) t.stop(); return; }
    ui.localVideo.srcObject = stream;

    // No ICE servers: the other end is the server, which trickles its own candidates.
    const pc = new RTCPeerConnection({ iceServers: [] });
    r.pc = pc;
    app.pc = pc;
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    const remote = new MediaStream();
    pc.ontrack = (ev) => {
      const s = ev.streams && ev.streams[0] ? ev.streams[0] : remote;
      if (s === remote) remote.addTrack(ev.track);
      if (ui.remoteVideo.srcObject !== s) ui.remoteVideo.srcObject = s;
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && !r.ended)
        stopEcho(r, { status: 'The connection to the server failed (ICE or DTLS). Check the network, then press Start again.', error: true });
    };
    r.unbind = handle.bindPeerConnection(pc);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await serverPcClosed();
    if (r.ended) return;
    app.serverPc = true;
    setStatus('Negotiating with the server…');
    const { jsep } = await handle.message({ audio: true, video: true }, { type: offer.type, sdp: offer.sdp });
    if (r.ended) return;
    if (!jsep || jsep.type !== 'answer') throw new Error('the server sent no answer');
    await pc.setRemoteDescription(jsep);
    if (r.ended) return;
    r.answered = true;
    app.state = 'running';
    showRunning(true);
    ui.stop.focus();
    setStatus(`Running (${app.session.transportKind === 'websocket' ? 'WebSocket' : 'HTTP long poll'}): what you see on the right has been to the server and back.`);
    r.statsTimer = setInterval(() => updateStats(r), STATS_MS);
  } catch (e) {
    if (!r.ended) stopEcho(r, { status: describeError(e), error: true });
  }
}

// Every way a run ends comes here: hang up on the server (unless it is the
// one that ended it), stop every local track, close the PeerConnection and
// show Start again.
function stopEcho(r, { status, error = false, tellServer = true }) {
  if (r.ended) return;
  r.ended = true;
  if (app.run === r) app.run = null;
  clearInterval(r.statsTimer);
  if (r.unbind) r.unbind();
  if (r.pc) {
    r.pc.ontrack = null;
    r.pc.onconnectionstatechange = null;
    for (const s of r.pc.getSenders()) if (s.track) s.track.stop();
    r.pc.close();
  }
  if (r.stream) for (const t of r.stream.getTracks()) t.stop();
  if (tellServer && app.serverPc && app.handle)
    app.handle.hangup().catch(() => { /* the server may have closed it already */ });
  ui.localVideo.srcObject = null;
  ui.remoteVideo.srcObject = null;
  clearStats();
  app.state = 'idle';
  ui.startButton.disabled = false;
  const hadFocus = !ui.echo.hidden && ui.echo.contains(document.activeElement);
  showRunning(false);
  setStatus(status, error ? 'error' : 'info');
  if (hadFocus) ui.startButton.focus();
}

// ---------------------------------------------------------------- echo switches

function setEcho(kind, box) {
  const r = app.run;
  if (!r || !r.answered || !app.handle) return;
  const on = box.checked;
  box.disabled = true;
  app.handle.message({ [kind]: on })
    .then(() => setStatus(`Echo ${kind} ${on ? 'on' : 'off'}.`))
    .catch((e) => {
      if (r.ended) return;
      box.checked = !on;
      setStatus(`Could not switch the ${kind} echo: ${e.message}.`, 'error');
    })
    .finally(() => { box.disabled = false; });
}

// ---------------------------------------------------------------- stats

function clearStats() {
  for (const dd of Object.values(ui.stat)) dd.textContent = '–';
}

// The echoed video (the inbound video stream) and the round-trip time of the
// candidate pair in use. The bitrate is the difference of bytesReceived
// between two reports.
async function updateStats(r) {
  let report;
  try { report = await r.pc.getStats(); } catch { return; }
  if (r.ended) return;
  let video = null, pair = null, selectedId = null;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
    else if (s.type === 'transport' && s.selectedCandidatePairId) selectedId = s.selectedCandidatePairId;
  });
  if (selectedId) pair = report.get(selectedId);
  if (!pair) report.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });

  if (video) {
    const prev = r.prev;
    if (prev && video.timestamp > prev.timestamp) {
      const kbps = ((video.bytesReceived - prev.bytes) * 8) / (video.timestamp - prev.timestamp);   // bits per ms = kbit/s
      ui.stat.bitrate.textContent = `${Math.max(0, Math.round(kbps))} kbit/s`;
    }
    r.prev = { bytes: video.bytesReceived || 0, timestamp: video.timestamp };
    ui.stat.resolution.textContent = video.frameWidth ? `${video.frameWidth}×${video.frameHeight}` : '–';
    ui.stat.fps.textContent = video.framesPerSecond !== undefined ? `${Math.round(video.framesPerSecond)} fps` : '–';
    ui.stat.lost.textContent = String(video.packetsLost || 0);
  }
  ui.stat.rtt.textContent = pair && pair.currentRoundTripTime !== undefined
    ? `${(pair.currentRoundTripTime * 1000).toFixed(1)} ms` : '–';
}

// ---------------------------------------------------------------- wiring

ui.startButton.addEventListener('click', startEcho);
ui.stop.addEventListener('click', () => {
  if (app.run) stopEcho(app.run, { status: 'Stopped. The camera and microphone are off; press Start to run the test again.' });
});
ui.echoAudio.addEventListener('change', () => setEcho('audio', ui.echoAudio));
ui.echoVideo.addEventListener('change', () => setEcho('video', ui.echoVideo));
window.addEventListener('pagehide', () => {
  if (app.run) stopEcho(app.run, { status: '', tellServer: false });
  if (app.session) app.session.destroy().catch(() => { /* the page is going away */ });
});

if (!window.isSecureContext) {
  ui.secureNote.classList.add('warning');
  ui.secureNote.setAttribute('role', 'alert');
}

// What the browser tests look at; not an API for pages. pc is the current
// RTCPeerConnection, or the last one (closed) after Stop.
window.stoaEcho = {
  get pc() { return app.pc; },
  get state() { return app.state; },
  get tracks() { return app.captured.map((t) => ({ kind: t.kind, label: t.label, readyState: t.readyState, enabled: t.enabled })); },
};
