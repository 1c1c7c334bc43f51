// videoroom.mjs: VideoRoom helpers on top of janus.mjs (janus.plugin.videoroom,
// Janus 1.x multistream API), for the meeting, broadcast and watch pages.
//
//   const session = await Session.connect();
//   const pub = await Publisher.join(session, { room: 1234, display: 'Ann' });
//   pub.onpublishers = (list) => sub.subscribe(list.map((p) => ({ feed: p.id })));
//   await pub.publish(stream, { simulcast: true });
//   const sub = new Subscriber(session, { room: 1234, privateId: pub.privateId });
//   sub.ontrack = ({ track, mid, feed, type, on }) => …;   // on=false: gone
//   await sub.setLayer(mid, { substream: 0 });
//   await sub.leave(); await pub.leave();
//
// Design:
//   - A Publisher owns one handle and one sendonly RTCPeerConnection; a
//     Subscriber owns one handle and one recvonly RTCPeerConnection for every
//     feed it receives (multistream): the server makes the offers, so every
//     change (subscribe, unsubscribe, a publisher leaving) arrives as an
//     `attached`/`updated` event with a JSEP offer that we answer with
//     `start`. Offers are answered one at a time, in arrival order.
//   - Room events are decoded here into callbacks with plain arguments, so a
//     page never parses plugin messages.
//   - Stopping media is the caller's: leave() closes our PeerConnection but
//     does not stop the tracks the page gave us (a page may reuse its camera).
//
// Threads: the page's main thread only. Callbacks are plain properties.

import { JanusError } from './janus.mjs';

export const PLUGIN = 'janus.plugin.videoroom';

/** Janus VideoRoom error codes a page may want to tell apart. */
export const ERR = {
  NO_SUCH_ROOM: 426,
  UNAUTHORIZED: 433,
  ROOM_EXISTS: 427,
  ID_EXISTS: 436,
  PUBLISHERS_FULL: 432,
  NO_SUCH_FEED: 428,
};

/** A list of Janus `publishers` entries as { id, display, streams } with only the active streams. */
function feedsOf(list) {
  return (list || []).map((p) => ({
    id: p.id,
    display: p.display || `#${p.id}`,
    // Janus puts `talking` on the publisher; a server may only have it on its audio streams.
    talking: !!p.talking || (p.streams || []).some((s) => s.type === 'audio' && s.talking === true),
    streams: (p.streams || []).filter((s) => !s.disabled).map((s) => ({
      type: s.type, mid: s.mid, codec: s.codec, simulcast: !!s.simulcast, description: s.description || '',
    })),
  })).filter((p) => p.streams.length > 0);
}

// Waits for ICE gathering to finish or `ms`, whichever is first. The
// candidates are trickled anyway; this only keeps the first offer small.
function settleGathering(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); }
    });
  });
}

// ---------------------------------------------------------------- publisher

export class Publisher {
  /**
   * Attaches and joins `room` as a publisher. Rejects with a JanusError
   * (ERR.NO_SUCH_ROOM, ERR.UNAUTHORIZED, …) if the room refuses.
   * options: { room, display, pin, token, id, iceServers, opaqueId }
   */
  static async join(session, options) {
    const handle = await session.attach(PLUGIN, options.opaqueId);
    const pub = new Publisher(session, handle, options);
    const body = { request: 'join', ptype: 'publisher', room: options.room };
    for (const k of ['display', 'pin', 'token', 'id']) if (options[k] !== undefined && options[k] !== '') body[k] = options[k];
    try {
      const { data } = await handle.message(body);
      pub.id = data.id;
      pub.privateId = data.private_id;
      pub.description = data.description || '';
      pub.initial = feedsOf(data.publishers);
      pub.attendees = (data.attendees || []).map((a) => ({ id: a.id, display: a.display || `#${a.id}` }));
    } catch (e) {
      await handle.detach().catch(() => {});
      throw e;
    }
    return pub;
  }

  constructor(session, handle, options) {
    this.session = session;
    this.handle = handle;
    this.room = options.room;
    this.iceServers = options.iceServers || [];
    this.id = null;
    this.privateId = null;
    this.initial = [];           // publishers already in the room when we joined
    this.pc = null;
    this.unbind = null;
    // Room callbacks (all optional):
    this.onpublishers = null;    // (feeds) new or changed publishers
    this.onunpublished = null;   // (id) a publisher stopped sending
    this.onleaving = null;       // (id) a participant left
    this.onjoining = null;       // ({ id, display }) someone joined (notify_joining rooms)
    this.ontalking = null;       // (id, talking)
    this.onkicked = null;        // () we were kicked
    this.ondestroyed = null;     // () the room is gone
    this.onmedia = null;         // (msg) core webrtcup / media / slowlink / hangup
    handle.onevent = ({ data }) => this.event(data || {});
    handle.oncore = (msg) => { if (this.onmedia) this.onmedia(msg); };
  }

  event(d) {
    const vr = d.videoroom;
    if (vr === 'talking' || vr === 'stopped-talking') {
      if (this.ontalking) this.ontalking(d.id, vr === 'talking');
      return;
    }
    if (vr === 'destroyed') { if (this.ondestroyed) this.ondestroyed(); return; }
    if (d.publishers && this.onpublishers) this.onpublishers(feedsOf(d.publishers));
    if (d.joining && this.onjoining) this.onjoining({ id: d.joining.id, display: d.joining.display || `#${d.joining.id}` });
    if (d.unpublished !== undefined && d.unpublished !== 'ok' && this.onunpublished) this.onunpublished(d.unpublished);
    if (d.leaving !== undefined && d.leaving !== 'ok') {
      if (d.reason === 'kicked' && d.leaving === this.id) { if (this.onkicked) this.onkicked(); }
      else if (this.onleaving) this.onleaving(d.leaving);
    }
    if (d.kicked !== undefined) {
      if (d.kicked === this.id) { if (this.onkicked) this.onkicked(); }
      else if (this.onleaving) this.onleaving(d.kicked);
    }
  }

  /**
   * Publishes the tracks of `stream` (audio and/or video). options:
   * { simulcast: bool (video in three rid layers h/m/l), bitrate, display,
   *   descriptions: { audio, video },
   *   kinds: ['audio', 'video'] (also publish an m-line, with no track yet,
   *     for each kind listed that `stream` has no track of: replaceTrack()
   *     fills it later, e.g. a camera turned on after a rejoin) }.
   * Resolves once the answer is applied.
   */
  async publish(stream, options = {}) {
    if (this.pc) throw new JanusError('already publishing');
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.unbind = this.handle.bindPeerConnection(pc);
    const init = (kind) => {
      const o = { direction: 'sendonly', streams: [stream] };
      if (kind === 'video' && options.simulcast) {
        o.sendEncodings = [
          { rid: 'h', active: true, maxBitrate: 1500000 },
          { rid: 'm', active: true, maxBitrate: 500000, scaleResolutionDownBy: 2 },
          { rid: 'l', active: true, maxBitrate: 150000, scaleResolutionDownBy: 4 },
        ];
      }
      return o;
    };
    for (const track of stream.getTracks()) pc.addTransceiver(track, init(track.kind));
    for (const kind of options.kinds || []) {
      if (!stream.getTracks().some((t) => t.kind === kind)) pc.addTransceiver(kind, init(kind));
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await settleGathering(pc, 500);
    const body = { request: 'publish' };
    if (options.bitrate) body.bitrate = options.bitrate;
    if (options.display) body.display = options.display;
    const desc = options.descriptions || {};
    body.descriptions = pc.getTransceivers()
      .filter((t) => t.mid !== null && desc[t.receiver.track.kind])
      .map((t) => ({ mid: t.mid, description: desc[t.receiver.track.kind] }));
    const { jsep } = await this.handle.message(body, { type: 'offer', sdp: pc.localDescription.sdp });
    if (!jsep) throw new JanusError('the server did not answer the offer');
    await pc.setRemoteDescription(jsep);
    return pc;
  }

  // Our transceiver of `kind`. The receiver's track tells the kind even
  // while the sender has no track (after replaceTrack(null)).
  transceiverOf(kind) {
    if (!this.pc) return null;
    return this.pc.getTransceivers().find((x) => x.currentDirection !== 'stopped' && x.receiver.track.kind === kind) || null;
  }

  /** The mid our `kind` track is sent on, or null. */
  midOf(kind) {
    const t = this.transceiverOf(kind);
    return t ? t.mid : null;
  }

  /** Sends `configure` (bitrate, display, streams: [{ mid, send }], keyframe …). */
  configure(body) { return this.handle.message({ request: 'configure', ...body }); }

  /**
   * Replaces the track of `kind` we send (camera ↔ screen share) without
   * renegotiating; null stops sending that kind (mute) and a later call
   * resumes it. Returns the track it replaced.
   */
  async replaceTrack(kind, track) {
    const t = this.transceiverOf(kind);
    if (!t) throw new JanusError(`no ${kind} is being published`);
    const old = t.sender.track;
    await t.sender.replaceTrack(track);
    return old;
  }

  /** Stops sending: `unpublish`, and our PeerConnection closes. */
  async unpublish() {
    try { await this.handle.message({ request: 'unpublish' }); } finally { this.closePc(); }
  }

  closePc() {
    if (this.unbind) this.unbind();
    this.unbind = null;
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  /** Leaves the room and detaches. Safe to call twice or on a lost session. */
  async leave() {
    this.closePc();
    if (this.session.lost) return;
    await this.handle.message({ request: 'leave' }).catch(() => {});
    await this.handle.detach().catch(() => {});
  }
}

// ---------------------------------------------------------------- subscriber

export class Subscriber {
  /** options: { room, privateId (our publisher's, for require_pvtid rooms), pin, iceServers, opaqueId } */
  constructor(session, options) {
    this.session = session;
    this.room = options.room;
    this.privateId = options.privateId;
    this.pin = options.pin;
    this.iceServers = options.iceServers || [];
    this.opaqueId = options.opaqueId;
    this.handle = null;
    this.pc = null;
    this.unbind = null;
    this.joined = false;
    this.streams = new Map();    // our mid -> { mid, type, feed, feedMid, display, active, simulcast }
    this.tracks = new Map();     // our mid -> MediaStreamTrack we reported
    this.queue = Promise.resolve();
    this.ontrack = null;         // ({ mid, type, feed, feedMid, display, simulcast, track, on })
    this.onlayer = null;         // ({ mid, substream, temporal }) the server switched a simulcast layer
    this.onmedia = null;         // (msg) core webrtcup / media / hangup
    this.onerror = null;         // (Error) a renegotiation failed
  }

  // Serializes requests that renegotiate, so offers are answered in order.
  serial(fn) {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => {});
    return p;
  }

  async attach() {
    this.handle = await this.session.attach(PLUGIN, this.opaqueId);
    this.handle.onevent = ({ data, jsep }) => {
      this.serial(() => this.event(data || {}, jsep)).catch((e) => { if (this.onerror) this.onerror(e); });
    };
    this.handle.oncore = (msg) => { if (this.onmedia) this.onmedia(msg); };
  }

  /**
   * Receives every stream of each feed in `feeds` ([{ feed, mid? }]).
   * The first call joins the room as a subscriber; later ones send
   * `subscribe`. Resolves once the new offer is answered.
   */
  subscribe(feeds) {
    if (!feeds.length) return Promise.resolve();
    return this.serial(async () => {
      const streams = feeds.map((f) => (f.mid ? { feed: f.feed, mid: f.mid } : { feed: f.feed }));
      if (!this.handle) await this.attach();
      let reply;
      if (!this.joined) {
        const body = { request: 'join', ptype: 'subscriber', room: this.room, streams };
        if (this.privateId) body.private_id = this.privateId;
        if (this.pin) body.pin = this.pin;
        reply = await this.handle.message(body);
        this.joined = true;
      } else {
        reply = await this.handle.message({ request: 'subscribe', streams });
      }
      await this.event(reply.data || {}, reply.jsep);
    });
  }

  /** Stops receiving `feed` (every stream of it). */
  unsubscribe(feed) {
    if (!this.joined) return Promise.resolve();
    return this.serial(async () => {
      const reply = await this.handle.message({ request: 'unsubscribe', streams: [{ feed }] });
      await this.event(reply.data || {}, reply.jsep);
    });
  }

  /** Picks the simulcast layer of one of our video mids: { substream, temporal }. */
  setLayer(mid, { substream, temporal } = {}) {
    const s = { mid };
    if (substream !== undefined) s.substream = substream;
    if (temporal !== undefined) s.temporal = temporal;
    return this.handle.message({ request: 'configure', streams: [s] });
  }

  /** Pauses or resumes one of our mids (`send` false/true). */
  setSend(mid, send) { return this.handle.message({ request: 'configure', streams: [{ mid, send }] }); }

  // One plugin event or reply: stream list changes and an offer to answer.
  async event(d, jsep) {
    if (d.videoroom === 'event' && d.substream !== undefined && this.onlayer) {
      this.onlayer({ mid: d.mid, substream: d.substream, temporal: d.temporal });
    }
    if (Array.isArray(d.streams) && (d.videoroom === 'attached' || d.videoroom === 'updated')) this.updateStreams(d.streams);
    if (jsep && jsep.type === 'offer') await this.answer(jsep);
  }

  updateStreams(list) {
    const seen = new Set();
    for (const s of list) {
      if (s.type === 'data') continue;
      seen.add(s.mid);
      const entry = { mid: s.mid, type: s.type, feed: s.feed_id, feedMid: s.feed_mid, display: s.feed_display || '',
        active: s.active !== false && s.feed_id !== undefined, simulcast: !!s.simulcast };
      const prev = this.streams.get(s.mid);
      this.streams.set(s.mid, entry);
      if (prev && prev.active && (!entry.active || prev.feed !== entry.feed)) this.report(prev, false);
    }
    for (const [mid, prev] of this.streams) {
      if (!seen.has(mid)) {
        if (prev.active) this.report(prev, false);
        this.streams.delete(mid);
      }
    }
  }

  report(entry, on) {
    const track = this.tracks.get(entry.mid) || null;
    if (!on) this.tracks.delete(entry.mid);
    if (this.ontrack) this.ontrack({ ...entry, track, on });
  }

  async answer(offer) {
    if (!this.pc) {
      this.pc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.unbind = this.handle.bindPeerConnection(this.pc);
      this.pc.addEventListener('track', (ev) => {
        const mid = ev.transceiver.mid;
        this.tracks.set(mid, ev.track);
        const entry = this.streams.get(mid);
        if (entry && entry.active) this.report(entry, true);
      });
    }
    await this.pc.setRemoteDescription(offer);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    // A re-offer may reactivate a mid whose track event fired long ago.
    for (const t of this.pc.getTransceivers()) {
      const entry = t.mid !== null ? this.streams.get(t.mid) : null;
      if (entry && entry.active && !this.tracks.has(t.mid) && t.receiver.track && t.currentDirection !== 'inactive') {
        this.tracks.set(t.mid, t.receiver.track);
        this.report(entry, true);
      }
    }
    await this.handle.message({ request: 'start' }, { type: 'answer', sdp: this.pc.localDescription.sdp });
  }

  /** Leaves (the server closes our PeerConnection) and detaches. */
  async leave() {
    for (const entry of this.streams.values()) if (entry.active && this.tracks.has(entry.mid)) this.report(entry, false);
    this.streams.clear();
    if (this.unbind) this.unbind();
    if (this.pc) this.pc.close();
    this.pc = null;
    if (!this.handle || this.session.lost) return;
    await this.handle.message({ request: 'leave' }).catch(() => {});
    await this.handle.detach().catch(() => {});
  }
}
