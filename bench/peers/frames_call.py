"""The part of a model-input peer (pyav_frames.py, opencv_frames.py) that is
the same for every library: the command line, the call made twice with the
second timed, the frames written for the benchmark's check, the JSON line.

A peer gives `extract(input_path, times, size)`, which returns the outputs
([{"frame_time"}]), the SIZE x SIZE RGB24 arrays and the frames it decoded
(None where the library does not tell), and how its --times are read.
"""

import argparse
import json
import os
import resource
import sys
import time


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(description, extract, parse_time):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("input")
    parser.add_argument("--times", required=True, help="comma-separated seconds")
    parser.add_argument("--size", required=True, type=int)
    parser.add_argument("--out")
    args = parser.parse_args()
    times = [parse_time(t) for t in args.times.split(",")]

    extract(args.input, times, args.size)
    cpu, wall = cpu_seconds(), time.perf_counter()
    outputs, images, frames_decoded = extract(args.input, times, args.size)
    call = {"wall_ms": (time.perf_counter() - wall) * 1000, "cpu_ms": (cpu_seconds() - cpu) * 1000}
    if args.out is not None:
        os.makedirs(args.out, exist_ok=True)
        for k, image in enumerate(images):
            with open(os.path.join(args.out, f"frame_{k}.rgb"), "wb") as f:
                f.write(image.tobytes())
    json.dump({"outputs": outputs, "frames_decoded": frames_decoded, "call": call}, sys.stdout)
    sys.stdout.write("\n")
