#!/usr/bin/python3
"""make-media.py: the media files stoa-load's publishers send.

Writes a moving test pattern encoded with libvpx as VP8 into an IVF file,
and optionally a tone as Opus (48 kHz, 20 ms packets) into an Ogg Opus
file. Run it with /usr/bin/python3 (Debian's python3-av, PyAV 10, with
libvpx and libopus; numpy is used when present, otherwise pure Python):

    /usr/bin/python3 tests/bench/make-media.py --video /tmp/m/video.ivf \\
        --audio /tmp/m/audio.opus --seconds 10

Why the pattern looks the way it does: a flat pattern compresses to almost
nothing, which would make a load test measure far fewer packets than a real
camera sends. Moving bars, a moving square and a band of noise that changes
every frame keep libvpx near its target bitrate (about 1.6 Mbit/s by
default), like a camera at 640x360.

The encoder settings matter to the tool:
  - a keyframe every --gop frames (30 = one a second at 30 fps): the
    publisher cannot make a keyframe when asked, so late subscribers wait
    for the next one from the file;
  - no alt-ref frames and no lag (lag-in-frames 0): every IVF frame is one
    visible picture with its own timestamp, which is what the packetizer
    assumes;
  - IVF time base 1/fps, so frame N has pts N.
"""

import argparse
import fractions
import math
import os
import random
import sys

try:
    import av
except ImportError:
    sys.exit("make-media.py: needs PyAV (Debian python3-av); run it with /usr/bin/python3")

try:
    import numpy
except ImportError:  # pragma: no cover - numpy is optional
    numpy = None


def frame_rgb(n, width, height, rng):
    """Frame n of the test pattern as packed RGB24 bytes."""
    if numpy is not None:
        return frame_rgb_numpy(n, width, height, rng)
    return frame_rgb_python(n, width, height, rng)


def frame_rgb_numpy(n, width, height, rng):
    x = numpy.arange(width, dtype=numpy.int32)
    y = numpy.arange(height, dtype=numpy.int32)[:, None]
    img = numpy.empty((height, width, 3), dtype=numpy.uint8)
    # Diagonal colour bars that scroll sideways: motion the encoder has to follow.
    img[..., 0] = ((x + y + 4 * n) % 256).astype(numpy.uint8)
    img[..., 1] = ((2 * x - y + 3 * n) % 256).astype(numpy.uint8)
    img[..., 2] = ((x * y // 64 + 5 * n) % 256).astype(numpy.uint8)
    # A white square bouncing across the picture.
    side = height // 4
    sx = int((width - side) * (0.5 + 0.5 * math.sin(n / 23.0)))
    sy = int((height - side) * (0.5 + 0.5 * math.cos(n / 17.0)))
    img[sy:sy + side, sx:sx + side] = 255
    # A band of fresh noise every frame: what keeps the bitrate up.
    band = height // 6
    img[height - band:] = numpy.frombuffer(rng.randbytes(band * width * 3),
                                           dtype=numpy.uint8).reshape(band, width, 3)
    return img.tobytes()


def frame_rgb_python(n, width, height, rng):
    rows = []
    band = height // 6
    for yy in range(height):
        if yy >= height - band:
            rows.append(rng.randbytes(width * 3))
            continue
        row = bytearray(width * 3)
        for xx in range(width):
            row[3 * xx] = (xx + yy + 4 * n) & 255
            row[3 * xx + 1] = (2 * xx - yy + 3 * n) & 255
            row[3 * xx + 2] = (xx * yy // 64 + 5 * n) & 255
        rows.append(bytes(row))
    return b"".join(rows)


def write_video(path, seconds, width, height, fps, bitrate, gop):
    rng = random.Random(1)
    out = av.open(path, mode="w", format="ivf")
    st = out.add_stream("libvpx", rate=fps)
    st.width = width
    st.height = height
    st.pix_fmt = "yuv420p"
    st.bit_rate = bitrate
    st.gop_size = gop
    st.codec_context.time_base = fractions.Fraction(1, fps)
    st.codec_context.options = {
        "deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0",
        "auto-alt-ref": "0", "keyint_min": str(gop), "minrate": str(bitrate),
        "maxrate": str(bitrate), "bufsize": str(bitrate), "error-resilient": "1",
    }
    frames = int(seconds * fps)
    for n in range(frames):
        img = av.VideoFrame(width, height, "rgb24")
        img.planes[0].update(frame_rgb(n, width, height, rng))
        yuv = img.reformat(format="yuv420p")
        yuv.pts = n
        yuv.time_base = fractions.Fraction(1, fps)
        # Force the keyframe cadence: libvpx alone may place them elsewhere.
        yuv.pict_type = av.video.frame.PictureType.I if n % gop == 0 else \
            av.video.frame.PictureType.NONE
        for pkt in st.encode(yuv):
            out.mux(pkt)
    for pkt in st.encode(None):
        out.mux(pkt)
    out.close()
    return frames


def write_audio(path, seconds):
    out = av.open(path, mode="w", format="ogg")
    st = out.add_stream("libopus", rate=48000)
    st.layout = "stereo"
    st.bit_rate = 64000
    st.codec_context.options = {"frame_duration": "20", "application": "audio"}
    samples = 960
    total = int(seconds * 48000) // samples
    for i in range(total):
        pcm = bytearray()
        for k in range(samples):
            t = (i * samples + k) / 48000.0
            # A tone that changes pitch every half second, so it is audible.
            f = 440.0 if int(t * 2) % 2 == 0 else 660.0
            v = int(8000 * math.sin(2 * math.pi * f * t))
            b = v.to_bytes(2, "little", signed=True)
            pcm += b + b
        fr = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        fr.planes[0].update(bytes(pcm))
        fr.sample_rate = 48000
        fr.pts = i * samples
        fr.time_base = fractions.Fraction(1, 48000)
        for pkt in st.encode(fr):
            out.mux(pkt)
    for pkt in st.encode(None):
        out.mux(pkt)
    out.close()
    return total


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--video", required=True, help="IVF file to write (VP8)")
    p.add_argument("--audio", help="Ogg Opus file to write (optional)")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--bitrate", type=int, default=1600000, help="bits per second")
    p.add_argument("--gop", type=int, default=30, help="frames between keyframes")
    a = p.parse_args()
    if a.width % 2 or a.height % 2 or a.width <= 0 or a.height <= 0:
        p.error("width and height must be even and positive")
    for f in (a.video, a.audio):
        if f and os.path.dirname(f):
            os.makedirs(os.path.dirname(f), exist_ok=True)
    n = write_video(a.video, a.seconds, a.width, a.height, a.fps, a.bitrate, a.gop)
    size = os.path.getsize(a.video)
    print("%s: %d VP8 frames, %dx%d@%d, %.2f Mbit/s" % (
        a.video, n, a.width, a.height, a.fps, size * 8 / a.seconds / 1e6))
    if a.audio:
        n = write_audio(a.audio, a.seconds)
        print("%s: %d Opus packets of 20 ms" % (a.audio, n))


if __name__ == "__main__":
    main()
