"""OpenCV peer of shot detection: PySceneDetect's content detector, as a user
writes it with OpenCV alone (PySceneDetect itself is not in Debian).

Every frame is read in order and, as PySceneDetect's ContentDetector does
by default, downscaled so that its width is about 256 pixels (its
auto-downscale factor, width // 256, with cv2.INTER_NEAREST as its frame
skip-free path does), converted to HSV, and scored against the frame before
by the mean absolute difference of hue, saturation and value, averaged
(content_val; its default weights 1, 1, 1 and no edges).

Usage: /usr/bin/python3 opencv_scenes.py INPUT [--threshold T] [--min-scene-len N]
Without --threshold it prints every frame's score, one JSON line
{"scores": [...], "frames": N}, for the benchmark to sweep thresholds
over; with it, the cuts PySceneDetect would report (a frame whose score is
at least T, N frames or more after the last cut, default 15):
{"cuts": [frame indices], "frames": N}.
"""

import json
import sys

import cv2
import numpy as np


def scores(path):
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        sys.exit(f"OpenCV cannot open {path}")
    values = []
    previous = None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        factor = max(1, frame.shape[1] // 256)
        if factor > 1:
            frame = frame[::factor, ::factor]
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV).astype(np.int32)
        if previous is None:
            values.append(0.0)
        else:
            delta = np.abs(hsv - previous).reshape(-1, 3).mean(axis=0)
            values.append(float(delta.mean()))
        previous = hsv
    capture.release()
    return values


def main(argv):
    path = argv[1]
    threshold = None
    min_scene_len = 15
    args = argv[2:]
    while args:
        flag, value, args = args[0], args[1], args[2:]
        if flag == "--threshold":
            threshold = float(value)
        elif flag == "--min-scene-len":
            min_scene_len = int(value)
        else:
            sys.exit(f"unknown flag {flag}")
    values = scores(path)
    if threshold is None:
        print(json.dumps({"scores": values, "frames": len(values)}))
        return
    cuts, last = [], 0
    for index, value in enumerate(values):
        if index > 0 and value >= threshold and index - last >= min_scene_len:
            cuts.append(index)
            last = index
    print(json.dumps({"cuts": cuts, "frames": len(values)}))


if __name__ == "__main__":
    main(sys.argv)
