#!/usr/bin/env node
// test_videoroom_simulcast_ssrc.mjs: test_videoroom_simulcast.mjs with
// SSRC-based simulcast: the publisher's offer is munged into three SSRCs in
// an a=ssrc-group:SIM (each with its RTX SSRC), with no rid and no
// a=simulcast. The server tells the layers apart by SSRC in the SIM order;
// the subscriber switches 2 -> 0 -> 2 and keeps decoding.
process.env.STOA_VR_SIMULCAST_MODE = 'ssrc';
await import('./test_videoroom_simulcast.mjs');
