// janus.mjs: a small client for the Janus JSON API, which Stoa speaks.
//
// This is the seed of Stoa's browser client library (a later issue grows it);
// the demo pages import it as a plain ES module, with no build step. It
// covers what a one-to-one or small-room page needs and nothing more:
//
//   const session = await Session.connect({ onLost });      // WebSocket, else HTTP long poll
//   const handle = await session.attach('janus.plugin.videocall');
//   handle.onevent = ({ data, jsep }) => …;                  // unsolicited plugin events
//   handle.oncore = (msg) => …;                              // webrtcup, media, hangup, slowlink, detached
//   const { data, jsep } = await handle.message({ request: 'list' });
//   const unbind = handle.bindPeerConnection(pc);            // trickle both ways
//   await session.destroy();
//
// Design:
//   - A transport only moves JSON objects: send(msg) and an onmessage callback
//     for everything that comes back (direct replies and events alike). The
//     WebSocket transport uses the "janus-protocol" subprotocol; the HTTP one
//     POSTs requests to /janus[/<session>[/<handle>]] and reads events with a
//     long poll (GET /janus/<session>?maxev=10), which also keeps the
//     session alive on the server.
//   - The Session matches replies to requests by `transaction`: every request
//     is a promise. A plugin message answered with `ack` stays pending until
//     the `event` carrying the same transaction arrives, so message() resolves
//     with the plugin's asynchronous result; a plugin error (`error_code`)
//     rejects it with a JanusError. Events without a pending transaction go to
//     the handle named by `sender`.
//   - A keepalive goes out every 25 s (the server drops sessions that are
//     silent for 60 s).
//   - If the connection is lost (socket closed, long polls failing), a
//     session made with `reconnect: true` first tries to get it back: it
//     opens a new transport of the same kind and sends `claim`, which moves
//     the session's events to it. That works while the server keeps orphaned
//     sessions (reclaim_session_timeout > 0) and keeps the PeerConnections,
//     which never depended on the signalling socket. onReconnecting(why) and
//     onReconnected() tell the page. Requests in flight when the socket went
//     are rejected (their replies went to the dead socket). Only when the
//     claim is refused or the window (RECLAIM_WINDOW_MS) passes is the
//     session lost: every pending request is rejected and onLost is called
//     once, and the page decides whether to start over.
//
// Everything here runs on the page's main thread; callbacks are plain
// properties (one listener each), set by the page that owns the handle.

const KEEPALIVE_MS = 25000;
const REPLY_TIMEOUT_MS = 15000;      // direct replies (success/ack/error)
const EVENT_TIMEOUT_MS = 30000;      // an async plugin result after its ack
const WS_OPEN_TIMEOUT_MS = 4000;
const POLL_FAILURES_ALLOWED = 3;
const RECLAIM_WINDOW_MS = 20000;     // how long a lost session tries to claim itself back
const RECLAIM_RETRY_MS = [250, 500, 1000, 2000];

/** A failed request: code is the Janus (or plugin) error code, when there is one. */
export class JanusError extends Error {
  constructor(message, code = 0) {
    super(message);
    this.name = 'JanusError';
    this.code = code;
  }
}

function randomId() {
  const a = new Uint8Array(9);
  crypto.getRandomValues(a);
  return btoa(String.fromCharCode(...a)).replace(/[+/=]/g, 'x');
}

/** The default server addresses for a page served by Stoa (or any host running both transports). */
export function defaultServers(loc = window.location) {
  const secure = loc.protocol === 'https:';
  const host = loc.hostname || 'localhost';
  const hostPart = host.includes(':') ? `[${host}]` : host;   // IPv6 literal
  return {
    ws: `${secure ? 'wss' : 'ws'}://${hostPart}:${secure ? 8989 : 8188}`,
    http: `${secure ? 'https' : 'http'}://${hostPart}:${secure ? 8089 : 8088}/janus`,
  };
}

/**
 * What the server tells pages about the network (GET /stoa/client.json on
 * Stoa's HTTP port): { iceServers: [{ urls, username?, credential? }] },
 * ready for new RTCPeerConnection(). STUN/TURN for a deployment behind NAT
 * is configured on the server (stoa.jcfg `pages`), never in page code. A
 * page served by something else, or an older server, gets no ICE servers.
 */
export async function clientConfig(origin = window.location.origin) {
  try {
    const res = await fetch(`${origin}/stoa/client.json`, { cache: 'no-store' });
    if (!res.ok) return { iceServers: [] };
    const cfg = await res.json();
    return { ...cfg, iceServers: Array.isArray(cfg.iceServers) ? cfg.iceServers : [] };
  } catch {
    return { iceServers: [] };
  }
}

// ---------------------------------------------------------------- transports

class WsTransport {
  constructor(url) {
    this.url = url;
    this.kind = 'websocket';
    this.onmessage = null;
    this.onlost = null;
    this.ws = null;
    this.closing = false;
  }

  open() {
    return new Promise((resolve, reject) => {
      let ws;
      try { ws = new WebSocket(this.url, 'janus-protocol'); } catch (e) { reject(e); return; }
      const timer = setTimeout(() => { ws.close(); reject(new Error(`no answer from ${this.url}`)); }, WS_OPEN_TIMEOUT_MS);
      ws.onopen = () => { clearTimeout(timer); this.ws = ws; resolve(); };
      ws.onerror = () => { clearTimeout(timer); reject(new Error(`cannot connect to ${this.url}`)); };
      ws.onclose = () => {
        clearTimeout(timer);
        if (this.ws === ws && !this.closing && this.onlost) this.onlost('the WebSocket was closed');
      };
      ws.onmessage = (ev) => {
        let msg;
        try { msg = JSON.parse(ev.data); } catch { return; }
        for (const m of [].concat(msg)) if (this.onmessage) this.onmessage(m);
      };
    });
  }

  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new JanusError('not connected');
    this.ws.send(JSON.stringify(msg));
  }

  sessionStarted() { /* events arrive on the socket itself */ }

  close() {
    this.closing = true;
    if (this.ws) this.ws.close();
  }
}

class HttpTransport {
  constructor(url) {
    this.url = url.replace(/\/+$/, '');
    this.kind = 'http';
    this.onmessage = null;
    this.onlost = null;
    this.sessionId = null;
    this.closing = false;
    this.pollStopped = false;
    this.pollAbort = null;
    this.poller = null;
  }

  async open() {
    // A cheap request that proves the endpoint is there.
    const res = await fetch(`${this.url}/info`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${this.url}/info: HTTP ${res.status}`);
  }

  send(msg) {
    let path = this.url;
    if (msg.session_id) path += `/${msg.session_id}`;
    if (msg.handle_id) path += `/${msg.handle_id}`;
    fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(msg),
      keepalive: msg.janus === 'destroy',   // lets a destroy outlive the page
    }).then((res) => res.json()).then((reply) => {
      if (this.onmessage) this.onmessage(reply);
    }).catch((e) => {
      // The session times the request out; report it at once instead.
      if (this.onmessage && !this.closing)
        this.onmessage({ janus: 'error', transaction: msg.transaction,
          error: { code: 0, reason: `HTTP request failed: ${e.message}` } });
    });
  }

  // Long polls run from create to close; each GET also refreshes the session.
  sessionStarted(id) {
    this.sessionId = id;
    this.poller = this.poll();
  }

  // The session is being destroyed: no more long polls. One that is on
  // its way could reach the server after the destroy and get a 404 (which
  // the browser reports on the console), so it is cancelled; replies to
  // requests still arrive.
  stopPolling() {
    this.pollStopped = true;
    if (this.pollAbort) this.pollAbort.abort();
  }

  async poll() {
    let failures = 0;
    while (!this.closing && !this.pollStopped) {
      try {
        this.pollAbort = new AbortController();
        const res = await fetch(`${this.url}/${this.sessionId}?maxev=10&rid=${Date.now()}`, { cache: 'no-store', signal: this.pollAbort.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const msgs = await res.json();
        failures = 0;
        for (const m of [].concat(msgs)) if (m.janus !== 'keepalive' && this.onmessage && !this.closing) this.onmessage(m);
      } catch (e) {
        if (this.closing || this.pollStopped) return;
        if (++failures > POLL_FAILURES_ALLOWED) {
          if (this.onlost) this.onlost(`long poll failed: ${e.message}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 500 * failures));
      }
    }
  }

  close() { this.closing = true; }
}

// ---------------------------------------------------------------- session

export class Session {
  /**
   * Connects and creates a session. Tries the WebSocket first and falls back
   * to HTTP long polling. options: { ws, http } (URLs, see defaultServers()),
   * onLost(reason) called once if the session goes away on its own.
   * Rejects with a JanusError naming both addresses when neither answers.
   */
  static async connect(options = {}) {
    const urls = { ...defaultServers(), ...options };
    const tried = [];
    for (const transport of [urls.ws && new WsTransport(urls.ws), urls.http && new HttpTransport(urls.http)]) {
      if (!transport) continue;
      try {
        await transport.open();
      } catch (e) {
        tried.push(e.message);
        continue;
      }
      const session = new Session(transport, options);
      await session.create();
      return session;
    }
    throw new JanusError(`The Janus server is unreachable (${tried.join('; ')}).`);
  }

  /**
   * options: onLost(why), onReconnecting(why), onReconnected(), reconnect
   * (default false: a page that does not show "reconnecting" would look
   * frozen for the whole reclaim window, so it hears onLost at once).
   */
  constructor(transport, options = {}) {
    this.id = null;
    this.handles = new Map();     // handle id -> Handle
    this.pending = new Map();     // transaction -> { resolve, reject, timer, waitEvent }
    this.onLost = options.onLost || null;
    this.onReconnecting = options.onReconnecting || null;
    this.onReconnected = options.onReconnected || null;
    this.reconnect = options.reconnect === true;
    this.lost = false;
    this.reclaiming = false;
    this.keepalive = null;
    this.use(transport);
  }

  use(transport) {
    this.transport = transport;
    transport.onmessage = (msg) => this.receive(msg);
    transport.onlost = (why) => this.transportLost(transport, why);
  }

  get transportKind() { return this.transport.kind; }

  async create() {
    const reply = await this.request({ janus: 'create' });
    this.id = reply.data.id;
    this.transport.sessionStarted(this.id);
    this.keepalive = setInterval(() => {
      this.request({ janus: 'keepalive' }).catch(() => { /* fail() reports a lost session */ });
    }, KEEPALIVE_MS);
  }

  /**
   * Sends one request and resolves with the reply. With waitEvent, an `ack`
   * is not the end: the promise waits for the event with the same
   * transaction (how asynchronous plugin requests answer).
   */
  request(body, { waitEvent = false } = {}) {
    if (this.lost) return Promise.reject(new JanusError('the session is gone'));
    const transaction = randomId();
    const msg = { ...body, transaction };
    if (this.id && !msg.session_id && body.janus !== 'create') msg.session_id = this.id;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, waitEvent, timer: null };
      entry.arm = (ms, what) => {
        clearTimeout(entry.timer);
        entry.timer = setTimeout(() => {
          this.pending.delete(transaction);
          reject(new JanusError(`${what}: no answer within ${ms / 1000} s`));
        }, ms);
      };
      entry.arm(REPLY_TIMEOUT_MS, body.janus);
      this.pending.set(transaction, entry);
      try {
        this.transport.send(msg);
      } catch (e) {
        clearTimeout(entry.timer);
        this.pending.delete(transaction);
        reject(e);
      }
    });
  }

  receive(msg) {
    const entry = msg.transaction ? this.pending.get(msg.transaction) : null;
    if (entry) {
      if (msg.janus === 'ack' && entry.waitEvent) {
        entry.arm(EVENT_TIMEOUT_MS, 'plugin event');
        return;
      }
      if (['ack', 'success', 'event', 'server_info', 'pong'].includes(msg.janus)) {
        clearTimeout(entry.timer);
        this.pending.delete(msg.transaction);
        entry.resolve(msg);
        return;
      }
      if (msg.janus === 'error') {
        clearTimeout(entry.timer);
        this.pending.delete(msg.transaction);
        entry.reject(new JanusError(msg.error ? msg.error.reason : 'error', msg.error ? msg.error.code : 0));
        return;
      }
    }
    if (msg.janus === 'timeout' && msg.session_id === this.id) {
      this.fail('the session timed out');
      return;
    }
    const handle = msg.sender ? this.handles.get(msg.sender) : null;
    if (handle) handle.dispatch(msg);
  }

  /** Attaches to a plugin; resolves with its Handle. */
  async attach(plugin, opaqueId) {
    const body = { janus: 'attach', plugin };
    if (opaqueId) body.opaque_id = opaqueId;
    const reply = await this.request(body);
    const handle = new Handle(this, reply.data.id, plugin);
    this.handles.set(handle.id, handle);
    return handle;
  }

  // The transport died under a live session: claim the session from a new
  // transport of the same kind, or give up.
  async transportLost(transport, why) {
    if (this.lost || this.reclaiming || transport !== this.transport) return;
    if (!this.reconnect || !this.id) { this.fail(why); return; }
    this.reclaiming = true;
    this.rejectPending(`connection lost (${why})`);
    if (this.onReconnecting) this.onReconnecting(why);
    const deadline = Date.now() + RECLAIM_WINDOW_MS;
    for (let attempt = 0; !this.lost && Date.now() < deadline; attempt++) {
      await new Promise((r) => setTimeout(r, RECLAIM_RETRY_MS[Math.min(attempt, RECLAIM_RETRY_MS.length - 1)]));
      const next = transport.kind === 'websocket' ? new WsTransport(transport.url) : new HttpTransport(transport.url);
      try {
        await next.open();
      } catch {
        continue;    // the server is not back yet
      }
      this.use(next);
      try {
        await this.request({ janus: 'claim', session_id: this.id });
      } catch (e) {
        next.close();
        this.reclaiming = false;
        this.fail(`the server no longer has this session (${e.message})`);
        return;
      }
      next.sessionStarted(this.id);
      this.reclaiming = false;
      if (this.onReconnected) this.onReconnected();
      return;
    }
    this.reclaiming = false;
    this.fail(`${why}; no reconnection within ${RECLAIM_WINDOW_MS / 1000} s`);
  }

  rejectPending(why) {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(new JanusError(why));
    }
    this.pending.clear();
  }

  // The session is gone: reject everything, tell the page once.
  fail(why) {
    if (this.lost) return;
    this.lost = true;
    this.stop();
    this.rejectPending(`connection lost (${why})`);
    if (this.onLost) this.onLost(why);
  }

  stop() {
    clearInterval(this.keepalive);
    this.keepalive = null;
    this.transport.close();
  }

  /** Destroys the session on the server (its handles and PeerConnections go with it) and closes the transport. */
  async destroy() {
    if (this.lost) return;
    if (this.transport.stopPolling) this.transport.stopPolling();
    try {
      await this.request({ janus: 'destroy' });
    } finally {
      this.lost = true;
      this.stop();
    }
  }
}

// ---------------------------------------------------------------- handle

export class Handle {
  constructor(session, id, plugin) {
    this.session = session;
    this.id = id;
    this.plugin = plugin;
    this.onevent = null;   // ({ data, jsep, msg }) for plugin events nobody waits for
    this.oncore = null;    // (msg) for webrtcup, media, slowlink, hangup, detached
    this.ontrickle = null; // (candidate or null) for server candidates (full-trickle servers)
  }

  request(body, opts) {
    return this.session.request({ ...body, handle_id: this.id }, opts);
  }

  /**
   * Sends a plugin message (with an optional JSEP) and resolves with the
   * plugin's answer as { data, jsep }: the synchronous reply, or the
   * asynchronous event that carries this request's transaction. A plugin
   * error (data.error_code) rejects with a JanusError of that code.
   */
  async message(body, jsep) {
    const req = { janus: 'message', body };
    if (jsep) req.jsep = jsep;
    const reply = await this.request(req, { waitEvent: true });
    const data = reply.plugindata ? reply.plugindata.data : null;
    if (data && data.error_code) throw new JanusError(data.error || `error ${data.error_code}`, data.error_code);
    return { data, jsep: reply.jsep || null, msg: reply };
  }

  /** Sends one local ICE candidate, or the end of candidates when candidate is null. */
  trickle(candidate) {
    const c = candidate && candidate.candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
      : { completed: true };
    return this.request({ janus: 'trickle', candidate: c }).catch(() => { /* a late candidate for a closed PeerConnection */ });
  }

  /**
   * Wires a RTCPeerConnection to this handle: local candidates are
   * trickled to the server, and candidates the server trickles are added
   * (queued until the remote description is set). Returns an unbind function.
   */
  bindPeerConnection(pc) {
    const queued = [];
    const add = (c) => pc.addIceCandidate(c || undefined).catch(() => { /* stale candidate */ });
    const onCandidate = (ev) => this.trickle(ev.candidate);
    const onSignaling = () => {
      if (pc.remoteDescription) while (queued.length) add(queued.shift());
    };
    pc.addEventListener('icecandidate', onCandidate);
    pc.addEventListener('signalingstatechange', onSignaling);
    this.ontrickle = (c) => {
      if (pc.signalingState === 'closed') return;
      if (pc.remoteDescription) add(c); else queued.push(c);
    };
    return () => {
      pc.removeEventListener('icecandidate', onCandidate);
      pc.removeEventListener('signalingstatechange', onSignaling);
      this.ontrickle = null;
    };
  }

  /** Asks the server to close this handle's PeerConnection (core `hangup`); the handle stays. */
  hangup() { return this.request({ janus: 'hangup' }); }

  /** Detaches from the plugin; the handle is gone afterwards. */
  async detach() {
    try {
      await this.request({ janus: 'detach' });
    } finally {
      this.session.handles.delete(this.id);
    }
  }

  dispatch(msg) {
    if (msg.janus === 'event') {
      if (this.onevent) this.onevent({ data: msg.plugindata ? msg.plugindata.data : null, jsep: msg.jsep || null, msg });
    } else if (msg.janus === 'trickle') {
      const c = msg.candidate;
      if (this.ontrickle) this.ontrickle(c && !c.completed ? c : null);
    } else {
      if (msg.janus === 'detached') this.session.handles.delete(this.id);
      if (this.oncore) this.oncore(msg);
    }
  }
}
