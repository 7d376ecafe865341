"""PyAV peer of `vsnap extract --mode exact`, the straightforward way.

For every target t_k = k * interval (k = 0, 1, ... while t_k is before the
end of the last frame; times count from the first displayed frame) it seeks
to the keyframe at or before t_k and decodes forward to the last frame whose
time is <= t_k, then saves that frame as JPEG through Pillow. It seeks for
every target, even when the previous target's decoder position could be
decoded forward from: no seek avoidance.

Made for the benchmark's MP4 input, whose seeks land on the keyframe at or
before the time asked; it stops with an error where a seek lands past it.

Usage: /usr/bin/python3 pyav_snapshot.py INPUT --interval SECONDS --out DIR
Prints one JSON line: {"outputs": [{"frame_time", "path"}], "frames_decoded", "seeks"}.
"""

import argparse
import json
import os
import sys
from fractions import Fraction

import av


class Extractor:
    def __init__(self, container):
        self.container = container
        self.stream = container.streams.video[0]
        # Frame threading, as PyAV recommends for speed; the default decodes
        # H.264 from x264 (one slice per frame) on one thread.
        self.stream.thread_type = "AUTO"
        self.time_base = self.stream.time_base
        self.frames_decoded = 0
        self.seeks = 0
        first = next(self.container.decode(self.stream))
        self.frames_decoded += 1
        self.origin = first.pts
        self.duration = self._duration()

    def _duration(self):
        """Seconds from the first displayed frame to the end of the last one."""
        if self.stream.duration is not None:
            start = self.stream.start_time if self.stream.start_time is not None else self.origin
            return (start + self.stream.duration - self.origin) * self.time_base
        if self.container.duration is not None:
            return Fraction(self.container.duration, av.time_base) - self.origin * self.time_base
        raise RuntimeError("the input reports no duration")

    def frame_time(self, frame):
        return (frame.pts - self.origin) * self.time_base

    def frame_at(self, t):
        """The last frame whose time is <= t."""
        self.container.seek(self.origin + int(t / self.time_base), backward=True, any_frame=False, stream=self.stream)
        self.seeks += 1
        chosen = None
        for frame in self.container.decode(self.stream):
            self.frames_decoded += 1
            if self.frame_time(frame) > t:
                break
            chosen = frame
        if chosen is None:
            # MP4 seeks land on the keyframe at or before the time asked;
            # demuxers whose seeks are approximate (MPEG-TS) can land past it.
            raise RuntimeError(f"the seek for {float(t):.3f} s landed past it: this script expects an MP4 input")
        return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--interval", required=True, type=Fraction, help="seconds between targets")
    parser.add_argument("--out", required=True, help="directory for snapshot_K.jpg")
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality (Pillow scale)")
    args = parser.parse_args()
    if args.interval <= 0:
        parser.error("--interval must be greater than 0")
    os.makedirs(args.out, exist_ok=True)

    outputs = []
    with av.open(args.input) as container:
        extractor = Extractor(container)
        k = 0
        while k * args.interval < extractor.duration:
            frame = extractor.frame_at(k * args.interval)
            path = os.path.join(args.out, f"snapshot_{k}.jpg")
            frame.to_image().save(path, "JPEG", quality=args.quality)
            outputs.append({"frame_time": round(float(extractor.frame_time(frame)), 3), "path": path})
            k += 1
    json.dump(
        {"outputs": outputs, "frames_decoded": extractor.frames_decoded, "seeks": extractor.seeks},
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
