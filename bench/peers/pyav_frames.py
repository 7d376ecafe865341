"""PyAV peer of a model-input call: frames at chosen times, SIZE x SIZE RGB24.

For every time t (seconds since the first displayed frame) it takes the
frame shown at t as pyav_snapshot.py does (seek to the keyframe at or
before t, decode forward to the last frame whose time is <= t, frame
threading on), then scales it with `VideoFrame.reformat` (swscale, Lanczos,
as vsnap scales) to RGB24 and keeps the array in memory, as a model
pipeline does.

Usage: /usr/bin/python3 pyav_frames.py INPUT --times T1,T2,... --size N [--out DIR]
Prints one JSON line: {"outputs": [{"frame_time"}], "frames_decoded", "call": {"wall_ms", "cpu_ms"}}.
The extraction runs twice in this process and the second is timed. With
--out, each frame is written to DIR/frame_K.rgb for the benchmark's check.
"""

import os
import sys
from fractions import Fraction

import av

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frames_call import run  # noqa: E402
from pyav_snapshot import Extractor  # noqa: E402


def extract(input_path, times, size):
    images, outputs = [], []
    with av.open(input_path) as container:
        extractor = Extractor(container)
        for t in times:
            frame = extractor.frame_at(t)
            images.append(frame.reformat(width=size, height=size, format="rgb24", interpolation="LANCZOS").to_ndarray())
            outputs.append({"frame_time": round(float(extractor.frame_time(frame)), 3)})
    return outputs, images, extractor.frames_decoded


if __name__ == "__main__":
    run(__doc__.splitlines()[0], extract, Fraction)
