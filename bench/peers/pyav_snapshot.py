"""PyAV peer of `vsnap extract --mode exact`, the straightforward way.

For every target t_k = k * interval (k = 0, 1, ... while t_k is before the
end of the last frame; times count from the first displayed frame) it seeks
to the keyframe at or before t_k and decodes forward to the last frame whose
time is <= t_k, then saves that frame as JPEG through Pillow. It seeks for
every target, even when the previous target's decoder position could be
decoded forward from: no seek avoidance.

Made for the benchmark's MP4 input, whose seeks land on the keyframe at or
before the time asked; it stops with an error where a seek lands past it.

Usage: /usr/bin/python3 pyav_snapshot.py INPUT --interval SECONDS --out DIR [--warm]
Prints one JSON line: {"outputs": [{"frame_time", "path"}], "frames_decoded", "seeks"}.
With --warm the extraction runs twice in this process, the first time into a
scratch directory, and the line adds "call": {"wall_ms", "cpu_ms"} of the
second: the cost per video of a program that has PyAV loaded already.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import time
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


def extract(input_path, interval, out, quality):
    """Writes out/snapshot_K.jpg for every target; returns (outputs, extractor)."""
    os.makedirs(out, exist_ok=True)
    outputs = []
    with av.open(input_path) as container:
        extractor = Extractor(container)
        k = 0
        while k * interval < extractor.duration:
            frame = extractor.frame_at(k * interval)
            path = os.path.join(out, f"snapshot_{k}.jpg")
            frame.to_image().save(path, "JPEG", quality=quality)
            outputs.append({"frame_time": round(float(extractor.frame_time(frame)), 3), "path": path})
            k += 1
    return outputs, extractor


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--interval", required=True, type=Fraction, help="seconds between targets")
    parser.add_argument("--out", required=True, help="directory for snapshot_K.jpg")
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality (Pillow scale)")
    parser.add_argument("--warm", action="store_true", help="time a second extraction in this process")
    args = parser.parse_args()
    if args.interval <= 0:
        parser.error("--interval must be greater than 0")

    report = {}
    if args.warm:
        scratch = args.out.rstrip("/") + "-first-call"
        extract(args.input, args.interval, scratch, args.quality)
        shutil.rmtree(scratch)
        cpu, wall = cpu_seconds(), time.perf_counter()
    outputs, extractor = extract(args.input, args.interval, args.out, args.quality)
    if args.warm:
        report["call"] = {"wall_ms": (time.perf_counter() - wall) * 1000, "cpu_ms": (cpu_seconds() - cpu) * 1000}
    report.update({"outputs": outputs, "frames_decoded": extractor.frames_decoded, "seeks": extractor.seeks})
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
