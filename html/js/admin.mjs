// admin.mjs: the admin dashboard (admin.html) on Stoa's REST admin API
// (docs/api.md, docs/openapi.yaml): VideoRoom rooms, their participants with
// a live plot of each one's bitrate and loss, and the buttons that create,
// edit and destroy rooms, kick participants and mute their streams.
//
// Connection: the API base defaults to http://<this host>:7088/api/v1 (the
// admin listener); the token comes from the URL fragment (#token=..., the link
// the server prints) or the sign-in form. It is kept in sessionStorage (this
// tab only) and the fragment is removed from the address bar at once; it is
// never put in a query string.
//
// Design:
//   - api() is the one place that talks HTTP. It resolves with the JSON body
//     (null for 204) and rejects with an ApiError carrying the HTTP status and
//     the API's error object (code, message, field); status 0 means no answer
//     (server down, listener unreachable, CORS refused, 5 s timeout).
//   - Two polling loops, each scheduling its next run when the previous one is
//     done so that a slow server never gets requests piled up: the rooms table
//     every 2 s (GET /rooms?include=private), and, while a room is selected,
//     its participants every second (the list, then each one's details). Both
//     belong to a "generation": signing out or in again starts a new one and
//     the old loops stop at their next step.
//   - Tables and cards are keyed by id and updated in place (text only where
//     it changed), so refreshing moves nothing and keeps keyboard focus.
//   - Loss: a participant's details carry its streams' bitrate but no loss.
//     The session behind it does (GET /sessions/{id}: per-mid `stats.in.packets`
//     and `rtcp.main.lost`, cumulative), so the page maps publisher ids to
//     sessions (scanning sessions it has not seen, a few per second) and plots
//     the lost share of the packets expected between two samples. A token or
//     server that does not give sessions just leaves the loss line out.
//   - Write scope: a write answered 403 insufficient_scope marks the token as
//     read-only; every write control (class "write") is then hidden.
//   - Requests that may race with a kick or a destroy are aborted first, so
//     the page does not ask for what it has just removed.
//
// Everything runs on the page's main thread. window.stoaAdmin (at the bottom)
// is what the browser test reads: state, rooms, samples per participant.

const REQUEST_TIMEOUT_MS = 5000;
const ROOMS_EVERY_MS = 2000;
const SAMPLE_EVERY_MS = 1000;
const WINDOW_MS = 60000;
const GAP_MS = 3500;                 // a longer hole between samples breaks the line
const SESSION_SCAN_EVERY_MS = 3000;
const SESSION_SCAN_BATCH = 8;        // session details fetched per scan
const STORE_TOKEN = 'stoa-admin-token';
const STORE_BASE = 'stoa-admin-base';
const COLORS = { bitrate: '#0b6e99', bitrateFill: 'rgba(11, 110, 153, .14)', loss: '#b3261e',
  grid: '#e3e8ec', text: '#5a6570' };

const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'),
  signin: $('signin'), signinTitle: $('signin-title'), signinForm: $('signin-form'), base: $('api-base'),
  token: $('api-token'), signinButton: $('signin-button'), signinError: $('signin-error'),
  dashboard: $('dashboard'), connBase: $('conn-base'), connScope: $('conn-scope'), signout: $('signout-button'),
  roomsTitle: $('rooms-title'), roomsBody: $('admin-rooms-body'), roomsEmpty: $('rooms-empty'), roomsUpdated: $('rooms-updated'),
  participants: $('participants'), participantsTitle: $('participants-title'), participantsRoom: $('participants-room'),
  participantsClose: $('participants-close'), participantsList: $('participants-list'), participantsEmpty: $('participants-empty'),
  participantsSummary: $('participants-summary'),
  createForm: $('create-form'), createButton: $('create-button'), createError: $('create-error'),
  editDialog: $('edit-dialog'), editForm: $('edit-form'), editRoom: $('edit-room'), editError: $('edit-error'),
  editSave: $('edit-save'), editCancel: $('edit-cancel'),
  destroyDialog: $('destroy-dialog'), destroyRoom: $('destroy-room'), destroyText: $('destroy-text'),
  destroyError: $('destroy-error'), destroyConfirm: $('destroy-confirm'), destroyCancel: $('destroy-cancel'),
};

const app = {
  state: 'signed-out',     // signed-out | connecting | connected | unreachable
  base: null,
  token: null,
  canWrite: null,          // null: not known yet; false after a 403 on a write
  generation: 0,
  rooms: new Map(),        // room id -> Room (the last list)
  roomRows: new Map(),     // room id -> { tr, cells, buttons }
  selected: null,          // the room whose participants are shown
  people: new Map(),       // participant id -> card record (see participantCard)
  gone: new Set(),         // participants kicked from here, until the list stops naming them
  sampleAbort: null,       // AbortController of the participant requests in flight
  sampler: 0,              // which sampleLoop is the current one
  sessions: { byPublisher: new Map(), seen: new Map(), lastScan: 0 },
  lastRooms: 0,
  editing: null,           // room id in the edit dialog
  destroying: null,        // room id in the destroy dialog
  returnFocus: null,
};

// ---------------------------------------------------------------- HTTP

/** A failed API request: status 0 when the server gave no answer. */
class ApiError extends Error {
  constructor(status, error, message) {
    super(message || (error && error.message) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error && error.code ? error.code : (status === 0 ? 'unreachable' : 'http_error');
    this.field = error && error.field ? error.field : null;
  }
}

async function api(method, path, body, { signal } = {}) {
  const headers = { Authorization: `Bearer ${app.token}` };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  init.signal = signal ? anySignal([signal, timeout]) : timeout;
  let res;
  try {
    res = await fetch(app.base + path, init);
  } catch (e) {
    if (signal && signal.aborted) throw e;            // our own abort: not an outage
    const why = e && e.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : 'no connection';
    throw new ApiError(0, null, why);
  }
  if (res.status === 204) return null;
  let json = null;
  try { json = await res.json(); } catch { /* an error without a body */ }
  if (!res.ok) throw new ApiError(res.status, json && json.error, json && json.error ? json.error.message : `HTTP ${res.status}`);
  return json;
}

// AbortSignal.any() where the browser has it (Chromium 116, Firefox 124, Safari 17.4).
function anySignal(signals) {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any(signals);
  const c = new AbortController();
  for (const s of signals) {
    if (s.aborted) { c.abort(s.reason); break; }
    s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c.signal;
}

const isAbort = (e) => e && e.name === 'AbortError';

function defaultBase(loc = window.location) {
  const host = loc.hostname || 'localhost';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return loc.protocol === 'https:' ? `https://${hostPart}:7889/api/v1` : `http://${hostPart}:7088/api/v1`;
}

function normalizeBase(text) {
  let u;
  try { u = new URL(text.trim()); } catch { return null; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  return (u.origin + u.pathname).replace(/\/+$/, '');
}

// ---------------------------------------------------------------- messages

function setStatus(text, kind = 'info') {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', kind === 'error');
}

function unreachableText(e) {
  return `Cannot reach the REST API at ${app.base} (${e.message}). Is Stoa running with rest_api enabled, ` +
    'and can this browser reach its admin listener (127.0.0.1:7088 by default, so open this page on that machine)?';
}

// Messages for the errors every request can get. Returns null for those the
// caller explains itself (400, 404, 409 on a form).
function commonError(e) {
  if (!(e instanceof ApiError)) return `Unexpected error: ${e && e.message ? e.message : e}`;
  if (e.status === 0) return unreachableText(e);
  if (e.status === 401) return `The server refused the token (401, ${e.message}). Sign in with the admin secret or a rest_api token.`;
  if (e.status === 403 && e.code === 'insufficient_scope') return 'This token may only read (403 insufficient_scope): the buttons that change things are hidden.';
  if (e.status === 403) return `The server refused this page (403 ${e.code}: ${e.message}). Check the HTTP transport's CORS settings.`;
  if (e.status === 503) return `The VideoRoom plugin is not available (503 ${e.code}: ${e.message}).`;
  return null;
}

// Handles a failed request's consequences for the whole page. Returns true
// when it did (the caller stops), false when the error is the caller's own.
function pageError(e) {
  if (isAbort(e)) return true;
  if (e instanceof ApiError && e.status === 401) {
    signOut(commonError(e), { keepToken: true, error: true });
    return true;
  }
  if (e instanceof ApiError && e.status === 403 && e.code === 'insufficient_scope') {
    setReadOnly();
    return true;
  }
  if (e instanceof ApiError && e.status === 0) {
    if (app.state === 'connected') app.state = 'unreachable';
    setStatus(unreachableText(e), 'error');
    return true;
  }
  const text = commonError(e);
  if (text) { setStatus(text, 'error'); return true; }
  return false;
}

function setReadOnly() {
  app.canWrite = false;
  document.body.classList.add('read-only');
  for (const el of document.querySelectorAll('.write button, button.write')) el.disabled = true;
  ui.connScope.textContent = 'read only';
  ui.connScope.hidden = false;
  for (const d of [ui.editDialog, ui.destroyDialog]) if (d.open) d.close();
  setStatus(commonError(new ApiError(403, { code: 'insufficient_scope' })), 'error');
}

// ---------------------------------------------------------------- sign-in

function readFragment() {
  if (!location.hash || location.hash.length < 2) return false;
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  const base = params.get('api');
  if (!token) return false;
  // The token must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, '', location.pathname + location.search);
  sessionStorage.setItem(STORE_TOKEN, token);
  if (base && normalizeBase(base)) sessionStorage.setItem(STORE_BASE, normalizeBase(base));
  return true;
}

function showSignin(errorText) {
  ui.dashboard.hidden = true;
  ui.signin.hidden = false;
  ui.base.value = app.base || sessionStorage.getItem(STORE_BASE) || defaultBase();
  ui.token.value = app.token || '';
  ui.signinError.textContent = errorText || '';
  ui.token.setAttribute('aria-invalid', errorText && /token/.test(errorText) ? 'true' : 'false');
  ui.signinButton.disabled = false;
}

function signOut(text, { keepToken = false, error = false } = {}) {
  app.generation++;
  if (app.sampleAbort) app.sampleAbort.abort();
  if (!keepToken) app.token = null;
  sessionStorage.removeItem(STORE_TOKEN);
  for (const d of [ui.editDialog, ui.destroyDialog]) if (d.open) d.close();
  closeParticipants({ focus: false });
  app.state = 'signed-out';
  showSignin(error ? text : '');
  setStatus(text, error ? 'error' : 'info');
  (error ? ui.token : ui.base).focus();
}

// Tries the token with GET /rooms; on success shows the dashboard and starts polling.
async function connect() {
  const gen = ++app.generation;
  app.state = 'connecting';
  app.canWrite = null;
  document.body.classList.remove('read-only');
  for (const el of document.querySelectorAll('.write button, button.write')) el.disabled = false;
  ui.signinButton.disabled = true;
  setStatus(`Connecting to ${app.base}…`);
  let list;
  try {
    list = await api('GET', '/rooms?include=private');
  } catch (e) {
    if (gen !== app.generation) return;
    app.state = 'signed-out';
    const text = commonError(e) || `The API answered ${e.status} (${e.code}: ${e.message}).`;
    if (e.status === 401) sessionStorage.removeItem(STORE_TOKEN);
    showSignin(text);
    setStatus(text, 'error');
    (e.status === 401 ? ui.token : ui.base).focus();
    return;
  }
  if (gen !== app.generation) return;
  sessionStorage.setItem(STORE_TOKEN, app.token);
  sessionStorage.setItem(STORE_BASE, app.base);
  app.state = 'connected';
  app.sessions = { byPublisher: new Map(), seen: new Map(), lastScan: 0 };
  ui.signin.hidden = true;
  ui.dashboard.hidden = false;
  ui.connBase.textContent = app.base;
  ui.connScope.hidden = true;
  renderRooms(list.rooms || []);
  setStatus(`Connected. ${roomCountText()}`);
  const hadFocus = ui.signin.contains(document.activeElement) || document.activeElement === document.body;
  if (hadFocus) ui.roomsTitle.focus();
  setTimeout(() => roomsLoop(gen), ROOMS_EVERY_MS);
}

function roomCountText() {
  const n = app.rooms.size;
  return n === 0 ? 'No rooms yet.' : `${n} room${n === 1 ? '' : 's'}.`;
}

// ---------------------------------------------------------------- rooms

async function roomsLoop(gen) {
  if (gen !== app.generation) return;
  try {
    const list = await api('GET', '/rooms?include=private');
    if (gen !== app.generation) return;
    if (app.state === 'unreachable') setStatus(`Connected again. ${roomCountText()}`);
    app.state = 'connected';
    renderRooms(list.rooms || []);
  } catch (e) {
    if (gen !== app.generation) return;
    pageError(e);
  }
  if (gen === app.generation) setTimeout(() => roomsLoop(gen), ROOMS_EVERY_MS);
}

function fmtBitrate(bps) {
  if (!bps) return '0 kbit/s';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(bps >= 1e7 ? 0 : 1)} Mbit/s`;
  return `${Math.round(bps / 1000)} kbit/s`;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function button(text, cls, label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (cls) b.className = cls;
  if (label) b.setAttribute('aria-label', label);
  if (app.canWrite === false && /\bwrite\b/.test(cls || '')) b.disabled = true;
  return b;
}

function roomRow(id) {
  const tr = document.createElement('tr');
  tr.dataset.room = String(id);
  const cells = {};
  for (const [key, label, cls] of [['id', 'Room', 'c-id'], ['description', 'Description', 'c-desc'],
    ['participants', 'Participants', 'c-num'], ['publishers', 'Publishers max', 'c-num'],
    ['bitrate', 'Bitrate cap', 'c-num'], ['access', 'Access', 'c-flags'], ['actions', '', 'c-actions']]) {
    const td = document.createElement(key === 'id' ? 'th' : 'td');
    if (key === 'id') td.scope = 'row';
    td.className = cls;
    if (label) td.dataset.label = label;
    cells[key] = td;
    tr.appendChild(td);
  }
  const show = button('Participants', 'secondary show', `Participants of room ${id}`);
  show.setAttribute('aria-pressed', 'false');
  show.setAttribute('aria-controls', 'participants');
  show.addEventListener('click', () => (app.selected === id ? closeParticipants() : selectRoom(id)));
  const edit = button('Edit', 'secondary write', `Edit room ${id}`);
  edit.addEventListener('click', () => openEdit(id, edit));
  const destroy = button('Destroy', 'danger write', `Destroy room ${id}`);
  destroy.addEventListener('click', () => openDestroy(id, destroy));
  const group = document.createElement('div');
  group.className = 'actions';
  group.append(show, edit, destroy);
  cells.actions.appendChild(group);
  return { tr, cells, buttons: { show, edit, destroy } };
}

function renderRooms(rooms) {
  const now = new Date();
  app.lastRooms = now.getTime();
  const sorted = rooms.slice().sort((a, b) => a.room - b.room);
  const next = new Map(sorted.map((r) => [r.room, r]));
  for (const [id, row] of app.roomRows) {
    if (next.has(id)) continue;
    if (row.tr.contains(document.activeElement)) ui.roomsTitle.focus();
    row.tr.remove();
    app.roomRows.delete(id);
  }
  app.rooms = next;
  let prev = null;
  for (const r of sorted) {
    let row = app.roomRows.get(r.room);
    if (!row) {
      row = roomRow(r.room);
      app.roomRows.set(r.room, row);
    }
    const c = row.cells;
    setText(c.id, String(r.room));
    setText(c.description, r.description || '');
    if (c.description.title !== (r.description || '')) c.description.title = r.description || '';
    setText(c.participants, String(r.num_participants ?? 0));
    setText(c.publishers, String(r.max_publishers ?? ''));
    setText(c.bitrate, r.bitrate ? fmtBitrate(r.bitrate) : 'none');
    const flags = [r.is_private ? 'private' : null, r.pin_required ? 'PIN' : null].filter(Boolean);
    const flagsKey = flags.join(',') || 'open';
    if (c.access.dataset.flags !== flagsKey) {
      c.access.dataset.flags = flagsKey;
      // Spaces between the tags, so that they read as words.
      c.access.replaceChildren(...(flags.length ? flags : ['open']).flatMap((f, i) => {
        const s = document.createElement('span');
        s.className = `tag flag-${f.toLowerCase()}`;
        s.textContent = f;
        return i ? [' ', s] : [s];
      }));
    }
    const selected = app.selected === r.room;
    row.tr.classList.toggle('selected', selected);
    row.buttons.show.setAttribute('aria-pressed', String(selected));
    // Only move a row when it is out of place: moving the focused button's row would blur it.
    const want = prev ? prev.nextSibling : ui.roomsBody.firstChild;
    if (want !== row.tr) ui.roomsBody.insertBefore(row.tr, want);
    prev = row.tr;
  }
  ui.roomsEmpty.hidden = sorted.length > 0;
  setText(ui.roomsUpdated, `Updated ${now.toLocaleTimeString()}`);
  if (app.selected !== null && !next.has(app.selected)) {
    const id = app.selected;
    closeParticipants({ focus: false });
    setStatus(`Room ${id} is gone (destroyed elsewhere).`);
  } else if (app.selected !== null) {
    setText(ui.participantsRoom, roomName(next.get(app.selected)));
  }
}

function roomName(r) {
  return r.description && r.description !== `Room ${r.room}` ? `room ${r.room} (${r.description})` : `room ${r.room}`;
}

// ---------------------------------------------------------------- create

function fieldValues(form, names) {
  const out = {};
  for (const name of names) {
    const el = form.elements[name];
    if (el.type === 'checkbox') out[name] = el.checked;
    else if (el.type === 'number') { if (el.value.trim() !== '') out[name] = Number(el.value); }
    else if (el.value !== '') out[name] = el.value;
  }
  return out;
}

function clearInvalid(form, errorEl) {
  for (const el of form.elements) if (el.getAttribute('aria-invalid') === 'true') el.setAttribute('aria-invalid', 'false');
  errorEl.textContent = '';
}

// A 400 or 409 from the API, shown under the form with the field marked.
function showFormError(form, errorEl, e, fallbackField) {
  const field = e.field || (e.status === 409 ? fallbackField : null);
  const el = field && form.elements[field] ? form.elements[field] : null;
  errorEl.textContent = el ? `${labelOf(el)}: ${e.message}` : `${e.message}${e.code ? ` (${e.status} ${e.code})` : ''}`;
  if (el) {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
  }
}

function labelOf(el) {
  const l = el.labels && el.labels[0];
  if (!l) return el.name;
  const t = l.cloneNode(true);
  for (const o of t.querySelectorAll('.optional, input')) o.remove();
  return t.textContent.trim();
}

async function createRoom(ev) {
  ev.preventDefault();
  if (app.canWrite === false) return;
  const form = ui.createForm;
  clearInvalid(form, ui.createError);
  const body = fieldValues(form, ['description', 'publishers', 'bitrate', 'pin', 'secret', 'is_private', 'permanent']);
  const idText = form.elements.room.value.trim();
  if (idText !== '') {
    if (!/^\d+$/.test(idText) || Number(idText) < 1 || !Number.isSafeInteger(Number(idText))) {
      showFormError(form, ui.createError, { field: 'room', message: `a whole number from 1 to ${Number.MAX_SAFE_INTEGER}` });
      return;
    }
    body.room = Number(idText);
  }
  ui.createButton.disabled = true;
  try {
    const room = await api('POST', '/rooms', body);
    form.reset();
    app.rooms.set(room.room, room);
    renderRooms([...app.rooms.values()]);
    const row = app.roomRows.get(room.room);
    if (row) { row.tr.classList.remove('fresh'); void row.tr.offsetWidth; row.tr.classList.add('fresh'); }
    app.canWrite = true;
    setStatus(`Room ${room.room} created${room.permanent ? ' and saved in the config file' : ''}.`);
  } catch (e) {
    if (!pageError(e)) showFormError(form, ui.createError, e, 'room');
    else if (e.status === 0) ui.createError.textContent = 'Not created: the server did not answer.';
  } finally {
    ui.createButton.disabled = app.canWrite === false;
  }
}

// ---------------------------------------------------------------- edit

function openEdit(id, from) {
  const r = app.rooms.get(id);
  if (!r || app.canWrite === false) return;
  app.editing = id;
  app.returnFocus = from;
  const f = ui.editForm;
  clearInvalid(f, ui.editError);
  ui.editRoom.textContent = String(id);
  f.elements.description.value = r.description || '';
  f.elements.publishers.value = String(r.max_publishers ?? '');
  f.elements.bitrate.value = String(r.bitrate ?? 0);
  f.elements.pin.value = '';
  f.elements.is_private.checked = !!r.is_private;
  ui.editSave.disabled = false;
  ui.editDialog.showModal();
  f.elements.description.focus();
}

async function saveEdit(ev) {
  ev.preventDefault();
  const id = app.editing;
  const r = app.rooms.get(id);
  const f = ui.editForm;
  clearInvalid(f, ui.editError);
  if (!r) { ui.editError.textContent = 'This room is gone.'; return; }
  const v = fieldValues(f, ['description', 'publishers', 'bitrate', 'pin', 'is_private']);
  // Only what changed: PATCH is a partial update.
  const body = {};
  if ((v.description ?? '') !== (r.description || '')) body.description = v.description ?? '';
  if (v.publishers !== undefined && v.publishers !== r.max_publishers) body.publishers = v.publishers;
  if (v.bitrate !== undefined && v.bitrate !== r.bitrate) body.bitrate = v.bitrate;
  if (v.is_private !== !!r.is_private) body.is_private = v.is_private;
  if (v.pin) body.pin = v.pin;
  if (Object.keys(body).length === 0) {
    ui.editDialog.close();
    setStatus(`Room ${id}: nothing changed.`);
    return;
  }
  ui.editSave.disabled = true;
  try {
    const room = await api('PATCH', `/rooms/${id}`, body);
    app.rooms.set(room.room, room);
    renderRooms([...app.rooms.values()]);
    app.canWrite = true;
    ui.editDialog.close();
    setStatus(`Room ${id} saved (${Object.keys(body).join(', ')}).`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      ui.editError.textContent = `Room ${id} does not exist any more.`;
    } else if (!pageError(e)) {
      showFormError(f, ui.editError, e);
    } else if (e.status === 0) {
      ui.editError.textContent = 'Not saved: the server did not answer.';
    }
  } finally {
    ui.editSave.disabled = false;
  }
}

// ---------------------------------------------------------------- destroy

function openDestroy(id, from) {
  const r = app.rooms.get(id);
  if (!r || app.canWrite === false) return;
  app.destroying = id;
  app.returnFocus = from;
  ui.destroyRoom.textContent = String(id);
  const n = r.num_participants || 0;
  ui.destroyText.textContent = `${r.description ? `"${r.description}": ` : ''}` +
    (n ? `its ${n} participant${n === 1 ? '' : 's'} will be disconnected.` : 'nobody is in it.') +
    ' This cannot be undone.';
  ui.destroyError.textContent = '';
  ui.destroyConfirm.disabled = false;
  ui.destroyDialog.showModal();
  ui.destroyCancel.focus();   // the safe choice has the focus
}

async function destroyRoom() {
  const id = app.destroying;
  ui.destroyConfirm.disabled = true;
  // Nothing more about this room may be asked while it goes.
  if (app.selected === id) closeParticipants({ focus: false });
  try {
    await api('DELETE', `/rooms/${id}`);
    app.canWrite = true;
    ui.destroyDialog.close();
    setStatus(`Room ${id} destroyed.`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      ui.destroyDialog.close();
      setStatus(`Room ${id} was already gone.`);
    } else if (!pageError(e)) {
      ui.destroyError.textContent = `Not destroyed: ${e.message} (${e.status} ${e.code}).`;
    } else if (e.status === 0) {
      ui.destroyError.textContent = 'Not destroyed: the server did not answer.';
    }
  } finally {
    ui.destroyConfirm.disabled = false;
  }
  if (!ui.destroyDialog.open) {
    app.rooms.delete(id);
    renderRooms([...app.rooms.values()]);
  }
}

function dialogClosed() {
  const el = app.returnFocus;
  app.returnFocus = null;
  app.editing = null;
  app.destroying = null;
  if (el && el.isConnected && !el.disabled) el.focus();
  else if (!ui.dashboard.hidden) ui.roomsTitle.focus();
}

// ---------------------------------------------------------------- participants

function selectRoom(id) {
  if (app.sampleAbort) app.sampleAbort.abort();
  for (const p of app.people.values()) p.el.remove();
  app.people.clear();
  app.gone.clear();
  app.selected = id;
  ui.participants.hidden = false;
  ui.participantsEmpty.hidden = true;
  setText(ui.participantsSummary, '');
  setText(ui.participantsRoom, roomName(app.rooms.get(id)));
  renderRooms([...app.rooms.values()]);
  ui.participantsTitle.focus();
  sampleLoop(app.generation, id, ++app.sampler);
}

function closeParticipants({ focus = true } = {}) {
  const id = app.selected;
  if (app.sampleAbort) app.sampleAbort.abort();
  app.sampleAbort = null;
  app.selected = null;
  for (const p of app.people.values()) p.el.remove();
  app.people.clear();
  app.gone.clear();
  ui.participants.hidden = true;
  if (id !== null && app.roomRows.has(id)) {
    const row = app.roomRows.get(id);
    row.tr.classList.remove('selected');
    row.buttons.show.setAttribute('aria-pressed', 'false');
    if (focus) row.buttons.show.focus();
  }
}

async function sampleLoop(gen, room, loop) {
  const current = () => gen === app.generation && app.selected === room && app.sampler === loop;
  if (!current()) return;
  const started = Date.now();
  const abort = new AbortController();
  app.sampleAbort = abort;
  try {
    await sample(room, abort.signal);
  } catch (e) {
    if (!current() || abort.signal.aborted) return;
    if (e instanceof ApiError && e.status === 404 && e.code === 'room_not_found') {
      closeParticipants({ focus: false });
      setStatus(`Room ${room} is gone.`);
      return;
    }
    pageError(e);
  }
  if (app.sampleAbort === abort) app.sampleAbort = null;
  if (!current()) return;
  setTimeout(() => sampleLoop(gen, room, loop), Math.max(200, SAMPLE_EVERY_MS - (Date.now() - started)));
}

// One sample of every participant of the room: the list, each one's details,
// and the loss counters of their sessions.
async function sample(room, signal) {
  const list = await api('GET', `/rooms/${room}/participants`, undefined, { signal });
  const ids = new Set((list.participants || []).map((p) => p.id));
  for (const id of app.gone) if (!ids.has(id)) app.gone.delete(id);
  const people = (list.participants || []).filter((p) => !app.gone.has(p.id));
  for (const [id, card] of app.people) {
    if (people.some((p) => p.id === id)) continue;
    if (card.el.contains(document.activeElement)) ui.participantsTitle.focus();
    card.el.remove();
    app.people.delete(id);
  }
  ui.participantsEmpty.hidden = people.length > 0;
  const n = people.length, subs = list.subscribers;
  setText(ui.participantsSummary, `${n} participant${n === 1 ? '' : 's'}` +
    (typeof subs === 'number' ? `, ${subs} subscriber${subs === 1 ? '' : 's'} (viewers' handles).` : '.'));
  if (people.length === 0) return;

  await mapSessions(people.map((p) => p.id), signal);
  const now = Date.now();
  await Promise.all(people.map(async (p) => {
    let details = null, counters = null;
    const sid = app.sessions.byPublisher.get(p.id);
    const [d, s] = await Promise.allSettled([
      api('GET', `/rooms/${room}/participants/${p.id}`, undefined, { signal }),
      sid ? api('GET', `/sessions/${sid}`, undefined, { signal }) : Promise.resolve(null),
    ]);
    if (signal.aborted || app.gone.has(p.id)) return;
    if (d.status === 'fulfilled') details = d.value;
    else if (!(d.reason instanceof ApiError && (d.reason.status === 404 || d.reason.status === 501))) throw d.reason;
    if (s.status === 'fulfilled' && s.value) counters = lossCounters(s.value, room, p.id);
    else if (s.status === 'rejected') app.sessions.byPublisher.delete(p.id);
    updateParticipant(p, details, counters, now);
  }));
}

// Publisher id -> session id, from the sessions' handle info. Sessions are
// looked at once (again when their number of handles changes), a few per scan.
async function mapSessions(pids, signal) {
  const s = app.sessions;
  if (pids.every((id) => s.byPublisher.has(id)) || Date.now() - s.lastScan < SESSION_SCAN_EVERY_MS) return;
  s.lastScan = Date.now();
  let list;
  try {
    list = await api('GET', '/sessions', undefined, { signal });
  } catch (e) {
    if (isAbort(e) || (e instanceof ApiError && e.status === 0)) throw e;
    return;   // no sessions for this token or server: no loss line
  }
  const live = new Set(list.sessions.map((x) => x.id));
  for (const id of s.seen.keys()) if (!live.has(id)) s.seen.delete(id);
  const todo = list.sessions.filter((x) => s.seen.get(x.id) !== x.num_handles).slice(0, SESSION_SCAN_BATCH);
  await Promise.all(todo.map(async (x) => {
    let full;
    try { full = await api('GET', `/sessions/${x.id}`, undefined, { signal }); } catch { return; }
    s.seen.set(x.id, x.num_handles);
    for (const h of full.handles || []) {
      const ps = h.plugin_specific;
      if (h.plugin === 'janus.plugin.videoroom' && ps && ps.type === 'publisher' && ps.id) s.byPublisher.set(ps.id, x.id);
    }
  }));
}

// Cumulative packets received and lost over the publisher's streams.
function lossCounters(session, room, pid) {
  for (const h of session.handles || []) {
    const ps = h.plugin_specific;
    if (!ps || ps.id !== pid || ps.room !== room || !ps.media) continue;
    let packets = 0, lost = 0;
    for (const m of Object.values(ps.media)) {
      packets += (m.stats && m.stats.in && m.stats.in.packets) || 0;
      lost += (m.rtcp && m.rtcp.main && m.rtcp.main.lost) || 0;
    }
    return { packets, lost };
  }
  return null;
}

function participantCard(p) {
  const el = document.createElement('article');
  el.className = 'participant';
  el.dataset.participant = String(p.id);
  const nameId = `p-${p.id}-name`;
  el.setAttribute('aria-labelledby', nameId);
  el.innerHTML = `
    <div class="participant-head">
      <h3 id="${nameId}"><span class="name"></span> <code class="pid"></code></h3>
      <span class="tag state"></span>
      <button type="button" class="danger write kick">Kick</button>
    </div>
    <canvas class="plot" role="img" height="140"></canvas>
    <p class="legend"><span class="key bitrate" aria-hidden="true"></span>Bitrate <strong class="v-bitrate">–</strong>
      <span class="key loss" aria-hidden="true"></span>Loss <strong class="v-loss">–</strong></p>
    <div class="table-wrap"><table class="streams">
      <caption class="visually-hidden"></caption>
      <thead><tr><th scope="col">mid</th><th scope="col">Type</th><th scope="col">Codec</th><th scope="col">Simulcast</th>
        <th scope="col" class="c-num">Bitrate</th><th scope="col" class="c-num">Subscribers</th>
        <th scope="col"><span class="visually-hidden">Moderation</span></th></tr></thead>
      <tbody></tbody>
    </table></div>`;
  const q = (s) => el.querySelector(s);
  const card = {
    id: p.id, el, samples: [], prev: null, streams: new Map(), display: '',
    name: q('.name'), pid: q('.pid'), state: q('.state'), kick: q('.kick'), canvas: q('canvas'),
    vBitrate: q('.v-bitrate'), vLoss: q('.v-loss'), caption: q('caption'), tbody: q('tbody'),
  };
  card.pid.textContent = String(p.id);
  if (app.canWrite === false) card.kick.disabled = true;
  card.kick.addEventListener('click', () => kick(card));
  return card;
}

function updateParticipant(p, details, counters, now) {
  let card = app.people.get(p.id);
  if (!card) {
    card = participantCard(p);
    app.people.set(p.id, card);
  }
  const display = (details && details.display) || p.display || '';
  card.display = display;
  setText(card.name, display || '(no name)');
  const kickLabel = `Kick ${display || `participant ${p.id}`}`;
  if (card.kick.getAttribute('aria-label') !== kickLabel) card.kick.setAttribute('aria-label', kickLabel);
  const publishing = details ? !!(details.publishing ?? p.publisher) : !!p.publisher;
  setText(card.state, publishing ? 'publishing' : 'not publishing');
  card.state.classList.toggle('on', publishing);
  setText(card.caption, `Streams of ${display || `participant ${p.id}`}`);

  const streams = (details && details.streams) || [];
  const bitrate = streams.reduce((sum, s) => sum + (s.bitrate || 0), 0);
  let loss = null;
  if (counters) {
    if (card.prev && counters.packets >= card.prev.packets) {
      const got = counters.packets - card.prev.packets;
      const lost = Math.max(0, counters.lost - card.prev.lost);
      loss = got + lost > 0 ? (100 * lost) / (got + lost) : 0;
    }
    card.prev = counters;
  }
  card.samples.push({ t: now, bitrate, loss });
  while (card.samples.length && card.samples[0].t < now - WINDOW_MS - 2 * SAMPLE_EVERY_MS) card.samples.shift();

  setText(card.vBitrate, fmtBitrate(bitrate));
  setText(card.vLoss, loss === null ? (counters ? '…' : 'not available') : `${loss.toFixed(1)} %`);
  card.canvas.setAttribute('aria-label', `Bitrate and loss of ${display || `participant ${p.id}`} over the last minute; ` +
    `now ${card.vBitrate.textContent}, loss ${card.vLoss.textContent}`);
  renderStreams(card, p, streams);
  placeCard(card);
  drawPlot(card.canvas, card.samples, now);
}

// Cards in order of name, then id, so that every dashboard shows the same
// order; a card only moves when it is out of place (moving one blurs it).
function placeCard(card) {
  const key = (c) => [c.display.toLowerCase(), c.id];
  const before = (a, b) => { const [x, y] = [key(a), key(b)]; return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]); };
  let next = null;
  for (const el of ui.participantsList.children) {
    const other = app.people.get(Number(el.dataset.participant));
    if (other && other !== card && before(card, other)) { next = el; break; }
  }
  if (card.el.parentNode !== ui.participantsList || (next ? card.el.nextSibling !== next : ui.participantsList.lastChild !== card.el))
    ui.participantsList.insertBefore(card.el, next);
}

function renderStreams(card, p, streams) {
  const seen = new Set();
  let prev = null;
  for (const s of streams) {
    const key = String(s.mid);
    seen.add(key);
    let row = card.streams.get(key);
    if (!row) {
      const tr = document.createElement('tr');
      tr.innerHTML = '<td><code></code></td><td></td><td></td><td></td><td class="c-num"></td><td class="c-num"></td><td></td>';
      const mute = button('Mute', 'secondary write mute');
      mute.setAttribute('aria-pressed', 'false');
      mute.addEventListener('click', () => moderate(card, key, mute));
      tr.lastChild.appendChild(mute);
      row = { tr, td: [...tr.children], mute };
      card.streams.set(key, row);
    }
    const td = row.td;
    setText(td[0].firstChild, key);
    setText(td[1], s.type || '');
    setText(td[2], s.codec || '–');
    setText(td[3], s.simulcast ? 'yes' : 'no');
    setText(td[4], s.bitrate === undefined ? '–' : fmtBitrate(s.bitrate));
    setText(td[5], s.subscribers === undefined ? '–' : String(s.subscribers));
    row.mute.hidden = s.type === 'data';
    if (!row.busy) {
      const muted = !!s.moderated;
      setText(row.mute, muted ? 'Unmute' : 'Mute');
      row.mute.setAttribute('aria-pressed', String(muted));
      row.mute.setAttribute('aria-label', `${muted ? 'Unmute' : 'Mute'} ${s.type || 'stream'} ${key} of ${card.display || `participant ${p.id}`} for everyone`);
    }
    const want = prev ? prev.nextSibling : card.tbody.firstChild;
    if (want !== row.tr) card.tbody.insertBefore(row.tr, want);
    prev = row.tr;
  }
  for (const [key, row] of card.streams) {
    if (seen.has(key)) continue;
    row.tr.remove();
    card.streams.delete(key);
  }
}

async function kick(card) {
  if (app.canWrite === false || app.selected === null) return;
  const room = app.selected;
  const who = card.display || `participant ${card.id}`;
  const hadFocus = card.el.contains(document.activeElement);
  card.kick.disabled = true;
  // Stop asking about this participant before it goes.
  app.gone.add(card.id);
  if (app.sampleAbort) app.sampleAbort.abort();
  try {
    await api('DELETE', `/rooms/${room}/participants/${card.id}`);
    app.canWrite = true;
    setStatus(`${who} was kicked from room ${room}.`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      setStatus(`${who} had already left room ${room}.`);
    } else {
      app.gone.delete(card.id);
      card.kick.disabled = app.canWrite === false;
      if (hadFocus && !card.kick.disabled) card.kick.focus();
      if (!pageError(e)) setStatus(`Could not kick ${who}: ${e.message} (${e.status} ${e.code}).`, 'error');
      return;
    }
  }
  if (hadFocus || card.el.contains(document.activeElement)) ui.participantsTitle.focus();
  card.el.remove();
  app.people.delete(card.id);
  app.sessions.byPublisher.delete(card.id);
  ui.participantsEmpty.hidden = app.people.size > 0;
}

async function moderate(card, mid, btn) {
  if (app.canWrite === false || app.selected === null) return;
  const mute = btn.getAttribute('aria-pressed') !== 'true';
  const row = card.streams.get(mid);
  row.busy = true;
  btn.disabled = true;
  try {
    await api('POST', `/rooms/${app.selected}/participants/${card.id}/moderate`, { mid, mute });
    app.canWrite = true;
    btn.textContent = mute ? 'Unmute' : 'Mute';
    btn.setAttribute('aria-pressed', String(mute));
    setStatus(`Stream ${mid} of ${card.display || `participant ${card.id}`} ${mute ? 'muted' : 'unmuted'} for everyone in the room.`);
  } catch (e) {
    if (!pageError(e)) setStatus(`Could not ${mute ? 'mute' : 'unmute'} stream ${mid}: ${e.message} (${e.status} ${e.code}).`, 'error');
  } finally {
    row.busy = false;
    btn.disabled = app.canWrite === false;
  }
}

// ---------------------------------------------------------------- the plot

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function axisBitrate(bps) {
  if (bps === 0) return '0';
  return bps >= 1e6 ? `${+(bps / 1e6).toFixed(1)} Mbit/s` : `${Math.round(bps / 1000)} kbit/s`;
}

// Bitrate (filled line, left axis) and loss (dashed line, right axis) over
// the last WINDOW_MS. Drawn at the canvas's CSS size times devicePixelRatio.
function drawPlot(canvas, samples, now) {
  const cssW = canvas.clientWidth, cssH = canvas.clientHeight;
  if (!cssW || !cssH) return;
  const dpr = window.devicePixelRatio || 1;
  const W = Math.round(cssW * dpr), H = Math.round(cssH * dpr);
  if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  const pad = { l: 66, r: 40, t: 10, b: 20 };
  const w = cssW - pad.l - pad.r, h = cssH - pad.t - pad.b;
  if (w < 20 || h < 20) return;
  const t0 = now - WINDOW_MS;
  const x = (t) => pad.l + ((t - t0) / WINDOW_MS) * w;
  const visible = samples.filter((s) => s.t >= t0 - 2 * SAMPLE_EVERY_MS);
  const maxB = niceCeil(Math.max(100e3, ...visible.map((s) => s.bitrate)));
  const maxL = Math.max(5, niceCeil(Math.max(0, ...visible.map((s) => s.loss || 0))));
  const yB = (v) => pad.t + h - (v / maxB) * h;
  const yL = (v) => pad.t + h - (Math.min(v, maxL) / maxL) * h;

  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = COLORS.grid;
  ctx.fillStyle = COLORS.text;
  ctx.textBaseline = 'middle';
  for (const f of [0, 0.5, 1]) {
    const y = Math.round(pad.t + h - f * h) + 0.5;
    ctx.beginPath(); ctx.moveTo(pad.l, y); ctx.lineTo(pad.l + w, y); ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText(axisBitrate(f * maxB), pad.l - 6, y);
    ctx.textAlign = 'left';
    ctx.fillText(`${+(f * maxL).toFixed(1)} %`, pad.l + w + 6, y);
  }
  ctx.textBaseline = 'alphabetic';
  for (const [f, label] of [[0, '−60 s'], [0.5, '−30 s'], [1, 'now']]) {
    const xx = pad.l + f * w;
    ctx.textAlign = f === 0 ? 'left' : f === 1 ? 'right' : 'center';
    ctx.fillText(label, xx, cssH - 5);
    if (f > 0 && f < 1) { ctx.beginPath(); ctx.moveTo(Math.round(xx) + 0.5, pad.t); ctx.lineTo(Math.round(xx) + 0.5, pad.t + h); ctx.stroke(); }
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(pad.l, pad.t - 1, w, h + 2);
  ctx.clip();
  // Runs of samples without a gap, each drawn as one filled line.
  const runs = [];
  for (const s of visible) {
    const run = runs[runs.length - 1];
    if (run && s.t - run[run.length - 1].t <= GAP_MS) run.push(s); else runs.push([s]);
  }
  for (const run of runs) {
    ctx.beginPath();
    run.forEach((s, i) => (i ? ctx.lineTo(x(s.t), yB(s.bitrate)) : ctx.moveTo(x(s.t), yB(s.bitrate))));
    ctx.strokeStyle = COLORS.bitrate;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.stroke();
    ctx.lineTo(x(run[run.length - 1].t), yB(0));
    ctx.lineTo(x(run[0].t), yB(0));
    ctx.closePath();
    ctx.fillStyle = COLORS.bitrateFill;
    ctx.fill();
  }
  ctx.strokeStyle = COLORS.loss;
  ctx.lineWidth = 1.5;
  ctx.setLineDash([5, 3]);
  for (const run of runs) {
    ctx.beginPath();
    let open = false;
    for (const s of run) {
      if (s.loss === null) { open = false; continue; }
      if (open) ctx.lineTo(x(s.t), yL(s.loss)); else ctx.moveTo(x(s.t), yL(s.loss));
      open = true;
    }
    ctx.stroke();
  }
  ctx.restore();
}

function redrawPlots() {
  const now = Date.now();
  for (const card of app.people.values()) drawPlot(card.canvas, card.samples, now);
}

// ---------------------------------------------------------------- wiring

ui.signinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const base = normalizeBase(ui.base.value);
  const token = ui.token.value.trim();
  ui.base.setAttribute('aria-invalid', String(!base));
  ui.token.setAttribute('aria-invalid', String(!token));
  if (!base) { ui.signinError.textContent = 'The API address must be an http:// or https:// URL.'; ui.base.focus(); return; }
  if (!token) { ui.signinError.textContent = 'Enter a token.'; ui.token.focus(); return; }
  ui.signinError.textContent = '';
  app.base = base;
  app.token = token;
  connect();
});
ui.signout.addEventListener('click', () => signOut('Signed out. The token was removed from this tab.'));
ui.participantsClose.addEventListener('click', () => closeParticipants());
ui.createForm.addEventListener('submit', createRoom);
ui.createForm.addEventListener('reset', () => clearInvalid(ui.createForm, ui.createError));
ui.createForm.addEventListener('input', (ev) => { if (ev.target.getAttribute('aria-invalid') === 'true') ev.target.setAttribute('aria-invalid', 'false'); });
ui.editForm.addEventListener('submit', saveEdit);
ui.editCancel.addEventListener('click', () => ui.editDialog.close());
ui.editDialog.addEventListener('close', dialogClosed);
ui.destroyConfirm.addEventListener('click', destroyRoom);
ui.destroyCancel.addEventListener('click', () => ui.destroyDialog.close());
ui.destroyDialog.addEventListener('close', dialogClosed);
window.addEventListener('hashchange', () => {
  if (!readFragment()) return;
  app.token = sessionStorage.getItem(STORE_TOKEN);
  app.base = sessionStorage.getItem(STORE_BASE) || app.base || defaultBase();
  closeParticipants({ focus: false });
  connect();
});
if (typeof ResizeObserver === 'function') new ResizeObserver(redrawPlots).observe(ui.participantsList);

readFragment();
app.token = sessionStorage.getItem(STORE_TOKEN);
app.base = sessionStorage.getItem(STORE_BASE) || defaultBase();
if (app.token) {
  connect();
} else {
  showSignin('');
  setStatus('Sign in with the server\'s admin secret or a REST API token.');
}

// What the browser tests look at; not an API for pages.
window.stoaAdmin = {
  get state() { return app.state; },
  get base() { return app.base; },
  get canWrite() { return app.canWrite; },
  get selected() { return app.selected; },
  get rooms() { return [...app.rooms.keys()]; },
  get participants() { return [...app.people.keys()]; },
  samples(id) { const c = app.people.get(id); return c ? c.samples.map((s) => ({ ...s })) : []; },
};
