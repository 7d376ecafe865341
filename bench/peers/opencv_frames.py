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

import argparse
import json
import os
import resource
import sys
import time

import cv2


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
    return outputs, images


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--times", required=True, help="comma-separated seconds")
    parser.add_argument("--size", required=True, type=int)
    parser.add_argument("--out")
    args = parser.parse_args()
    times = [float(t) for t in args.times.split(",")]

    extract(args.input, times, args.size)
    cpu, wall = cpu_seconds(), time.perf_counter()
    outputs, images = extract(args.input, times, args.size)
    call = {"wall_ms": (time.perf_counter() - wall) * 1000, "cpu_ms": (cpu_seconds() - cpu) * 1000}
    if args.out is not None:
        os.makedirs(args.out, exist_ok=True)
        for k, image in enumerate(images):
            with open(os.path.join(args.out, f"frame_{k}.rgb"), "wb") as f:
                f.write(image.tobytes())
    json.dump({"outputs": outputs, "frames_decoded": None, "call": call}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
