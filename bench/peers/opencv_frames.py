"""OpenCV peer of a model-input call: frames at chosen times, SIZE x SIZE RGB24.

For every time t it sets CAP_PROP_POS_MSEC to t and reads one frame, as
opencv_snapshot.py does (OpenCV's FFmpeg backend seeks to the keyframe before
and decodes forward to the frame it computes from the frame rate), converts
it from BGR to RGB and resizes it with cv2.resize (INTER_LANCZOS4, as vsnap
scales with Lanczos), keeping the array in memory.

Usage: /usr/bin/python3 opencv_frames.py INPUT --times T1,T2,... --size N [--out DIR]
Prints one JSON line: {"outputs": [{"frame_time"}], "frames_decoded": null, "call": {"wall_ms", "cpu_ms"}}.
The extraction runs twice in this process and the second is timed. With
--out, each frame is written to DIR/frame_K.rgb for the benchmark's check.
"""

import os
import sys

import cv2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from frames_call import run  # noqa: E402


def extract(input_path, times, size):
    capture = cv2.VideoCapture(input_path, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        sys.exit(f"OpenCV cannot open {input_path}")
    images, outputs = [], []
    for t in times:
        capture.set(cv2.CAP_PROP_POS_MSEC, t * 1000)
        ok, image = capture.read()
        if not ok:
            sys.exit(f"OpenCV read no frame at {t:.3f} s")
        # After a read, POS_MSEC is the time of the frame just returned.
        frame_time = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        images.append(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LANCZOS4))
        outputs.append({"frame_time": round(frame_time, 3)})
    capture.release()
    return outputs, images, None


if __name__ == "__main__":
    run(__doc__.splitlines()[0], extract, float)
