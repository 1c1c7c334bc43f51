// meeting.mjs: the multi-party meeting page (meeting.html) on
// janus.plugin.videoroom (Janus 1.x multistream API).
//
// Flow: Join connects (janus.mjs: WebSocket, else HTTP long poll) and finds
// the room. A number is a room id (`exists` first, so a wrong number is told
// before the camera turns on); a name is the public room whose description
// is that name (`list`), created when there is none (see resolveRoom). Then
// the camera and microphone are captured, we `join` as a publisher and
// publish them with simulcast (videoroom.mjs Publisher), and one multistream
// Subscriber receives every other publisher: the `joined` list first, then
// `publishers` events; `unpublished` and `leaving` drop a tile and a person.
//
// The controls never renegotiate: mute and camera off replace the sent
// track with null (RTCRtpSender.replaceTrack), so no packets go out; camera
// off also stops the camera (its light goes off) and camera on captures a
// new one. Screen sharing replaces the video track with the screen's and
// puts the camera back when sharing ends.
//
// Every second one getStats() per PeerConnection feeds a StreamMeter per
// tile: the stats overlay, and two things the signalling does not say: a
// remote tile whose frames stop shows its placeholder (camera off), and a
// person whose audio packets stop is shown muted (and not talking: the
// server's talking state freezes when packets stop).
//
// Connection trouble: janus.mjs claims the session back over a new socket
// after a drop (the PeerConnections never depended on it), and the page
// then re-reads the room (`listparticipants`) for what it missed. If the
// session itself is lost, the page rejoins from scratch once (new session,
// same room, same camera and microphone); a second loss within
// REJOIN_QUIET_MS ends the meeting with a message.
//
// Leaving (the button, a fatal error, pagehide) goes through endMeeting(),
// which stops every local track (camera light off), closes both
// PeerConnections and destroys the session.
//
// For the browser tests, window.stoaMeeting exposes the state, the tiles,
// the people, the local tracks and the PeerConnections (see the bottom).

import { Session, JanusError, clientConfig } from './janus.mjs';
import { Publisher, Subscriber, PLUGIN, ERR } from './videoroom.mjs';
import { StreamMeter } from './stats.mjs';

const STATS_MS = 1000;
const REJOIN_QUIET_MS = 60000;
const NOTICE_MS = 5000;          // how long "Reconnected" and similar notices stay
// Rooms this page creates. audio_active_packets 50 (1 s of Opus) makes the
// talking indicator quicker than Janus's default 100; audio_level_average 35
// counts normal speech into a headset as talking (Janus's 25 needs loud).
const ROOM_SETTINGS = { publishers: 16, audiolevel_event: true, audio_active_packets: 50, audio_level_average: 35,
  notify_joining: true, is_private: false };
// A named room gets an id derived from its name (above 2^32, away from the
// numbers people type), so two pages creating the same name at once end up
// in the same room: the second `create` fails with 427 and joins it.
const NAMED_ROOM_BASE = 2 ** 32;
const QUALITY = { 2: 'High', 1: 'Medium', 0: 'Low' };

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), secureNote: $('secure-note'), announce: $('announce'),
  lobby: $('lobby'), lobbyTitle: $('lobby-title'), form: $('join-form'), roomInput: $('room-input'),
  nameInput: $('name-input'), joinButton: $('join-button'), joinError: $('join-error'),
  meeting: $('meeting'), meetingTitle: $('meeting-title'), roomName: $('room-name'),
  shareLink: $('share-link'), copy: $('copy-button'),
  grid: $('grid'), people: $('people'), peopleCount: $('people-count'),
  mute: $('mute-button'), camera: $('camera-button'), share: $('share-button'), stats: $('stats-button'),
  leave: $('leave-button'), template: $('tile-template'),
};

const baseTitle = document.title;

const app = {
  m: null,               // the meeting (see newMeeting), or null in the lobby
  last: null,            // the last meeting, after it ended
  iceServers: null,
  captured: [],          // every MediaStreamTrack this page captured
  events: [],            // what happened, for the tests: { t, type, detail }
  talked: new Set(),     // ids ever shown talking
  statsOn: false,
  lastRejoin: 0,
  noticeTimer: null,
  constraints: { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } },
};

// ---------------------------------------------------------------- view helpers

function setStatus(text, kind = 'info') {
  clearTimeout(app.noticeTimer);
  app.noticeTimer = null;
  ui.status.textContent = text;
  ui.status.classList.toggle('error', kind === 'error');
  ui.status.classList.toggle('warning', kind === 'warning');
}

// A passing notice, then back to the meeting's standing status.
function notice(text, kind = 'info') {
  setStatus(text, kind);
  app.noticeTimer = setTimeout(() => {
    app.noticeTimer = null;
    if (app.m && app.m.state === 'joined') setStatus(standing(app.m));
  }, NOTICE_MS);
}

// The standing status again (who is here), unless a notice, a warning or
// an error is showing.
function refreshStanding(m) {
  if (m.state !== 'joined' || app.m !== m || app.noticeTimer) return;
  if (ui.status.classList.contains('error') || ui.status.classList.contains('warning')) return;
  setStatus(standing(m));
}

function standing(m) {
  const how = m.session && m.session.transportKind === 'http' ? 'HTTP long poll' : 'WebSocket';
  const others = m.people.size - 1;
  return `In ${m.label} as ${m.display} (${how}). ${others === 0 ? 'Nobody else is here yet.' : others === 1 ? '1 other person is here.' : `${others} other people are here.`}`;
}

function say(text) { ui.announce.textContent = text; }

function log(type, detail = null) {
  app.events.push({ t: Date.now(), type, detail });
  if (app.events.length > 300) app.events.shift();
}

function showMeeting(on) {
  ui.lobby.hidden = on;
  ui.meeting.hidden = !on;
  ui.secureNote.hidden = on && window.isSecureContext;
  document.body.classList.toggle('in-meeting', on);
}

function setPressed(button, on) { button.setAttribute('aria-pressed', on ? 'true' : 'false'); }

function describeError(e, roomText) {
  const text = String(e && e.message ? e.message : e).replace(/\.$/, '');
  if (e && e.userText) return e.userText;
  if (e instanceof JanusError) {
    if (e.code === 429 && /pin/i.test(text)) return `Room ${roomText} is protected by a PIN, and this page cannot join it.`;
    switch (e.code) {
    case ERR.NO_SUCH_ROOM: return `There is no room ${roomText} on this server. Check the number, or type a name to meet in a room of that name.`;
    case ERR.UNAUTHORIZED: return `Room ${roomText} is protected (it needs a PIN or a token), and this page cannot join it (${text}).`;
    case ERR.PUBLISHERS_FULL: return `Room ${roomText} is full: ${text}.`;
    case 460: return 'The server has no VideoRoom plugin (janus.plugin.videoroom).';
    case 0: return `${text}. Check that the server is running, then press Join again.`;
    default: return `Could not join: ${text} (error ${e.code}).`;
    }
  }
  switch (e && e.name) {
  case 'NotAllowedError': case 'SecurityError':
    return 'Camera and microphone access was denied. Allow it for this site in the browser\'s settings, then press Join again.';
  case 'NotFoundError': case 'OverconstrainedError':
    return 'No camera or microphone was found. Connect one, then press Join again.';
  case 'NotReadableError': case 'AbortError':
    return 'The camera or microphone could not be started (is another application using it?).';
  default:
    return `Could not join: ${text}.`;
  }
}

// ---------------------------------------------------------------- finding the room

function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

function namedRoomId(name) { return NAMED_ROOM_BASE + fnv1a(name); }

// The room `text` names: { id, label }. Uses a handle of its own, detached
// afterwards. Throws a JanusError 426 for a number that is no room.
async function resolveRoom(session, text) {
  const handle = await session.attach(PLUGIN);
  try {
    if (/^\d+$/.test(text)) {
      const id = Number(text);
      if (!Number.isSafeInteger(id) || id <= 0) throw new JanusError(`No such room (${text})`, ERR.NO_SUCH_ROOM);
      const { data } = await handle.message({ request: 'exists', room: id });
      if (!data.exists) throw new JanusError(`No such room (${id})`, ERR.NO_SUCH_ROOM);
      return { id, label: `room ${id}` };
    }
    const found = await findNamedRoom(handle, text);
    if (found) return found;
    const id = namedRoomId(text);
    try {
      await handle.message({ request: 'create', room: id, description: text, ...ROOM_SETTINGS });
      log('created', id);
      return { id, label: `“${text}”` };
    } catch (e) {
      if (e instanceof JanusError && e.code === ERR.UNAUTHORIZED) {
        e.userText = `There is no room called “${text}”, and this server does not let pages create rooms (${e.message}). Join a room by its number instead.`;
      }
      if (!(e instanceof JanusError && e.code === ERR.ROOM_EXISTS)) throw e;
    }
    // Someone created it a moment ago, or an unrelated room has that id.
    const again = await findNamedRoom(handle, text);
    if (again) return again;
    const { data } = await handle.message({ request: 'create', description: text, ...ROOM_SETTINGS });
    log('created', data.room);
    return { id: data.room, label: `“${text}”` };
  } finally {
    handle.detach().catch(() => { /* the session may be going */ });
  }
}

// The public room described as `name`: the one with the id derived from the
// name if it is there, else the lowest id.
async function findNamedRoom(handle, name) {
  const { data } = await handle.message({ request: 'list' });
  const rooms = (data.list || []).filter((r) => r.description === name).map((r) => r.room).sort((a, b) => a - b);
  if (!rooms.length) return null;
  const id = rooms.includes(namedRoomId(name)) ? namedRoomId(name) : rooms[0];
  return { id, label: `“${name}”` };
}

// ---------------------------------------------------------------- local media

async function capture(constraints) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia)
    throw new Error('this page is not in a secure context, so the browser offers no camera (use localhost or HTTPS)');
  const stream = await navigator.mediaDevices.getUserMedia(constraints);
  app.captured.push(...stream.getTracks());
  return stream;
}

// What the publisher sends now: the mic unless muted, the screen or else
// the camera unless it is off.
function outgoing(m) {
  const tracks = [];
  if (m.mic && !m.muted) tracks.push(m.mic);
  const video = m.screen || (m.cameraOff ? null : m.camera);
  if (video) tracks.push(video);
  return tracks;
}

function stopTrack(t) { if (t) t.stop(); }

// ---------------------------------------------------------------- joining

function newMeeting(roomText, display) {
  return {
    roomText, display, label: roomText, roomId: null,
    state: 'joining',      // joining, joined, ended
    session: null, pub: null, sub: null,
    mic: null, camera: null, screen: null,
    muted: false, cameraOff: false,
    people: new Map(),     // id -> { id, display, me, publishing, talking, silent }
    feeds: new Map(),      // id -> { id, display, streams } publishers we know of (not us)
    subscribed: new Set(), // feed ids asked for on the subscriber
    tiles: new Map(),      // 'me' or feed id -> tile (see makeTile)
    statsTimer: null, sampling: false,
    rejoined: false,
  };
}

// carry: what a rejoin keeps from the meeting that was lost (tracks and switches).
async function join(roomText, display, carry = null) {
  const m = newMeeting(roomText, display);
  app.m = m;
  ui.joinButton.disabled = true;
  ui.joinError.textContent = '';
  if (carry) {
    Object.assign(m, { mic: carry.mic, camera: carry.camera, screen: carry.screen, muted: carry.muted, cameraOff: carry.cameraOff, rejoined: true });
    if (m.screen) m.screen.onended = () => stopSharing(m);
  }
  try {
    if (!app.iceServers) app.iceServers = (await clientConfig()).iceServers;
    setStatus(carry ? 'Rejoining: connecting to the server…' : 'Connecting to the server…');
    m.session = await Session.connect({
      reconnect: true,
      onLost: (why) => sessionLost(m, why),
      onReconnecting: (why) => reconnecting(m, why),
      onReconnected: () => reconnected(m),
    });
    if (m.state === 'ended') { m.session.destroy().catch(() => {}); return; }
    setStatus(carry ? 'Rejoining: finding the room…' : 'Finding the room…');
    const room = await resolveRoom(m.session, roomText);
    m.roomId = room.id;
    m.label = room.label;
    if (m.state === 'ended') return;
    if (!carry) {
      setStatus('Asking for your camera and microphone…');
      const stream = await capture(app.constraints);
      m.mic = stream.getAudioTracks()[0] || null;
      m.camera = stream.getVideoTracks()[0] || null;
      if (m.state === 'ended') { stream.getTracks().forEach(stopTrack); return; }
    }
    setStatus(carry ? 'Rejoining the room…' : 'Joining the room…');
    m.pub = await Publisher.join(m.session, { room: m.roomId, display, iceServers: app.iceServers,
      opaqueId: `stoa-meeting-${Math.random().toString(36).slice(2, 10)}` });
    if (m.state === 'ended') { m.pub.leave().catch(() => {}); return; }
    wirePublisher(m);
    addPerson(m, { id: m.pub.id, display, me: true, publishing: false });
    for (const a of m.pub.attendees || []) addPerson(m, a);
    for (const f of m.pub.initial) addPerson(m, { id: f.id, display: f.display, talking: f.talking });
    enterMeetingView(m);
    setStatus(`Joined ${m.label}; connecting your camera and microphone…`);
    feedsArrived(m, m.pub.initial);
    const stream = new MediaStream(outgoing(m));
    const pc = await m.pub.publish(stream, { simulcast: true, kinds: ['audio', 'video'] });
    if (m.state === 'ended') return;
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed' && m.state === 'joined')
        setStatus('The media connection to the server failed (ICE or DTLS). Leave and join again, or check the network.', 'error');
    });
    person(m, m.pub.id).publishing = true;
    m.state = 'joined';
    log(carry ? 'rejoined' : 'joined', { room: m.roomId, id: m.pub.id, session: m.session.id });
    if (carry) notice(`Rejoined ${m.label} after the connection to the server was lost.`);
    else setStatus(standing(m));
    history.replaceState(null, '', `?room=${encodeURIComponent(roomText)}`);
    try { localStorage.setItem('stoa-meeting-name', display); } catch { /* private mode */ }
    m.statsTimer = setInterval(() => sampleStats(m), STATS_MS);
  } catch (e) {
    if (m.state === 'ended') return;
    const text = carry ? `The connection was lost and rejoining failed: ${describeError(e, roomText)}` : describeError(e, roomText);
    log('failed', text);
    endMeeting(m, { status: text, error: true });
    if (e instanceof JanusError && e.code === ERR.NO_SUCH_ROOM && !carry) { ui.roomInput.focus(); ui.roomInput.select(); }
  }
}

function wirePublisher(m) {
  const pub = m.pub;
  pub.onpublishers = (feeds) => {
    for (const f of feeds) addPerson(m, { id: f.id, display: f.display });
    feedsArrived(m, feeds);
  };
  pub.onunpublished = (id) => feedGone(m, id);
  pub.onleaving = (id) => {
    const p = m.people.get(id);
    feedGone(m, id);
    if (p && !p.me) {
      m.people.delete(id);
      renderPeople(m);
      say(`${p.display} left.`);
      refreshStanding(m);
    }
  };
  pub.onjoining = (who) => {
    if (m.people.has(who.id)) return;
    addPerson(m, who);
    say(`${who.display} joined.`);
    refreshStanding(m);
  };
  pub.ontalking = (id, on) => {
    const p = m.people.get(id);
    if (!p) return;
    p.talking = on;
    if (on) app.talked.add(id);
    log(on ? 'talking' : 'stopped-talking', id);
    renderTalking(m, id);
  };
  pub.onkicked = () => endMeeting(m, { status: 'You were removed from the room by its moderator.', error: true });
  pub.ondestroyed = () => endMeeting(m, { status: `The room ${m.label} was closed on the server.`, error: true });
  pub.onmedia = (msg) => {
    if (msg.janus === 'hangup' && m.state === 'joined')
      setStatus(`The server closed the connection that carries your camera and microphone (${msg.reason || 'hangup'}). Leave and join again.`, 'error');
  };
}

// ---------------------------------------------------------------- people

function addPerson(m, { id, display, me = false, publishing = false, talking = false }) {
  const p = m.people.get(id);
  if (p) {
    if (display && p.display !== display) { p.display = display; renameTile(m, id, display); }
  } else {
    m.people.set(id, { id, display: display || `#${id}`, me, publishing, talking, silent: false });
    if (talking) app.talked.add(id);
  }
  renderPeople(m);
  refreshStanding(m);
}

function person(m, id) { return m.people.get(id) || { }; }

function renderPeople(m) {
  const list = [...m.people.values()].sort((a, b) => (b.me - a.me) || a.display.localeCompare(b.display));
  ui.peopleCount.textContent = `(${list.length})`;
  const items = list.map((p) => {
    const li = document.createElement('li');
    li.dataset.id = String(p.id);
    const dot = document.createElement('span');
    dot.className = 'talk-dot';
    dot.setAttribute('aria-hidden', 'true');
    const body = document.createElement('span');
    body.className = 'who';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.display;
    const tags = document.createElement('span');
    tags.className = 'tags';
    body.append(name, tags);
    li.append(dot, body);
    paintPerson(m, p, li);
    return li;
  });
  ui.people.replaceChildren(...items);
}

// The talking and muted marks of one person, in the list and on the tile.
function paintPerson(m, p, li = ui.people.querySelector(`li[data-id="${p.id}"]`)) {
  const talking = isTalking(m, p);
  const muted = p.me ? m.muted : p.silent;
  if (li) {
    li.classList.toggle('talking', talking);
    const tags = [];
    if (p.me) tags.push('you');
    if (talking) tags.push('speaking');
    if (muted) tags.push('muted');
    if (!p.me && !p.publishing) tags.push('no media');
    li.querySelector('.tags').replaceChildren(...tags.map((t) => {
      const s = document.createElement('span');
      s.className = `tag tag-${t.replace(/\s/g, '-')}`;
      s.textContent = t;
      return s;
    }));
  }
  const tile = m.tiles.get(p.me ? 'me' : p.id);
  if (tile) {
    tile.el.classList.toggle('talking', talking);
    const flags = [];
    if (muted) flags.push('muted');
    if (talking) flags.push('speaking');
    tile.flags.textContent = flags.length ? ` · ${flags.join(' · ')}` : '';
  }
}

function isTalking(m, p) { return !!p.talking && !(p.me ? m.muted : p.silent); }

function renderTalking(m, id) {
  const p = m.people.get(id);
  if (p) paintPerson(m, p);
}

// ---------------------------------------------------------------- feeds and subscription

function feedsArrived(m, feeds) {
  for (const f of feeds) {
    if (m.pub && f.id === m.pub.id) continue;
    m.feeds.set(f.id, f);
    const p = m.people.get(f.id);
    if (p) { p.publishing = true; paintPerson(m, p); }
    ensureTile(m, f.id, f.display);
  }
  subscribeMissing(m);
}

function feedGone(m, id) {
  m.feeds.delete(id);
  m.subscribed.delete(id);
  removeTile(m, id);
  const p = m.people.get(id);
  if (p) { p.publishing = false; p.talking = false; paintPerson(m, p); }
}

function ensureSubscriber(m) {
  if (m.sub) return m.sub;
  const sub = new Subscriber(m.session, { room: m.roomId, privateId: m.pub.privateId, iceServers: app.iceServers,
    opaqueId: `stoa-meeting-sub-${Math.random().toString(36).slice(2, 10)}` });
  sub.ontrack = (t) => remoteTrack(m, t);
  sub.onlayer = ({ mid, substream }) => {
    for (const tile of m.tiles.values()) if (tile.video && tile.video.mid === mid) tile.layer = substream;
  };
  sub.onerror = (e) => { if (m.state !== 'ended') log('subscriber-error', e.message); };
  sub.onmedia = (msg) => {
    if (msg.janus === 'hangup' && m.state === 'joined')
      setStatus(`The server closed the connection that brings you the others' video and sound (${msg.reason || 'hangup'}). Leave and join again.`, 'error');
  };
  m.sub = sub;
  return sub;
}

// Subscribes to every known feed not yet asked for: in one request, or one
// by one when that fails (a feed may have left in between: 428).
async function subscribeMissing(m) {
  if (m.state === 'ended' || !m.pub) return;
  const want = [...m.feeds.keys()].filter((id) => !m.subscribed.has(id));
  if (!want.length) return;
  for (const id of want) m.subscribed.add(id);
  const sub = ensureSubscriber(m);
  try {
    await sub.subscribe(want.map((feed) => ({ feed })));
  } catch (e) {
    if (m.state === 'ended') return;
    log('subscribe-failed', { feeds: want, error: e.message, code: e.code });
    for (const id of want) m.subscribed.delete(id);
    if (want.length > 1 && e.code) {
      for (const id of want) {
        if (!m.feeds.has(id) || m.subscribed.has(id)) continue;
        m.subscribed.add(id);
        try { await sub.subscribe([{ feed: id }]); } catch (e2) { m.subscribed.delete(id); log('subscribe-failed', { feeds: [id], error: e2.message, code: e2.code }); }
      }
    }
  }
}

function remoteTrack(m, { mid, type, feed, display, simulcast, track, on }) {
  if (m.state === 'ended') return;
  let tile = m.tiles.get(feed);
  if (on) {
    if (!tile) {
      if (!m.feeds.has(feed)) return;    // a late track of a feed that went
      tile = ensureTile(m, feed, display);
    }
    const prev = tile[type];
    if (type === 'video') {
      // A new m-line starts at the server's default layer, the highest.
      if (!prev || prev.mid !== mid) { tile.substream = 2; tile.select.value = '2'; tile.layer = null; }
      tile.simulcast = simulcast;
      tile.meters.video = new StreamMeter(null, { direction: 'inbound', kind: 'video', mid });
    } else {
      tile.meters.audio = new StreamMeter(null, { direction: 'inbound', kind: 'audio', mid });
    }
    tile[type] = { mid, track };
  } else if (tile && tile[type] && tile[type].mid === mid) {
    tile[type] = null;
    tile.meters[type] = null;
  } else {
    return;
  }
  attachMedia(tile);
  updateQuality(tile);
}

// ---------------------------------------------------------------- tiles

function makeTile(key, display, me) {
  const el = ui.template.content.firstElementChild.cloneNode(true);
  const video = el.querySelector('video');
  const tile = {
    key, me, el, display, videoEl: video,
    placeholder: el.querySelector('.placeholder'), initial: el.querySelector('.initial'),
    who: el.querySelector('.who'), flags: el.querySelector('.flags'),
    overlay: el.querySelector('.stats-overlay'), quality: el.querySelector('.quality'),
    select: el.querySelector('select'), qualityLabel: el.querySelector('.quality label'),
    audio: null, video: null,          // { mid, track } (remote) or { track } (local)
    meters: { audio: null, video: null },
    simulcast: false, layer: null, substream: 2,
    frames: null, stillSamples: 0, hasVideo: false,
  };
  el.dataset.key = String(key);
  const id = `tile-${key}`;
  video.id = `${id}-video`;
  tile.select.id = `${id}-quality`;
  tile.qualityLabel.htmlFor = tile.select.id;
  if (me) {
    el.classList.add('me');
    video.muted = true;
  }
  tile.select.addEventListener('change', () => setQuality(tile, Number(tile.select.value)));
  // The first frame shows at once; the stats (sampleRemote) say when frames stop.
  video.addEventListener('resize', () => {
    if (!me && tile.video && video.videoWidth > 0 && !tile.hasVideo) { tile.hasVideo = true; tile.stillSamples = 0; showPlaceholder(tile, false); }
  });
  renameTileEl(tile, display);
  showPlaceholder(tile, true);
  return tile;
}

function renameTileEl(tile, display) {
  tile.display = display;
  tile.who.textContent = tile.me ? `${display} (you)` : display;
  tile.initial.textContent = (display.trim()[0] || '?').toUpperCase();
  tile.videoEl.setAttribute('aria-label', tile.me ? 'Your camera' : `Video of ${display}`);
  tile.qualityLabel.textContent = `Video quality for ${display}`;
}

function renameTile(m, id, display) {
  const tile = m.tiles.get(m.pub && id === m.pub.id ? 'me' : id);
  if (tile) renameTileEl(tile, display);
}

function ensureTile(m, feed, display) {
  let tile = m.tiles.get(feed);
  if (tile) return tile;
  tile = makeTile(feed, display || `#${feed}`, false);
  m.tiles.set(feed, tile);
  ui.grid.append(tile.el);
  layoutGrid(m);
  const p = m.people.get(feed);
  if (p) paintPerson(m, p);
  setStatsVisible(tile);
  return tile;
}

function removeTile(m, key) {
  const tile = m.tiles.get(key);
  if (!tile) return;
  m.tiles.delete(key);
  tile.videoEl.srcObject = null;
  tile.el.remove();
  layoutGrid(m);
}

function layoutGrid(m) {
  const n = m.tiles.size;
  ui.grid.dataset.count = String(n);
  // Columns: 1, 2, 2, 2, 3 … (square-ish), rows follow.
  const cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
  ui.grid.style.setProperty('--cols', String(cols));
  ui.grid.style.setProperty('--rows', String(Math.max(1, Math.ceil(n / cols))));
  ui.grid.style.setProperty('--cols-narrow', String(Math.min(cols, 2)));   // narrow windows (meeting.css)
}

// The remote tile plays one MediaStream of its current tracks; a new one is
// made whenever they change (Chromium does not always pick up a track added
// to a stream that is already playing).
function attachMedia(tile) {
  const tracks = [tile.audio, tile.video].filter(Boolean).map((x) => x.track);
  const cur = tile.videoEl.srcObject;
  if (cur && cur.getTracks().length === tracks.length && tracks.every((t) => cur.getTracks().includes(t))) return;
  tile.videoEl.srcObject = tracks.length ? new MediaStream(tracks) : null;
  if (!tile.video) { tile.hasVideo = false; tile.frames = null; showPlaceholder(tile, true); }
}

function showPlaceholder(tile, on) {
  tile.placeholder.hidden = !on;
  tile.el.classList.toggle('no-video', on);
}

function updateQuality(tile) {
  tile.quality.hidden = !(tile.video && tile.simulcast);
}

async function setQuality(tile, substream) {
  const m = app.m;
  if (!m || !m.sub || !tile.video) return;
  tile.substream = substream;
  try {
    await m.sub.setLayer(tile.video.mid, { substream });
    say(`${QUALITY[substream]} quality for ${tile.display}.`);
  } catch (e) {
    notice(`Could not change the quality for ${tile.display}: ${e.message}.`, 'error');
  }
}

// Our own tile shows what we send: the screen, the camera, or the placeholder.
function renderLocal(m) {
  const tile = m.tiles.get('me');
  if (!tile) return;
  const video = m.screen || (m.cameraOff ? null : m.camera);
  tile.video = video ? { track: video } : null;
  tile.el.classList.toggle('screen', !!m.screen);
  const cur = tile.videoEl.srcObject;
  if (!video) tile.videoEl.srcObject = null;
  else if (!cur || cur.getVideoTracks()[0] !== video) tile.videoEl.srcObject = new MediaStream([video]);
  showPlaceholder(tile, !video);
  const p = m.pub ? m.people.get(m.pub.id) : null;
  if (p) paintPerson(m, p);
}

// ---------------------------------------------------------------- entering and leaving the view

function enterMeetingView(m) {
  if (!m.tiles.has('me')) {
    const tile = makeTile('me', m.display, true);
    m.tiles.set('me', tile);
    ui.grid.replaceChildren(tile.el);
    setStatsVisible(tile);
  }
  layoutGrid(m);
  renderLocal(m);
  ui.roomName.textContent = m.label;
  document.title = `${m.label.replace(/^room /, 'Room ')} — Meeting — Stoa`;
  const link = new URL(window.location.href);
  link.search = `?room=${encodeURIComponent(m.roomText)}`;
  link.hash = '';
  ui.shareLink.value = link.href;
  syncControls(m);
  const wasOpen = !ui.meeting.hidden;
  showMeeting(true);
  if (!wasOpen) ui.meetingTitle.focus();
}

function syncControls(m) {
  setPressed(ui.mute, m.muted);
  setPressed(ui.camera, m.cameraOff);
  setPressed(ui.share, !!m.screen);
  setPressed(ui.stats, app.statsOn);
  ui.share.disabled = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  if (ui.share.disabled) ui.share.title = 'This browser cannot share the screen.';
}

// Every end of a meeting comes here. stopMedia false keeps the local tracks
// (a rejoin reuses them); keepView keeps the meeting view on screen.
// now: destroy the session at once instead of after the leave replies (pagehide).
function endMeeting(m, { status, error = false, stopMedia = true, keepView = false, now = false }) {
  if (m.state === 'ended') return;
  m.state = 'ended';
  if (app.m === m) { app.m = null; app.last = m; }
  clearInterval(m.statsTimer);
  // Every track this page ever captured, whoever holds it: the camera light goes off.
  if (stopMedia) for (const t of app.captured) stopTrack(t);
  m.pcsAtEnd = [['publisher', m.pub && m.pub.pc], ['subscriber', m.sub && m.sub.pc]].filter((x) => x[1]);
  // Both leave() calls close their PeerConnection before they wait for
  // anything, and send their request at once when the session is alive.
  const session = m.session && !m.session.lost ? m.session : null;
  const left = Promise.all([m.sub ? m.sub.leave().catch(() => {}) : null, m.pub ? m.pub.leave().catch(() => {}) : null]);
  if (session && now) session.destroy().catch(() => { /* the page is going away */ });
  else if (session) left.then(() => session.destroy()).catch(() => { /* gone already */ });
  for (const tile of m.tiles.values()) tile.videoEl.srcObject = null;
  if (keepView) return;
  m.tiles.clear();
  ui.grid.replaceChildren();
  ui.people.replaceChildren();
  ui.joinButton.disabled = false;
  document.title = baseTitle;
  const hadFocus = ui.meeting.contains(document.activeElement);
  showMeeting(false);
  if (status !== null) setStatus(status, error ? 'error' : 'info');
  log('left', status);
  if (hadFocus || error) ui.lobbyTitle.focus();
}

function leaveMeeting() {
  const m = app.m;
  if (!m) return;
  endMeeting(m, { status: `You left ${m.label}. Your camera and microphone are off.` });
}

// ---------------------------------------------------------------- connection trouble

function reconnecting(m, why) {
  if (m.state === 'ended') return;
  log('reconnecting', why);
  setStatus(`The connection to the server dropped (${why}). Reconnecting… the call goes on meanwhile.`, 'warning');
}

function reconnected(m) {
  if (m.state === 'ended') return;
  log('reconnected', m.session.id);
  notice('Reconnected to the server; the call went on.');
  if (m.state === 'joined') resync(m);
}

// Events sent while the socket was down went nowhere: read the room again.
async function resync(m) {
  let list;
  try {
    const { data } = await m.pub.handle.message({ request: 'listparticipants', room: m.roomId });
    list = data.participants || [];
  } catch (e) {
    log('resync-failed', e.message);
    return;
  }
  if (m.state !== 'joined') return;
  const ids = new Set(list.map((p) => p.id));
  for (const [id, p] of m.people) {
    if (!p.me && !ids.has(id)) { feedGone(m, id); m.people.delete(id); }
  }
  const fresh = [];
  for (const p of list) {
    if (p.id === m.pub.id) continue;
    addPerson(m, { id: p.id, display: p.display, talking: p.talking });
    if (p.publisher && !m.feeds.has(p.id)) fresh.push({ id: p.id, display: p.display || `#${p.id}`, streams: [] });
    if (!p.publisher && m.feeds.has(p.id)) feedGone(m, p.id);
  }
  renderPeople(m);
  feedsArrived(m, fresh);
  log('resynced', list.length);
}

function sessionLost(m, why) {
  if (m.state === 'ended') return;
  log('lost', why);
  if (m.state !== 'joined') return;   // join() sees its request fail and says why
  if (Date.now() - app.lastRejoin < REJOIN_QUIET_MS) {
    endMeeting(m, { status: `The connection to the server was lost again (${why}). Press Join to try again.`, error: true });
    return;
  }
  app.lastRejoin = Date.now();
  const carry = { mic: m.mic, camera: m.camera, screen: m.screen, muted: m.muted, cameraOff: m.cameraOff };
  endMeeting(m, { status: null, stopMedia: false, keepView: true });
  for (const key of [...m.tiles.keys()]) if (key !== 'me') removeTile(m, key);
  ui.people.replaceChildren();
  ui.peopleCount.textContent = '';
  setStatus(`The server lost this session (${why}). Rejoining ${m.label}…`, 'warning');
  log('rejoining', why);
  const next = join(m.roomText, m.display, carry);
  // The new meeting takes over the view: move our tile across.
  const me = m.tiles.get('me');
  if (me && app.m) { app.m.tiles.set('me', me); layoutGrid(app.m); }
  return next;
}

// ---------------------------------------------------------------- controls

async function toggleMute() {
  const m = app.m;
  if (!m || m.state !== 'joined') return;
  m.muted = !m.muted;
  setPressed(ui.mute, m.muted);
  try {
    await m.pub.replaceTrack('audio', m.muted ? null : m.mic);
  } catch (e) {
    notice(`Could not change the microphone: ${e.message}.`, 'error');
  }
  say(m.muted ? 'Microphone muted.' : 'Microphone on.');
  renderLocal(m);
}

async function toggleCamera() {
  const m = app.m;
  if (!m || m.state !== 'joined') return;
  ui.camera.disabled = true;
  try {
    if (!m.cameraOff) {
      m.cameraOff = true;
      if (!m.screen) await m.pub.replaceTrack('video', null);
      stopTrack(m.camera);
      m.camera = null;
      say('Camera off.');
    } else {
      const stream = await capture({ video: app.constraints.video });
      if (app.m !== m) { stream.getTracks().forEach(stopTrack); return; }
      m.camera = stream.getVideoTracks()[0];
      m.cameraOff = false;
      if (!m.screen) await m.pub.replaceTrack('video', m.camera);
      say('Camera on.');
    }
  } catch (e) {
    notice(`Could not turn the camera on: ${e && e.name === 'NotAllowedError' ? 'camera access was denied' : e.message}.`, 'error');
  } finally {
    ui.camera.disabled = false;
    setPressed(ui.camera, m.cameraOff);
    renderLocal(m);
  }
}

async function toggleShare() {
  const m = app.m;
  if (!m || m.state !== 'joined') return;
  if (m.screen) { stopSharing(m); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (e) {
    if (e && e.name === 'NotAllowedError') notice('Screen sharing was cancelled.');
    else notice(`Could not share the screen: ${e.message}.`, 'error');
    return;
  }
  const track = stream.getVideoTracks()[0];
  app.captured.push(track);
  if (app.m !== m || m.state !== 'joined') { stopTrack(track); return; }
  if ('contentHint' in track) track.contentHint = 'detail';
  m.screen = track;
  track.onended = () => stopSharing(m);     // the browser's own "Stop sharing"
  try {
    await m.pub.replaceTrack('video', track);
  } catch (e) {
    stopSharing(m);
    notice(`Could not share the screen: ${e.message}.`, 'error');
    return;
  }
  setPressed(ui.share, true);
  say('Sharing your screen.');
  renderLocal(m);
}

function stopSharing(m) {
  const track = m.screen;
  if (!track) return;
  m.screen = null;
  track.onended = null;
  stopTrack(track);
  if (m.pub && m.state === 'joined') m.pub.replaceTrack('video', m.cameraOff ? null : m.camera).catch(() => { /* the PeerConnection is gone */ });
  if (app.m === m) {
    setPressed(ui.share, false);
    say('Stopped sharing your screen.');
    renderLocal(m);
  }
}

function toggleStats() {
  app.statsOn = !app.statsOn;
  setPressed(ui.stats, app.statsOn);
  if (app.m) for (const tile of app.m.tiles.values()) setStatsVisible(tile);
}

function setStatsVisible(tile) {
  tile.overlay.hidden = !app.statsOn;
}

async function copyLink() {
  try {
    await navigator.clipboard.writeText(ui.shareLink.value);
    say('Link copied.');
    ui.copy.textContent = 'Copied';
    setTimeout(() => { ui.copy.textContent = 'Copy link'; }, 2000);
  } catch {
    ui.shareLink.focus();
    ui.shareLink.select();
    say('Press Ctrl+C to copy the selected link.');
  }
}

// ---------------------------------------------------------------- stats

// One getStats() per PeerConnection, shared by every meter of the tiles.
async function sampleStats(m) {
  if (m.sampling || m.state !== 'joined') return;
  m.sampling = true;
  try {
    const pubPc = m.pub && m.pub.pc, subPc = m.sub && m.sub.pc;
    const [pubReport, subReport] = await Promise.all([pubPc, subPc].map((pc) => (pc ? pc.getStats().catch(() => null) : null)));
    if (m.state !== 'joined') return;
    for (const tile of m.tiles.values()) {
      if (tile.me) await sampleLocal(m, tile, pubReport);
      else await sampleRemote(m, tile, subReport);
    }
  } finally {
    m.sampling = false;
  }
}

async function sampleLocal(m, tile, report) {
  if (!report) return;
  if (!tile.meters.video) tile.meters.video = new StreamMeter(null, { direction: 'outbound', kind: 'video' });
  if (!tile.meters.audio) tile.meters.audio = new StreamMeter(null, { direction: 'outbound', kind: 'audio' });
  const v = await tile.meters.video.sample(report);
  const a = await tile.meters.audio.sample(report);
  if (!app.statsOn) return;
  writeOverlay(tile, [
    ['Sending', !tile.video ? 'no video' : videoLine(v)],
    ['Audio', m.muted ? 'muted' : kbpsLine(a)],
    ['Loss', v && v.lossPct !== null ? `${v.lossPct.toFixed(1)}% (server's report)` : '–'],
    ['RTT', rttLine(v || a)],
  ]);
}

async function sampleRemote(m, tile, report) {
  const v = report && tile.meters.video ? await tile.meters.video.sample(report) : null;
  const a = report && tile.meters.audio ? await tile.meters.audio.sample(report) : null;
  // Frames that stop coming: the camera went off (or the feed stalled).
  if (v && v.framesDecoded !== null) {
    if (tile.frames !== null && v.framesDecoded === tile.frames) tile.stillSamples++;
    else if (tile.frames !== null || v.framesDecoded > 0) tile.stillSamples = 0;
    tile.frames = v.framesDecoded;
    const live = v.framesDecoded > 0 && tile.stillSamples < 2;
    if (live !== tile.hasVideo) { tile.hasVideo = live; showPlaceholder(tile, !live); }
  }
  // Audio packets that stop coming: muted.
  const p = m.people.get(tile.key);
  if (p && a && a.kbps !== null) {
    const silent = a.kbps < 1;
    if (silent !== p.silent) { p.silent = silent; paintPerson(m, p); }
  }
  if (app.statsOn) {
    const rows = [['Video', v ? videoLine(v) : 'none']];
    if (tile.simulcast) rows.push(['Layer', tile.layer !== null && tile.layer !== undefined ? `${QUALITY[tile.layer] || tile.layer} (asked: ${QUALITY[tile.substream]})` : `asked: ${QUALITY[tile.substream]}`]);
    rows.push(['Audio', a ? kbpsLine(a) : 'none']);
    const loss = [v && v.lossPct !== null ? `video ${v.lossPct.toFixed(1)}%` : null, a && a.lossPct !== null ? `audio ${a.lossPct.toFixed(1)}%` : null].filter(Boolean);
    rows.push(['Loss', loss.join(' · ') || '–'], ['RTT', rttLine(v || a)]);
    writeOverlay(tile, rows);
  }
}

function kbpsLine(s) { return s && s.kbps !== null ? `${Math.round(s.kbps)} kbit/s` : 'measuring…'; }

function videoLine(s) {
  if (!s) return 'measuring…';
  const parts = [kbpsLine(s)];
  if (s.width) parts.push(`${s.width}×${s.height}`);
  if (s.fps !== null) parts.push(`${Math.round(s.fps)} fps`);
  return parts.join(' · ');
}

function rttLine(s) { return s && s.rttMs !== null ? `${s.rttMs.toFixed(1)} ms` : '–'; }

function writeOverlay(tile, rows) {
  const dl = document.createElement('dl');
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  tile.overlay.replaceChildren(dl);
}

// ---------------------------------------------------------------- wiring

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (app.m) return;
  const room = ui.roomInput.value.trim();
  const name = ui.nameInput.value.trim();
  ui.roomInput.removeAttribute('aria-invalid');
  ui.nameInput.removeAttribute('aria-invalid');
  if (!room || !name) {
    const field = !room ? ui.roomInput : ui.nameInput;
    field.setAttribute('aria-invalid', 'true');
    ui.joinError.textContent = !room ? 'Type a room number or name first.' : 'Type your name first.';
    field.focus();
    return;
  }
  join(room, name);
});
for (const input of [ui.roomInput, ui.nameInput]) {
  input.addEventListener('input', () => { input.removeAttribute('aria-invalid'); ui.joinError.textContent = ''; });
}
ui.mute.addEventListener('click', toggleMute);
ui.camera.addEventListener('click', toggleCamera);
ui.share.addEventListener('click', toggleShare);
ui.stats.addEventListener('click', toggleStats);
ui.leave.addEventListener('click', leaveMeeting);
ui.copy.addEventListener('click', copyLink);
window.addEventListener('pagehide', () => {
  if (app.m) endMeeting(app.m, { status: null, now: true });
});

if (!window.isSecureContext) {
  ui.secureNote.classList.add('warning');
  ui.secureNote.setAttribute('role', 'alert');
}

{
  const q = new URLSearchParams(window.location.search);
  let saved = '';
  try { saved = localStorage.getItem('stoa-meeting-name') || ''; } catch { /* private mode */ }
  ui.roomInput.value = q.get('room') || '';
  ui.nameInput.value = q.get('name') || saved;
  (ui.roomInput.value && ui.nameInput.value ? ui.joinButton : ui.roomInput.value ? ui.nameInput : ui.roomInput).focus();
}

// What the browser tests look at (and may drive); not an API for pages.
function current() { return app.m || app.last; }
window.stoaMeeting = {
  get state() { const m = app.m; return m ? m.state : 'idle'; },
  get sessionId() { const m = current(); return m && m.session ? m.session.id : null; },
  get transport() { const m = current(); return m && m.session ? m.session.transportKind : null; },
  get room() { const m = current(); return m ? m.roomId : null; },
  get myId() { const m = current(); return m && m.pub ? m.pub.id : null; },
  get pubPc() { const m = current(); return m && m.pub ? m.pub.pc : null; },
  get subPc() { const m = current(); return m && m.sub ? m.sub.pc : null; },
  get events() { return app.events.slice(); },
  // The PeerConnections of the current meeting, or the last one's as they were left.
  pcStates() {
    const m = current();
    if (!m) return [];
    const list = m.state === 'ended' ? m.pcsAtEnd || [] : [['publisher', m.pub && m.pub.pc], ['subscriber', m.sub && m.sub.pc]].filter((x) => x[1]);
    return list.map(([role, pc]) => ({ role, signaling: pc.signalingState, connection: pc.connectionState }));
  },
  get talked() { return [...app.talked]; },
  get constraints() { return app.constraints; },
  set constraints(v) { app.constraints = v; },
  tiles() {
    const m = app.m;
    if (!m) return [];
    return [...m.tiles.values()].map((t) => ({
      key: t.key, me: t.me, display: t.display, audioMid: t.audio && t.audio.mid !== undefined ? t.audio.mid : null,
      videoMid: t.video && t.video.mid !== undefined ? t.video.mid : null, videoWidth: t.videoEl.videoWidth,
      currentTime: t.videoEl.currentTime, placeholder: !t.placeholder.hidden, talking: t.el.classList.contains('talking'),
      simulcast: t.simulcast, quality: t.quality.hidden ? null : Number(t.select.value), layer: t.layer,
    }));
  },
  people() {
    const m = app.m;
    if (!m) return [];
    return [...m.people.values()].map((p) => ({ id: p.id, display: p.display, me: p.me, publishing: p.publishing, talking: isTalking(m, p), silent: p.silent }));
  },
  localTracks() { return app.captured.map((t) => ({ kind: t.kind, label: t.label, readyState: t.readyState, enabled: t.enabled })); },
  sending() {
    const m = current();
    const pc = m && m.pub ? m.pub.pc : null;
    return pc ? pc.getTransceivers().map((t) => ({ kind: t.receiver.track.kind, mid: t.mid,
      track: t.sender.track ? { label: t.sender.track.label, readyState: t.sender.track.readyState } : null })) : [];
  },
  dropSocket() {
    const m = app.m;
    const t = m && m.session ? m.session.transport : null;
    if (!t || !t.ws) return false;
    t.ws.close();
    return true;
  },
};
