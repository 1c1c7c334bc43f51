// stats.mjs: what the demo pages show about a stream, read from getStats().
//
//   const meter = new StreamMeter(pc, { direction: 'inbound', kind: 'video', mid: '1' });
//   const s = await meter.sample();   // { kbps, width, height, fps, packets, lost, lossPct, rttMs, jitterMs, framesDecoded }
//   const report = await pc.getStats();                  // several meters on one PeerConnection
//   const a = await audioMeter.sample(report), v = await videoMeter.sample(report);
//
// A meter remembers its previous sample, so bitrates and loss are over the
// interval between two calls (call it about once a second). Inbound meters
// read inbound-rtp; outbound ones sum the outbound-rtp of every simulcast
// layer, and take their loss from the remote-inbound-rtp the other end
// reports in RTCP (fractionLost, averaged over the layers). The round-trip
// time is the selected candidate pair's. Missing numbers are null, never
// made up.
//
// Threads: the page's main thread.

function selectedPair(report) {
  let pair = null;
  report.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) || pair;
  });
  if (!pair) report.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
  return pair;
}

export class StreamMeter {
  /** options: { direction: 'inbound' | 'outbound', kind: 'audio' | 'video', mid (optional: one m-line) } */
  constructor(pc, { direction = 'inbound', kind = 'video', mid = null } = {}) {
    this.pc = pc;
    this.direction = direction;
    this.kind = kind;
    this.mid = mid;
    this.prev = null;
  }

  /** One sample; `report` (optional) is a getStats() result to read instead of asking again. */
  async sample(report = null) {
    if (!report) {
      try { report = await this.pc.getStats(); } catch { return null; }
    }
    const type = `${this.direction}-rtp`;
    const rtps = [];
    report.forEach((s) => {
      if (s.type === type && s.kind === this.kind && (this.mid === null || s.mid === this.mid)) rtps.push(s);
    });
    if (!rtps.length) return null;
    const sum = (f) => rtps.reduce((a, s) => a + (s[f] || 0), 0);
    const top = rtps.reduce((a, s) => ((s.frameWidth || 0) > (a.frameWidth || 0) ? s : a), rtps[0]);
    const now = { t: rtps[0].timestamp, bytes: sum(this.direction === 'inbound' ? 'bytesReceived' : 'bytesSent'),
      packets: sum(this.direction === 'inbound' ? 'packetsReceived' : 'packetsSent'), lost: sum('packetsLost') };
    const out = {
      kbps: null, lossPct: null,
      width: top.frameWidth || null, height: top.frameHeight || null,
      fps: top.framesPerSecond !== undefined ? top.framesPerSecond : null,
      packets: now.packets, lost: this.direction === 'inbound' ? now.lost : null,
      framesDecoded: this.direction === 'inbound' ? sum('framesDecoded') : null,
      jitterMs: rtps[0].jitter !== undefined ? rtps[0].jitter * 1000 : null,
      rttMs: null,
    };
    const p = this.prev;
    if (p && now.t > p.t) {
      out.kbps = Math.max(0, ((now.bytes - p.bytes) * 8) / (now.t - p.t));   // bits per ms = kbit/s
      const got = now.packets - p.packets, lost = now.lost - p.lost;
      if (this.direction === 'inbound' && got + lost > 0) out.lossPct = Math.max(0, (100 * lost) / (got + lost));
    }
    if (this.direction === 'outbound') {
      const ids = new Set(rtps.map((s) => s.id));
      const fractions = [];
      report.forEach((s) => {
        if (s.type === 'remote-inbound-rtp' && ids.has(s.localId) && s.fractionLost !== undefined) fractions.push(s.fractionLost);
      });
      if (fractions.length) out.lossPct = (100 * fractions.reduce((a, f) => a + f, 0)) / fractions.length;
    }
    this.prev = now;
    const pair = selectedPair(report);
    if (pair && pair.currentRoundTripTime !== undefined) out.rttMs = pair.currentRoundTripTime * 1000;
    return out;
  }
}

/** A one-line readout of a sample: "1200 kbit/s · 1280×720 · 30 fps · 0.0% loss · 1.2 ms RTT". */
export function describe(s) {
  if (!s) return 'no media yet';
  const parts = [];
  if (s.kbps !== null) parts.push(`${Math.round(s.kbps)} kbit/s`);
  if (s.width) parts.push(`${s.width}×${s.height}`);
  if (s.fps !== null) parts.push(`${Math.round(s.fps)} fps`);
  if (s.lossPct !== null) parts.push(`${s.lossPct.toFixed(1)}% loss`);
  if (s.rttMs !== null) parts.push(`${s.rttMs.toFixed(1)} ms RTT`);
  return parts.join(' · ') || 'measuring…';
}
