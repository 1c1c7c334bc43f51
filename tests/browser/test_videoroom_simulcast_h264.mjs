#!/usr/bin/env node
// test_videoroom_simulcast_h264.mjs: test_videoroom_simulcast.mjs with an
// H.264 room: Chromium sends three rid layers of H.264 (OpenH264), the
// subscriber switches 2 -> 0 -> 2 and keeps decoding; the switch waits for
// an H.264 keyframe (IDR) of the target layer, and the rewrite keeps the
// stream continuous without VP8's picture ids.
process.env.STOA_VR_SIMULCAST_CODEC = 'h264';
await import('./test_videoroom_simulcast.mjs');
