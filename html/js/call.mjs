// call.mjs: the one-to-one video call page (call.html) on janus.plugin.videocall.
//
// Flow: connect (janus.mjs: WebSocket, else HTTP long poll) and attach to the
// VideoCall plugin; `register` a name; keep the list of people online; call
// someone (`call` with our offer), or get an `incomingcall` (the server's
// offer) and `accept` it with an answer, or decline it with `hangup`; in a
// call, `set` mutes the microphone; `hangup` ends it. Any end of a call
// (either side hanging up, declining, busy, the other side's connection
// dropping, an error) goes through endCall(), which stops every local track,
// closes the RTCPeerConnection and returns to the list.
//
// The list of people: Stoa's VideoCall pushes `presence` events (list and
// busy names) when `register` carries presence:true. Janus ignores that
// field and pushes nothing, so until the first presence event arrives the
// page asks with `list` every few seconds (and then knows nobody's busy state).
//
// For the browser tests, window.stoaCall exposes the current
// RTCPeerConnection, the state and the captured tracks (see the bottom).

import { Session, JanusError } from './janus.mjs';

const PLUGIN = 'janus.plugin.videocall';
const LIST_POLL_MS = 3000;
// How long a core `hangup` (the server closed our PeerConnection) waits for
// the plugin's own hangup event, which says why.
const CORE_HANGUP_GRACE_MS = 1500;
// How long our own hangup waits for the server before closing the PeerConnection.
const HANGUP_CLOSE_WAIT_MS = 2000;
// How long a new call waits for the server to finish closing the previous
// PeerConnection of the handle (see serverPcClosed).
const SERVER_CLEANUP_WAIT_MS = 2000;

// VideoCall error codes (janus.plugin.videocall).
const ERR = { REGISTER_FIRST: 473, USERNAME_TAKEN: 476, ALREADY_REGISTERED: 477, NO_SUCH_USERNAME: 478,
  USE_ECHO_TEST: 479, ALREADY_IN_CALL: 480, NO_CALL: 481 };

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), secureNote: $('secure-note'),
  register: $('register'), registerForm: $('register-form'), username: $('username'),
  registerButton: $('register-button'), registerError: $('register-error'),
  people: $('people'), peopleTitle: $('people-title'), myName: $('my-name'), signout: $('signout-button'),
  peopleMode: $('people-mode'), peopleList: $('people-list'), peopleEmpty: $('people-empty'),
  calling: $('calling'), callingName: $('calling-name'), cancel: $('cancel-button'),
  call: $('call'), callName: $('call-name'), remoteVideo: $('remote-video'), remoteCaption: $('remote-caption'),
  localVideo: $('local-video'), localFlags: $('local-flags'),
  mute: $('mute-button'), camera: $('camera-button'), hangup: $('hangup-button'),
  offline: $('offline'), offlineText: $('offline-text'), retry: $('retry-button'),
  incoming: $('incoming'), incomingName: $('incoming-name'), accept: $('accept-button'), decline: $('decline-button'),
};
const VIEWS = ['register', 'people', 'calling', 'call', 'offline'];
const baseTitle = document.title;

const app = {
  session: null,
  handle: null,
  me: null,              // our registered name
  presence: false,       // the server pushes presence events
  online: [],            // names online, ourselves included
  busy: new Set(),       // names in a call or ringing (presence only)
  pollTimer: null,
  call: null,            // the call in progress (see newCall), or null
  lastCall: null,
  captured: [],          // every MediaStreamTrack this page captured
  log: [],               // the last plugin events, for debugging
  constraints: { audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } },
  connecting: false,
  // The server holds a PeerConnection for our handle from the first SDP of
  // a call (our offer, or its offer to us) until it sends a core `hangup`.
  // It closes it asynchronously after a call ends, and an offer sent before
  // that is taken for a renegotiation of the dying one, so a new call waits.
  serverPc: false,
  serverPcWaiters: [],
};

// ---------------------------------------------------------------- view helpers

function show(view) {
  for (const v of VIEWS) ui[v].hidden = v !== view;
  // The secure-context note matters before a call; in a call it only takes room.
  ui.secureNote.hidden = view === 'call' && window.isSecureContext;
}

function setStatus(text, kind = 'info') {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', kind === 'error');
}

function describeError(e, peer) {
  if (e instanceof JanusError) {
    switch (e.code) {
    case ERR.NO_SUCH_USERNAME: return `${peer} is not online any more (${e.message}).`;
    case ERR.USE_ECHO_TEST: return `You can't call yourself (${e.message}).`;
    case ERR.ALREADY_IN_CALL: return `You are already in a call (${e.message}).`;
    case ERR.REGISTER_FIRST: return `Register a name first (${e.message}).`;
    default: return `The call failed: ${e.message}${e.code ? ` (error ${e.code})` : ''}.`;
    }
  }
  switch (e && e.name) {
  case 'NotAllowedError': case 'SecurityError':
    return 'Camera and microphone access was denied. Allow it for this site in the browser\'s settings, then try again.';
  case 'NotFoundError': case 'OverconstrainedError':
    return 'No camera or microphone was found.';
  case 'NotReadableError': case 'AbortError':
    return 'The camera or microphone could not be started (is another application using it?).';
  default:
    return `The call failed: ${e && e.message ? e.message : e}.`;
  }
}

// ---------------------------------------------------------------- connection

async function connect() {
  if (app.connecting) return;
  app.connecting = true;
  show(null);
  setStatus('Connecting to the server…');
  try {
    app.session = await Session.connect({ onLost: connectionLost });
    await attachHandle();
  } catch (e) {
    const text = e instanceof JanusError && e.code === 460
      ? `The server has no VideoCall plugin (${PLUGIN}).`
      : e.message || String(e);
    if (app.session) app.session.destroy().catch(() => { /* it times out on the server */ });
    app.session = null;
    goOffline(`Could not connect: ${text}`);
    return;
  } finally {
    app.connecting = false;
  }
  setStatus(`Connected (${app.session.transportKind === 'websocket' ? 'WebSocket' : 'HTTP long poll'}). Pick a name to go online.`);
  showRegister();
}

async function attachHandle() {
  const handle = await app.session.attach(PLUGIN, `stoa-call-${Math.random().toString(36).slice(2, 10)}`);
  handle.onevent = onPluginEvent;
  handle.oncore = onCoreEvent;
  app.handle = handle;
}

function goOffline(text) {
  stopPolling();
  app.me = null;
  app.handle = null;
  ui.offlineText.textContent = text;
  setStatus(text, 'error');
  show('offline');
  ui.retry.focus();
}

function connectionLost(why) {
  if (app.call) endCall(app.call, { status: null });
  if (ui.incoming.open) ui.incoming.close();
  app.session = null;
  goOffline(`Lost the connection to the server (${why}). Calls need it: try again when it is back.`);
}

// ---------------------------------------------------------------- registration and the list

function showRegister() {
  app.me = null;
  app.presence = false;
  app.online = [];
  app.busy = new Set();
  ui.registerError.textContent = '';
  ui.username.removeAttribute('aria-invalid');
  ui.registerButton.disabled = false;
  show('register');
  ui.username.focus();
}

async function register(name) {
  ui.registerError.textContent = '';
  if (!name) {
    ui.registerError.textContent = 'Type a name first.';
    ui.username.setAttribute('aria-invalid', 'true');
    ui.username.focus();
    return;
  }
  ui.registerButton.disabled = true;
  try {
    const { data } = await app.handle.message({ request: 'register', username: name, presence: true });
    app.me = (data.result && data.result.username) || name;
  } catch (e) {
    ui.registerButton.disabled = false;
    ui.username.setAttribute('aria-invalid', 'true');
    ui.registerError.textContent = e.code === ERR.USERNAME_TAKEN
      ? `Someone online is already called “${name}”. Pick another name.`
      : `Could not register “${name}”: ${e.message}${e.code ? ` (error ${e.code})` : ''}.`;
    ui.username.focus();
    ui.username.select();
    return;
  }
  ui.username.removeAttribute('aria-invalid');
  ui.myName.textContent = app.me;
  setStatus(`You are online as ${app.me}.`);
  showPeople();
  ui.peopleTitle.focus();
  refreshList();
}

function showPeople() {
  renderPeople();
  show('people');
}

// Asks for the list now, and again every LIST_POLL_MS until the server
// shows that it pushes presence events.
async function refreshList() {
  clearTimeout(app.pollTimer);
  app.pollTimer = null;
  const handle = app.handle;
  if (!handle || !app.me) return;
  try {
    const { data } = await handle.message({ request: 'list' });
    if (handle === app.handle && data.result && Array.isArray(data.result.list))
      setPeople(data.result.list, null);
  } catch { /* the next poll retries; a lost session is reported elsewhere */ }
  if (handle === app.handle && app.me && !app.presence)
    app.pollTimer = setTimeout(refreshList, LIST_POLL_MS);
  renderPeople();
}

function stopPolling() {
  clearTimeout(app.pollTimer);
  app.pollTimer = null;
}

// busy: a list of names, or null to keep what presence said before.
function setPeople(list, busy) {
  app.online = [...new Set(list.map(String))];
  if (busy) app.busy = new Set(busy.map(String));
  else app.busy = new Set([...app.busy].filter((n) => app.online.includes(n)));
  renderPeople();
}

function renderPeople() {
  const me = app.me;
  const names = app.online.filter((n) => n !== me).sort((a, b) => a.localeCompare(b));
  if (me) names.unshift(me);
  const items = names.map((name) => {
    const li = document.createElement('li');
    li.dataset.name = name;
    const label = document.createElement('span');
    label.className = 'name';
    label.textContent = name;
    li.append(label);
    const busy = app.busy.has(name) && name !== me;
    if (name === me || busy) {
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = name === me ? 'you' : 'in a call';
      li.append(tag);
    }
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Call';
    button.setAttribute('aria-label', name === me ? 'Call (this is you)' : busy ? `Call ${name} (busy)` : `Call ${name}`);
    button.disabled = name === me || busy || app.call !== null;
    button.addEventListener('click', () => startCall(name));
    li.append(button);
    return li;
  });
  // Keep the focused button focused across a re-render.
  const focused = document.activeElement && ui.peopleList.contains(document.activeElement)
    ? document.activeElement.closest('li').dataset.name : null;
  ui.peopleList.replaceChildren(...items);
  if (focused) {
    const again = [...ui.peopleList.children].find((li) => li.dataset.name === focused);
    if (again && !again.querySelector('button').disabled) again.querySelector('button').focus();
  }
  ui.peopleEmpty.hidden = names.length > 1;
  ui.peopleMode.textContent = app.presence
    ? 'The list updates as people come and go.'
    : `This server does not push presence; the list is refreshed every ${LIST_POLL_MS / 1000} s.`;
}

async function signOut() {
  if (app.call) return;
  stopPolling();
  const old = app.handle;
  app.handle = null;
  app.me = null;
  try { await old.detach(); } catch { /* it goes with the session anyway */ }
  try {
    await attachHandle();
  } catch (e) {
    goOffline(`Could not reattach to the VideoCall plugin: ${e.message}`);
    return;
  }
  setStatus('Signed out. Pick a name to go online again.');
  showRegister();
}

// ---------------------------------------------------------------- plugin and core events

function onPluginEvent({ data, jsep }) {
  if (!data) return;
  const r = data.result;
  app.log.push({ t: Date.now(), data, jsep: jsep ? jsep.type : null });
  if (app.log.length > 100) app.log.shift();
  if (data.error_code) {
    setStatus(`The server reported: ${data.error} (error ${data.error_code}).`, 'error');
    return;
  }
  if (!r) return;
  const c = app.call;
  switch (r.event) {
  case 'presence':
    if (!app.presence) { app.presence = true; stopPolling(); }
    if (Array.isArray(r.list)) setPeople(r.list, Array.isArray(r.busy) ? r.busy : []);
    break;
  case 'incomingcall':
    incomingCall(r.username, jsep);
    break;
  case 'accepted':
    if (c && c.dir === 'out' && jsep) callAccepted(c, jsep);
    break;
  case 'hangup':
    // A hangup that names neither us nor our peer is left over from an
    // earlier call. So is one that comes before the server has answered
    // our `call`: the server sends everything about this call after that
    // answer (a busy callee's hangup is the answer itself), but the end of
    // the previous call may still be on its way.
    if (!c || (r.username && r.username !== app.me && r.username !== c.peer)) break;
    if (c.dir === 'out' && !c.answered) break;
    peerHungUp(c, r.reason || 'hangup');
    break;
  case 'update':
    if (c && c.pc && jsep) renegotiate(c, jsep);
    break;
  default:
    break;
  }
}

function onCoreEvent(msg) {
  const c = app.call;
  if (msg.janus === 'webrtcup') {
    if (c && c.pc) c.webrtcUp = true;
  } else if (msg.janus === 'hangup') {
    app.serverPc = false;
    for (const wake of app.serverPcWaiters.splice(0)) wake();
    // The server closed the PeerConnection of this handle. The plugin's
    // hangup event (with its reason) normally comes with it; if it does
    // not, end the call anyway. Only a PeerConnection that was up counts:
    // a core hangup before that is left over from an earlier attempt.
    if (c && c.webrtcUp && !c.coreHangupTimer)
      c.coreHangupTimer = setTimeout(() => {
        if (!c.ended) endCall(c, { status: `The call with ${c.peer} ended: the server closed the connection (${msg.reason}).` });
      }, CORE_HANGUP_GRACE_MS);
  } else if (msg.janus === 'detached') {
    if (app.call) endCall(app.call, { status: null });
    goOffline('The server ended this page\'s VideoCall session.');
  }
}

// ---------------------------------------------------------------- calls

function serverPcClosed() {
  if (!app.serverPc) return Promise.resolve();
  return new Promise((resolve) => {
    app.serverPcWaiters.push(resolve);
    setTimeout(resolve, SERVER_CLEANUP_WAIT_MS);
  });
}

let callSeq = 0;
function newCall(peer, dir) {
  const c = { id: ++callSeq, peer, dir, state: 'starting', pc: null, stream: null, unbind: null,
    offer: null, answered: false, webrtcUp: false, coreHangupTimer: null, ended: false, muted: false, cameraOff: false,
    startedAt: Date.now() };
  app.call = c;
  app.lastCall = c;
  renderPeople();
  return c;
}

async function openMedia(c) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
    throw new Error('this page is not in a secure context, so the browser offers no camera (use localhost or HTTPS)');
  const stream = await navigator.mediaDevices.getUserMedia(app.constraints);
  app.captured.push(...stream.getTracks());
  if (c.ended) {
    for (const t of stream.getTracks()) t.stop();
    throw Object.assign(new Error('the call ended'), { name: 'CallEnded' });
  }
  c.stream = stream;
  ui.localVideo.srcObject = stream;
}

// A PeerConnection with our tracks, bound to the handle for trickle. No ICE
// servers: the other end is the server, which publishes its own candidates.
function makePeerConnection(c) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  c.pc = pc;
  for (const t of c.stream.getTracks()) pc.addTrack(t, c.stream);
  const remote = new MediaStream();
  pc.ontrack = (ev) => {
    const stream = ev.streams && ev.streams[0] ? ev.streams[0] : remote;
    if (stream === remote) remote.addTrack(ev.track);
    if (ui.remoteVideo.srcObject !== stream) ui.remoteVideo.srcObject = stream;
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed' && !c.ended) hangUp(c, 'Connection failed', `The connection to ${c.peer} failed.`);
  };
  c.unbind = app.handle.bindPeerConnection(pc);
  return pc;
}

async function startCall(peer) {
  if (app.call || !app.me || !app.handle) return;
  if (peer === app.me) { setStatus('You can\'t call yourself.', 'error'); return; }
  const c = newCall(peer, 'out');
  ui.callingName.textContent = peer;
  show('calling');
  ui.cancel.focus();
  setStatus(`Calling ${peer}…`);
  let sent = false;
  try {
    await openMedia(c);
    const pc = makePeerConnection(c);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await serverPcClosed();
    if (c.ended) return;
    c.state = 'calling';
    sent = true;
    app.serverPc = true;
    const { data } = await app.handle.message({ request: 'call', username: peer }, { type: offer.type, sdp: offer.sdp });
    c.answered = true;
    const r = data && data.result;
    // A busy callee is answered in the reply itself (or as an event).
    if (r && r.event === 'hangup' && !c.ended) peerHungUp(c, r.reason || 'hangup');
  } catch (e) {
    if (c.ended) return;
    // The server may hold half a PeerConnection for our offer: close it, so
    // the next call starts clean.
    endCall(c, { status: describeError(e, peer), error: true, resetServer: sent });
  }
}

function callAccepted(c, jsep) {
  c.pc.setRemoteDescription(jsep).then(() => {
    if (c.ended) return;
    c.state = 'incall';
    enterCallView(c);
    setStatus(`In a call with ${c.peer}.`);
  }).catch((e) => hangUp(c, 'Negotiation failed', `The call with ${c.peer} failed: ${e.message}.`));
}

function incomingCall(peer, jsep) {
  if (app.call || !jsep) return;   // the server answers "User busy" for us
  app.serverPc = true;
  const c = newCall(peer, 'in');
  c.state = 'ringing';
  c.offer = jsep;
  ui.incomingName.textContent = peer;
  document.title = `${peer} is calling — ${baseTitle}`;
  setStatus(`${peer} is calling you.`);
  ui.incoming.dataset.returnFocus = document.activeElement && document.activeElement.id ? document.activeElement.id : '';
  ui.incoming.showModal();
  ui.accept.focus();
}

async function acceptCall() {
  const c = app.call;
  if (!c || c.state !== 'ringing') return;
  c.state = 'answering';
  closeDialog();
  enterCallView(c);
  setStatus(`Connecting to ${c.peer}…`);
  try {
    await openMedia(c);
    const pc = makePeerConnection(c);
    await pc.setRemoteDescription(c.offer);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (c.ended) return;
    await app.handle.message({ request: 'accept' }, { type: answer.type, sdp: answer.sdp });
    if (c.ended) return;
    c.state = 'incall';
    setStatus(`In a call with ${c.peer}.`);
  } catch (e) {
    if (c.ended) return;
    // Tell the caller, who is still waiting.
    hangUp(c, e instanceof JanusError ? 'Accept failed' : 'Callee media unavailable', describeError(e, c.peer));
  }
}

function declineCall() {
  const c = app.call;
  if (!c || c.state !== 'ringing') return;
  hangUp(c, 'Declined', `You declined the call from ${c.peer}.`);
}

// We end the call: tell the server, which tells the peer why. The camera and
// microphone stop at once; the PeerConnection is closed once the server has
// answered (or after HANGUP_CLOSE_WAIT_MS), because a PeerConnection that
// closes first makes the server tell the peer "Remote WebRTC hangup" instead
// of our reason.
function hangUp(c, reason, status) {
  if (c.ended) return;
  const told = app.handle
    ? app.handle.message({ request: 'hangup', reason }).catch(() => { /* the call is over either way */ })
    : Promise.resolve();
  const closeAfter = Promise.race([told, new Promise((r) => setTimeout(r, HANGUP_CLOSE_WAIT_MS))]);
  endCall(c, { status, error: reason !== 'Declined' && reason !== 'Hung up' && reason !== 'Cancelled', closeAfter });
}

function peerHungUp(c, reason) {
  let status;
  if (reason === 'User busy') status = `${c.peer} is busy (“${reason}”).`;
  else if (c.dir === 'out' && c.state !== 'incall') status = `${c.peer} did not take the call (“${reason}”).`;
  else if (c.dir === 'in' && c.state === 'ringing') status = `${c.peer} gave up calling you (“${reason}”).`;
  else status = `The call with ${c.peer} ended (“${reason}”).`;
  endCall(c, { status });
}

// Every way a call ends comes here: stop every local track (the camera
// light goes off), close the PeerConnection (at once, or when closeAfter
// settles), return to the list.
function endCall(c, { status, error = false, resetServer = false, closeAfter = null }) {
  if (c.ended) return;
  c.ended = true;
  c.endedAt = Date.now();
  c.endStatus = status;
  clearTimeout(c.coreHangupTimer);
  if (app.call === c) app.call = null;
  closeDialog();
  if (c.unbind) c.unbind();
  if (c.pc) {
    const pc = c.pc;
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    for (const s of pc.getSenders()) if (s.track) s.track.stop();
    if (closeAfter) closeAfter.then(() => pc.close()); else pc.close();
  }
  if (c.stream) for (const t of c.stream.getTracks()) t.stop();
  ui.localVideo.srcObject = null;
  ui.remoteVideo.srcObject = null;
  if (resetServer && app.handle) app.handle.hangup().catch(() => { /* nothing to close */ });
  if (status === null) return;   // the connection is gone; the caller shows why
  setStatus(status, error ? 'error' : 'info');
  if (app.me) {
    showPeople();
    ui.peopleTitle.focus();
  } else {
    show('register');
  }
}

function enterCallView(c) {
  ui.callName.textContent = c.peer;
  ui.remoteCaption.textContent = c.peer;
  setToggle(ui.mute, false);
  setToggle(ui.camera, false);
  ui.localFlags.textContent = '';
  show('call');
  ui.hangup.focus();
}

function closeDialog() {
  document.title = baseTitle;
  if (!ui.incoming.open) return;
  ui.incoming.close();
  const back = ui.incoming.dataset.returnFocus && $(ui.incoming.dataset.returnFocus);
  if (back && !back.closest('[hidden]')) back.focus();
}

// The server relays a renegotiation (a `set` with a JSEP on the other side).
async function renegotiate(c, jsep) {
  try {
    await c.pc.setRemoteDescription(jsep);
    if (jsep.type === 'offer') {
      const answer = await c.pc.createAnswer();
      await c.pc.setLocalDescription(answer);
      await app.handle.message({ request: 'set' }, { type: answer.type, sdp: answer.sdp });
    }
  } catch (e) {
    setStatus(`Renegotiation failed: ${e.message}.`, 'error');
  }
}

// ---------------------------------------------------------------- in-call controls

function setToggle(button, on) {
  button.setAttribute('aria-pressed', on ? 'true' : 'false');
}

function updateLocalFlags(c) {
  const flags = [];
  if (c.muted) flags.push('mic muted');
  if (c.cameraOff) flags.push('camera off');
  ui.localFlags.textContent = flags.length ? `(${flags.join(', ')})` : '';
}

// The microphone: the track stops sending sound at once, and the server is
// told to stop relaying our audio.
function toggleMute() {
  const c = app.call;
  if (!c || !c.stream) return;
  c.muted = !c.muted;
  for (const t of c.stream.getAudioTracks()) t.enabled = !c.muted;
  setToggle(ui.mute, c.muted);
  updateLocalFlags(c);
  app.handle.message({ request: 'set', audio: !c.muted })
    .catch((e) => setStatus(`Could not change the microphone: ${e.message}.`, 'error'));
}

// The camera: a disabled track sends black frames, so the other side sees
// black rather than a picture frozen on the last frame (which is what a
// `set` with video:false, dropping our video in the server, would show).
function toggleCamera() {
  const c = app.call;
  if (!c || !c.stream) return;
  c.cameraOff = !c.cameraOff;
  for (const t of c.stream.getVideoTracks()) t.enabled = !c.cameraOff;
  setToggle(ui.camera, c.cameraOff);
  updateLocalFlags(c);
}

// ---------------------------------------------------------------- wiring

ui.registerForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (app.handle && !app.me) register(ui.username.value.trim());
});
ui.username.addEventListener('input', () => {
  ui.username.removeAttribute('aria-invalid');
  ui.registerError.textContent = '';
});
ui.signout.addEventListener('click', signOut);
ui.cancel.addEventListener('click', () => { if (app.call) hangUp(app.call, 'Cancelled', `You cancelled the call to ${app.call.peer}.`); });
ui.accept.addEventListener('click', acceptCall);
ui.decline.addEventListener('click', declineCall);
// Esc in the dialog (its "cancel" event) declines; the dialog never closes on its own.
ui.incoming.addEventListener('cancel', (ev) => { ev.preventDefault(); declineCall(); });
ui.hangup.addEventListener('click', () => { if (app.call) hangUp(app.call, 'Hung up', `You hung up on ${app.call.peer}.`); });
ui.mute.addEventListener('click', toggleMute);
ui.camera.addEventListener('click', toggleCamera);
ui.retry.addEventListener('click', connect);
window.addEventListener('pagehide', () => {
  if (app.call) endCall(app.call, { status: null });
  if (app.session) app.session.destroy().catch(() => { /* the page is going away */ });
});

if (!window.isSecureContext) {
  ui.secureNote.classList.add('warning');
  ui.secureNote.setAttribute('role', 'alert');
}

// What the browser tests look at (and may drive); not an API for pages.
window.stoaCall = {
  get pc() { return app.call ? app.call.pc : null; },
  get lastPc() { return app.lastCall ? app.lastCall.pc : null; },
  get state() { return app.call ? app.call.state : app.me ? 'idle' : app.handle ? 'unregistered' : 'offline'; },
  get me() { return app.me; },
  get peer() { return app.call ? app.call.peer : null; },
  get presence() { return app.presence; },
  get online() { return app.online.slice(); },
  get busy() { return [...app.busy]; },
  get transport() { return app.session ? app.session.transportKind : null; },
  get log() { return app.log.slice(); },
  get constraints() { return app.constraints; },
  set constraints(v) { app.constraints = v; },
  localTracks() { return app.captured.map((t) => ({ kind: t.kind, label: t.label, readyState: t.readyState, enabled: t.enabled })); },
  call: (name) => startCall(name),
};

connect();
