// The index page's live boxes: server status from GET /janus/info (the
// Janus API's server_info, with Stoa's session count) and the public
// VideoRoom rooms from the plugin's `list`, both refreshed every few
// seconds. Rooms link to the meeting and watch pages.
import { Session } from './janus.mjs';

const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);
const state = { session: null, handle: null, timer: null };

function fillList(el, modules) {
  el.replaceChildren();
  for (const [pkg, m] of Object.entries(modules || {})) {
    const li = document.createElement('li');
    li.textContent = `${pkg} — ${m.name} ${m.version_string}`;
    el.appendChild(li);
  }
}

async function loadInfo() {
  const res = await fetch('/janus/info', { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const info = await res.json();
  $('info-version').textContent = `Stoa ${info['stoa-version']} (Janus API ${info.version_string})`;
  $('info-name').textContent = info['server-name'];
  $('info-sessions').textContent = info['stoa-sessions'] !== undefined ? String(info['stoa-sessions']) : '–';
  $('info-timeout').textContent = `${info['session-timeout']} s`;
  fillList($('info-plugins'), info.plugins);
  fillList($('info-transports'), info.transports);
  $('ws-url').textContent = `ws://${location.hostname}:8188`;
  $('http-url').textContent = `${location.origin}/janus`;
  $('info').hidden = false;
  return info;
}

function link(href, text, label) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.setAttribute('aria-label', label);
  return a;
}

function roomRow(r) {
  const tr = document.createElement('tr');
  const cells = [String(r.room), r.description || '', String(r.num_participants ?? 0)];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.appendChild(td);
  }
  const td = document.createElement('td');
  const name = r.description || `room ${r.room}`;
  td.append(link(`meeting.html?room=${r.room}`, 'Join', `Join ${name} as a meeting`), ' · ',
    link(`watch.html?room=${r.room}`, 'Watch', `Watch ${name}`));
  tr.appendChild(td);
  return tr;
}

// One session for the page's life, made on first use (it keeps itself alive).
async function videoroom() {
  if (state.handle && !state.session.lost) return state.handle;
  state.session = await Session.connect();
  state.handle = await state.session.attach('janus.plugin.videoroom');
  return state.handle;
}

async function loadRooms() {
  const roomsState = $('rooms-state');
  try {
    const handle = await videoroom();
    const { data } = await handle.message({ request: 'list' });
    const rooms = (data.list || []).sort((a, b) => a.room - b.room);
    $('rooms-body').replaceChildren(...rooms.map(roomRow));
    $('rooms-table').hidden = rooms.length === 0;
    roomsState.textContent = rooms.length ? '' : 'No public rooms right now. Start one from the Meeting page.';
  } catch (err) {
    roomsState.textContent = `Could not list rooms (${err.message}).`;
  }
}

async function refresh() {
  const st = $('info-state');
  try {
    await loadInfo();
    st.textContent = 'The server is up.';
    await loadRooms();
  } catch (err) {
    st.textContent = `The server did not answer (${err.message}).`;
  }
}

refresh();
state.timer = setInterval(refresh, REFRESH_MS);
window.addEventListener('pagehide', () => {
  clearInterval(state.timer);
  if (state.session) state.session.destroy().catch(() => { /* the page is going away */ });
});
