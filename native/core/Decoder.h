// Decoder: one video stream of one Input, sampled by the time model of
// Timeline.h. Not thread-safe: one operation at a time (the binding makes
// sure of it), on any thread.
//
// Construction opens the input, picks the video stream and scans its packets
// (demuxing only, no decoding) to build the Timeline: the exact display
// order, keyframes and end of the stream, whatever the container says.
//
// Decoding reads only what each target needs:
//   Exact     seek to the keyframe at or before the target and decode forward.
//             When the next target's keyframe is the one of the GOP being
//             decoded, keep decoding instead of seeking (continueInGop).
//             Non-reference frames that are not targets are not decoded
//             (skip_frame), where the codec allows it.
//   Keyframe  seek to the keyframe, decode that one packet and drain.
//
// Work splits into segments that share nothing: in exact mode the targets
// decoded from one keyframe, in keyframe mode each keyframe. Several Decoders
// of one input (lanes) can then decode at once, each taking the next segment
// from a shared queue when it finished its last; the extra lanes reuse the
// first one's Timeline instead of scanning (openLane).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "FFmpeg.h"
#include "Input.h"
#include "Timeline.h"

namespace vsnap {

struct VideoInfo {
  std::string container;
  std::string codec;
  std::string pixelFormat;
  int width = 0;
  int height = 0;
  int rotation = 0;  // clockwise degrees that display the video upright
  double duration = 0;
  double startTime = 0;
  double averageFrameRate = 0;
  bool variableFrameRate = false;
  int32_t frameCount = 0;
  std::vector<double> keyframes;
  int64_t bitRate = 0;
};

struct DecodeStats {
  int64_t seeks = 0;
  int64_t seeksAvoided = 0;
  int64_t packetsRead = 0;
  int64_t scanPackets = 0;
  int64_t framesDecoded = 0;
  int64_t decodeErrors = 0;
  int64_t bytesRead = 0;
};

// The outputs of one extraction, in order, cut into segments, and the queue
// its lanes take segments from.
struct Work {
  SamplingMode mode = SamplingMode::Exact;
  std::vector<Target> targets;
  std::vector<size_t> segmentStarts;  // first target of each segment, then targets.size()
  std::unordered_set<int64_t> wantedPts;
  std::atomic<size_t> nextSegment{0};

  size_t segmentCount() const { return segmentStarts.size() - 1; }
};

struct OutputFrame {
  int32_t outputIndex = 0;
  int32_t frameIndex = 0;
  double frameTime = 0;
  int width = 0;
  int height = 0;
};

class Decoder {
 public:
  // `cancel` may be null; when it becomes true, work in progress stops with
  // ErrorCode::Aborted at the next packet or blocking read.
  Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel);
  // Another decoder of the same input, `input` reading the same bytes: it
  // shares this one's Timeline and skips the scan.
  std::unique_ptr<Decoder> openLane(std::unique_ptr<Input> input) const;

  // ---- metadata ---------------------------------------------------------
  const VideoInfo& info() const { return info_; }
  size_t frameBytes() const;  // one RGB24 frame, before rotation

  // ---- sampling ---------------------------------------------------------
  // Plans the outputs of the whole video.
  std::shared_ptr<Work> plan(SamplingMode mode, double intervalSeconds) const;
  // Opens the codec to decode segments of `work`. With one lane the codec
  // may use threads of its own; with more, the lanes are the parallelism.
  void start(std::shared_ptr<Work> work, bool codecThreads);
  // Decodes this lane's next output as packed RGB24 into `rgb`, which holds
  // at least frameBytes(), taking a new segment from the work when the last
  // one is done. Returns false when no segment is left.
  bool next(uint8_t* rgb, size_t capacity, OutputFrame& out);

  DecodeStats stats() const;

 private:
  // ---- construction ----
  Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel, const Decoder& first);
  void selectStream();
  void scan();
  // Where the container says the video stream ends (seconds, the stream's
  // own clock), or 0 when it says nothing.
  double declaredEndTime() const;
  void describe();
  void openCodec(bool threads);

  // ---- demuxing and seeking ----
  // Reads the next packet of our stream into packet_; false at the end.
  bool readPacket();
  // Positions the demuxer so that the next packet read is the keyframe with
  // pts `keyPts` (packets before it are read and dropped).
  void seekToKey(int64_t keyPts);
  bool readUntilKey(int64_t keyPts);

  // ---- decoding ----
  const AVFrame* decodeExact(const Target& target);
  const AVFrame* decodeKeyframe(const Target& target);
  bool continueInGop(const Target& target) const;
  int64_t framePts(const AVFrame* frame) const;
  void convert(const AVFrame* frame, uint8_t* rgb, size_t capacity);
  void throwIfCancelled() const;

  std::unique_ptr<Input> input_;
  const std::atomic<bool>* cancel_;
  FormatContextPtr format_;
  AVStream* stream_ = nullptr;  // owned by format_
  CodecContextPtr codec_;
  PacketPtr packet_;
  FramePtr frame_;
  SwsContextPtr sws_;
  VideoInfo info_;
  std::shared_ptr<const Timeline> timeline_;

  std::shared_ptr<Work> work_;
  size_t cursor_ = 0;      // next target of the current segment
  size_t segmentEnd_ = 0;  // end of the current segment

  // Decoding position. After a seek, packets are dropped until the keyframe
  // awaited; gopKeyPts_ is the last keyframe sent to the decoder.
  bool positioned_ = false;
  bool draining_ = false;
  bool havePacket_ = false;
  bool seeksOvershoot_ = false;  // the demuxer landed past a keyframe once  // packet_ holds a packet not yet sent
  int64_t gopKeyPts_ = Timeline::kStreamStart;
  int64_t lastDecodedPts_ = Timeline::kStreamStart;
  int64_t lastOutputPts_ = AV_NOPTS_VALUE;
  DecodeStats stats_;
};

}  // namespace vsnap
