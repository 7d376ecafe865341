// Planning from a container's sample index, without a scan.
//
// An MP4/MOV demuxer indexes every sample of a track: decode time (dts),
// byte position, size and keyframe flag. Presentation times stay inside the
// demuxer (its composition offsets), so the planner reads the packets whose
// pts it needs: the first keyframe and what follows it (the origin), the
// last GOP (the end), and per target the keyframes around it; in exact mode
// also the frames from the target's keyframe up to the target, the ones its
// decoding reads anyway. Nothing else is read, so that an input read by
// range fetches a small part of its bytes, and a long video is not read
// whole to plan a few outputs.
//
// Why the plan is the scan's, exactly. Frame j has decode position j.
//   G1  pts_j >= dts_j for every frame (the mov demuxer shifts dts by the
//       largest negative composition offset). Checked on every packet read.
//   G2  a keyframe is displayed after every frame decoded before it: the
//       codec guarantees it for an H.264 IDR picture, an HEVC IRAP picture,
//       an MPEG-1/2/4 I-frame (anchors keep their order) and any codec that
//       does not reorder frames (whose packets read must have pts = dts).
//       Checked on the packet of every keyframe read; other codecs are not
//       planned from the index.
// By G2 the display index of a keyframe K is its decode position plus the
// frames decoded after K and displayed before it (the leading pictures of an
// open GOP); by G1 those are among the frames after K whose dts is below
// pts_K, the few packets the planner reads after each keyframe to count them.
// The keyframes are in display order (G2 for the later of two; G1 and the
// next keyframe's dts past pts_K for the earlier: checked), so the keyframe
// rule can find its candidates by dts and read only those. The origin is the
// least pts of the first keyframe and its leading frames; the last displayed
// frame is in the last GOP (G2 on its keyframe), which is read whole.
//
// Exact mode, for the target whose latest pts is T: let K be the last
// keyframe with pts_K <= T (among the keyframes with dts <= T, by G1 the
// last one or the one before it). Every frame shown from pts_K on is decoded
// from K on (G2), and every frame shown by T has dts <= T (G1): the frames
// from K's decode position to the last with dts <= T hold the frame shown at
// T, the one of greatest pts <= T, and every frame shown between pts_K and
// it. Its display index is then K's plus those frames before it, and it is
// decoded from K, as the scan's plan says (Timeline::decodeStartFor). A
// target shown before the first keyframe, or a frame whose pts another frame
// shares, is left to the scan (NotExact).
//
// From the index alone: a mov-family demuxer, one index entry per sample of
// the track (not so for a fragmented file, or an edit list that drops or
// repeats samples), no entry discarded by an edit list, strictly increasing
// dts, a keyframe first. Anything that breaks these, in the index or in a
// packet read, throws NotExact: the caller then scans the stream.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "FFmpeg.h"
#include "Timeline.h"

namespace vsnap {

// Reads the packets of one stream for the planner.
class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // Seeks back to the last keyframe at or before `timestamp`, as the
  // demuxer reads timestamps (av_seek_frame).
  virtual void seek(int64_t timestamp) = 0;
  // The stream's next packet, or nullptr at the end of the data; valid until
  // the next call.
  virtual const AVPacket* next() = 0;
  // The reads that follow are mostly the packets of index entries first to
  // last (a hint for an input that fetches by range).
  virtual void expectEntries(int /*first*/, int /*last*/) {}
};

class IndexPlanner : private KeyframeSource {
 public:
  // The index or the data cannot give the scan's plan exactly.
  class NotExact : public std::runtime_error {
   public:
    using std::runtime_error::runtime_error;
  };

  // Why the index alone rules planning from it out, or "" when it does not.
  static std::string refusal(const AVFormatContext& format, AVStream& stream);
  // Whether an exact-mode plan of `times` would read less than three
  // quarters of the stream's packets, as the index predicts from decode
  // times: the frames from each target's keyframe to the target, the first
  // keyframe and the last GOP. A denser plan reads the stream once by a
  // scan instead, which learns every keyframe too.
  static bool exactReadsLess(AVStream& stream, const std::vector<TargetTime>& times);

  // Reads what fixes the origin and the end, starting where the demuxer was
  // just opened. `fallbackDuration` as in Timeline::finish.
  IndexPlanner(AVStream& stream, PacketSource& packets, int64_t fallbackDuration);

  int64_t origin() const { return origin_; }
  int64_t end() const { return end_; }
  int32_t frameCount() const { return static_cast<int32_t>(dts_.size()); }

  // The plan Timeline::plan would make after a scan; `seekTimes` gets, for
  // the pts of each keyframe decoded from, a timestamp that
  // PacketSource::seek lands on it with.
  std::vector<Target> plan(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window,
                           std::unordered_map<int64_t, int64_t>& seekTimes);

 private:
  struct Keyframe {
    int32_t entry;  // decode position
    int64_t dts;
    bool read = false;
    int64_t pts = 0;
    int32_t leading = 0;   // frames decoded after it and shown before it
    int64_t earliest = 0;  // least pts of it and its leading frames
  };
  struct Shown {
    int64_t pts;
    int64_t duration;
  };

  // Each appends the keyframes its targets are decoded from to `decodedFrom`.
  std::vector<Target> planKeyframes(const std::vector<TargetTime>& times, const Window& window,
                                    std::vector<size_t>& decodedFrom);
  std::vector<Target> planExact(const std::vector<TargetTime>& times, std::vector<size_t>& decodedFrom);
  // The target showing the frame of greatest pts <= `latest` among `frames`,
  // read in decode order from keyframe `key` on (see the header comment).
  Target exactTarget(size_t key, const std::vector<Shown>& frames, int64_t latest) const;

  // KeyframeSource: the keyframes in decode order, which is display order.
  size_t size() const override { return keys_.size(); }
  int64_t lowerBound(size_t i) const override { return keys_[i].dts; }
  int64_t pts(size_t i) override;

  // Reads keyframe i's packet: seeks to it unless reading is there already.
  const AVPacket& readKey(size_t i);
  // Reads keyframe i, the frames after it whose dts is below its pts, and
  // every frame up to decode position `through`; appends each frame read to
  // `shown` when given.
  void read(size_t i, int32_t through, std::vector<Shown>* shown);
  // Reads decode positions `from` to `through` on from where reading is,
  // appending each frame to `shown`; false when reading is not at `from`.
  bool readOn(int32_t from, int32_t through, std::vector<Shown>& shown);
  // Reads the next packet, which must be index entry `entry`, and checks G1.
  const AVPacket& expectEntry(int32_t entry);
  const AVPacket& check(const AVPacket* packet, int32_t entry) const;
  // Whether the keyframe's packet guarantees G2.
  bool showsAfterEarlierFrames(const AVPacket& packet) const;
  void findEnd(int64_t fallbackDuration);

  AVStream& stream_;
  PacketSource& packets_;
  const bool reorders_;       // the codec may show frames out of decode order
  std::vector<int64_t> dts_;  // every frame, decode order
  std::vector<bool> key_;     // parallel to dts_
  std::vector<Keyframe> keys_;
  int64_t origin_ = 0;
  int64_t end_ = 0;
  // The demuxer seeks by pts less an offset of its own (MP4 index times are
  // dts): seeking to dts + seekOffset_ lands on that keyframe. Guessed from
  // the first frame, corrected when a seek lands elsewhere.
  int64_t seekOffset_ = 0;
  int32_t nextEntry_ = 0;  // what the next packet read is, when known; -1 after a seek
};

}  // namespace vsnap
