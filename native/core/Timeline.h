// The time model of vsnap, written once. Every mapping between time and
// frame index goes through this class.
//
// A video stream is a list of frames in display order, each with its own
// presentation timestamp pts[i] in the stream's time base.
//   origin          = pts[0], the first displayed frame
//   frame_time(i)   = (pts[i] - origin) * time_base, in seconds
//   frame_index(i)  = i, the position in display order
//   frame i is shown from pts[i] until pts[i + 1]; the last frame for its
//   own duration, so the video ends at end = pts[n-1] + duration[n-1].
//   targets         times t (seconds since the origin, exact rationals),
//                   which the caller's sampling rule gives (src/engine/sampling.ts:
//                   an interval, a count or chosen times, in a window)
//
// The two sampling modes pick one frame per target:
//   Exact     the last frame with frame_time <= t (one output per target;
//             one frame may answer two targets of a variable-rate video)
//   Keyframe  the keyframe nearest to t, the earlier one on a tie, among
//             the keyframes shown in the window where it holds any, else
//             among all; each keyframe is output once (at its first
//             target), so near targets may share one output
//
// To decode frame i, decoding starts at the last keyframe whose pts <= pts[i]
// (decodeStartFor). For an open GOP this is right too: the leading frames of
// a GOP are displayed after the previous keyframe, and decoding forward from
// it passes through the keyframe they reference.
//
// A packet's pts is the frame's, except where the container stores none
// (AVI keeps decode times only; MPEG-PS not on every packet). There FFmpeg
// gives a B-frame its dts as its pts, and leaves an I- or P-frame (an
// "anchor") without one: its display time depends on the packets after it.
// For a codec that delays display by one frame (MPEG-4 part 2, MPEG-1/2
// video) an anchor is shown when the next anchor is decoded, so its pts is
// the next anchor's dts (an anchor is a packet without a pts or with a pts
// past its dts), and the last anchor is shown one frame after the last
// packet (finish's delayedAnchors).
// Such a keyframe is then displayed at one time and sought by another:
// Target::startKeyPts is always a packet time, the one seeking looks for.
// A codec that reorders deeper (H.264 with B-frames: a delay of 2 for a
// B-pyramid) in a container with no pts at all (AVI) has no anchors to tell
// apart: FFmpeg gives each frame it outputs the dts of the packet sent last,
// so the frame shown at position i carries the dts of packet i + delay, and
// the last `delay` frames, given up when the decoder is drained, none
// (each is shown one frame after the one before). A keyframe (an IDR, which
// nothing decoded after it precedes on screen) is shown at its own decode
// position. vsnap's times are those (what `ffprobe -show_frames` gives).
//
// A Timeline knows every frame (it is built from a scan of the stream). The
// keyframe rule also runs over keyframes known one at a time (IndexPlanner,
// which reads only the keyframes a plan needs): pickKeyframes is that rule,
// used by both.
#pragma once

#include <cstdint>
#include <vector>

extern "C" {
#include <libavcodec/packet.h>
#include <libavutil/rational.h>
}

namespace vsnap {

enum class SamplingMode { Exact, Keyframe };

// A target: seconds since the origin, num / den exactly (num >= 0, den > 0).
struct TargetTime {
  int64_t num = 0;
  int64_t den = 1;
};

// Where keyframe mode prefers its keyframes: shown in [start, end).
struct Window {
  TargetTime start;
  TargetTime end;
  bool bounded = false;  // false: every keyframe is in the window
};

// One planned output.
struct Target {
  int64_t pts;          // the frame's pts, stream time base
  int32_t frameIndex;   // display index
  double frameTime;     // seconds since origin, rounded to the millisecond
  int64_t startKeyPts;  // packet time of the keyframe to decode from; kStreamStart when none
  int32_t time = 0;     // the target time it answers (the first, in keyframe mode), as a position in the plan's times
};

// A keyframe that keyframe mode chose, as a position among the keyframes,
// and the first target time that chose it.
struct KeyframePick {
  size_t key;
  int32_t time;
};

// The displayed keyframes of a stream in display order, as the keyframe rule
// sees them. A source that learns a keyframe's pts by reading its packet
// gives a lower bound until the rule needs the exact value.
class KeyframeSource {
 public:
  virtual ~KeyframeSource() = default;
  virtual size_t size() const = 0;
  // At most pts(i), known without reading; nondecreasing in i.
  virtual int64_t lowerBound(size_t i) const = 0;
  virtual int64_t pts(size_t i) = 0;
};

class Timeline {
 public:
  static constexpr int64_t kStreamStart = INT64_MIN;

  explicit Timeline(AVRational timeBase) : timeBase_(timeBase) {}

  // ---- construction, from the demuxed packets of one stream -------------
  // A packet's time is its pts, or its dts in containers that store no pts
  // (AVI); packets with neither are left out. Packets the demuxer marks as
  // discarded (before an edit list's start) are not displayed frames, but
  // can still be decoding starting points.
  static int64_t packetTime(const AVPacket& packet);
  void addPacket(const AVPacket& packet);
  // Sorts into display order and fixes the end. `fallbackDuration` is used
  // for a last frame of unknown duration when no frame gap is known either.
  // `reorderDelay`: how many frames the codec holds back to reorder them
  // (its video_delay); where packets carry no pts, display times follow
  // from it (see above: anchors for a delay of 1, FFmpeg's output times for
  // a deeper one).
  void finish(int64_t fallbackDuration, int reorderDelay);
  // Where a stream ends whose last displayed frame is at `lastPts` with a
  // packet duration `lastDuration` (<= 0: unknown), and the one displayed
  // before it at `previousPts` (kStreamStart: there is none).
  static int64_t endOf(int64_t lastPts, int64_t lastDuration, int64_t previousPts, int64_t fallbackDuration);

  // ---- metadata ---------------------------------------------------------
  int32_t frameCount() const { return static_cast<int32_t>(pts_.size()); }
  int64_t origin() const { return pts_.front(); }
  int64_t end() const { return end_; }
  bool variableFrameRate() const;
  std::vector<double> keyframeTimes() const;

  // ---- mapping ----------------------------------------------------------
  // The packet time of the keyframe to decode the frame at `pts` from.
  int64_t decodeStartFor(int64_t pts) const;
  // The packet time of the keyframe shown before the one whose packet time
  // is `keyPacket`: where to decode from when decoding from that one is
  // not enough. kStreamStart when there is none.
  int64_t keyBefore(int64_t keyPacket) const;
  // The pts of the first frame displayed after `pts`, or kStreamStart when
  // none is: for a frame that FFmpeg decodes without a timestamp (the last
  // anchor above).
  int64_t shownAfter(int64_t pts) const;
  // Where decoding from the very start begins: the first packet's time and
  // byte position (-1 when unknown).
  int64_t firstPacketTime() const { return firstPacketTime_; }
  int64_t firstPacketPosition() const { return firstPacketPosition_; }
  // The seek index a demuxer built while the stream was scanned, for other
  // readers of the same input (see Decoder's lanes); empty when the demuxer
  // keeps an index of its own.
  struct IndexEntry {
    int64_t position;
    int64_t timestamp;
    int size;
    int distance;
    int flags;
  };
  void addIndexEntry(const IndexEntry& entry) { seekIndex_.push_back(entry); }
  const std::vector<IndexEntry>& seekIndex() const { return seekIndex_; }
  // The largest pts - dts of any packet: how far B-frames delay display.
  int64_t maxReorderDelay() const { return maxReorderDelay_; }
  // Whether frame times are the ones FFmpeg gives the frames it outputs
  // (reordered frames without pts, above): then which packets are sent
  // decides which time a frame comes out with, so decoding must send every
  // packet and drain only at the end.
  bool timedByDecoderOutput() const { return timedByDecoderOutput_; }
  std::vector<Target> plan(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window) const;

  // ---- the rule, for streams known in part --------------------------------
  // frame_time of the frame at `pts`: seconds since origin, to the millisecond.
  static double frameTime(int64_t pts, int64_t origin, AVRational timeBase);
  // The latest pts at or before target `t`: a frame is shown at t exactly
  // when its pts is at most this (times are ticks, targets rationals).
  static int64_t latestPtsAt(const TargetTime& t, int64_t origin, AVRational timeBase);
  // Keyframe mode: the keyframe chosen for each target, as positions in
  // `keys`, each keyframe once, in the order of the targets that first chose it.
  static std::vector<KeyframePick> pickKeyframes(KeyframeSource& keys, AVRational timeBase, int64_t origin,
                                           const std::vector<TargetTime>& times, const Window& window);

 private:
  class DisplayedKeyframes;
  Target targetFor(int32_t index) const;
  // finish() for packets without pts of a codec that reorders by `delay` > 1.
  void showAsDecoderOutputs(std::vector<int64_t>& shown, size_t delay, int64_t fallbackDuration) const;

  AVRational timeBase_;
  struct Keyframe {
    int64_t pts;     // when it is displayed
    int64_t packet;  // its packet's time, which seeking looks for
  };
  std::vector<int64_t> pts_;          // displayed frames, display order
  std::vector<int64_t> packetTimes_;  // parallel to pts_
  std::vector<bool> key_;             // parallel to pts_
  std::vector<int64_t> durations_;    // parallel to pts_
  std::vector<Keyframe> allKeys_;     // every keyframe packet, by pts
  // The packets added, in decode order, until finish().
  struct Packet {
    int64_t time;  // packetTime()
    int64_t dts;   // AV_NOPTS_VALUE when unknown
    int64_t duration;
    bool ptsMissing;
    bool key;
    bool discard;
  };
  std::vector<Packet> packets_;
  int64_t end_ = 0;
  int64_t firstPacketTime_ = INT64_MIN;
  int64_t firstPacketPosition_ = -1;
  int64_t maxReorderDelay_ = 0;
  bool timedByDecoderOutput_ = false;
  std::vector<IndexEntry> seekIndex_;
};

}  // namespace vsnap
