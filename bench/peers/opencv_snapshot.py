"""OpenCV peer of `vsnap extract --mode exact`, the way OpenCV users seek.

For every target t_k = k * interval (k = 0, 1, ... while t_k is before the
end of the video, as OpenCV reports it: frame count / frame rate) it sets
CAP_PROP_POS_MSEC to t_k, reads one frame and writes it as JPEG with
cv2.imwrite. OpenCV's FFmpeg backend seeks to the keyframe before the
position and decodes forward to the frame it computes from the frame rate.
Frame times are the position OpenCV reports for the frame it returned.

Usage: /usr/bin/python3 opencv_snapshot.py INPUT --interval SECONDS --out DIR
Prints one JSON line: {"outputs": [{"frame_time", "path"}], "frames_decoded", "seeks"}.
frames_decoded is null: OpenCV does not say how many frames it decoded.
"""

import argparse
import json
import os
import sys
from fractions import Fraction

import cv2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("--interval", required=True, type=Fraction, help="seconds between targets")
    parser.add_argument("--out", required=True, help="directory for snapshot_K.jpg")
    parser.add_argument("--quality", type=int, default=80, help="JPEG quality (libjpeg scale)")
    args = parser.parse_args()
    if args.interval <= 0:
        parser.error("--interval must be greater than 0")
    os.makedirs(args.out, exist_ok=True)

    capture = cv2.VideoCapture(args.input, cv2.CAP_FFMPEG)
    if not capture.isOpened():
        sys.exit(f"OpenCV cannot open {args.input}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    if fps <= 0 or frames <= 0:
        sys.exit("OpenCV reports no frame rate or frame count for the input")
    duration = Fraction(frames) / Fraction(fps)

    outputs = []
    k = 0
    while k * args.interval < duration:
        target = k * args.interval
        capture.set(cv2.CAP_PROP_POS_MSEC, float(target * 1000))
        ok, image = capture.read()
        if not ok:
            sys.exit(f"OpenCV read no frame at {float(target):.3f} s")
        # After a read, POS_MSEC is the time of the frame just returned.
        frame_time = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
        path = os.path.join(args.out, f"snapshot_{k}.jpg")
        cv2.imwrite(path, image, [cv2.IMWRITE_JPEG_QUALITY, args.quality])
        outputs.append({"frame_time": round(frame_time, 3), "path": path})
        k += 1
    capture.release()
    json.dump({"outputs": outputs, "frames_decoded": None, "seeks": len(outputs)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
