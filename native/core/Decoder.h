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
// of one input (lanes) can then decode at once, each taking every lanes-th
// segment; the extra lanes reuse the first one's Timeline instead of scanning.
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
  // Another lane of an input already scanned by a Decoder with `timeline`.
  Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel,
          std::shared_ptr<const Timeline> timeline);

  // ---- metadata ---------------------------------------------------------
  const VideoInfo& info() const { return info_; }
  std::shared_ptr<const Timeline> timeline() const { return timeline_; }
  size_t frameBytes() const;  // one RGB24 frame, before rotation

  // ---- sampling ---------------------------------------------------------
  // Plans the outputs of the whole video.
  void plan(SamplingMode mode, double intervalSeconds);
  // Outputs of the whole plan, and segments (the most lanes worth using).
  size_t outputCount() const { return plan_.size(); }
  size_t segmentCount() const { return segments_.empty() ? 0 : segments_.back() + 1; }
  // Keeps the segments of this lane (lane < lanes) and opens the codec. With
  // one lane the codec may use threads of its own; with more, the lanes are
  // the parallelism.
  void assign(int lane, int lanes);
  // Decodes this lane's next output as packed RGB24 into `rgb`, which holds
  // at least frameBytes(). Returns false when the lane gave all its outputs.
  bool next(uint8_t* rgb, size_t capacity, OutputFrame& out);

  DecodeStats stats() const;

 private:
  // ---- construction ----
  void selectStream();
  void scan();
  // Where the container says the video stream ends (seconds, the stream's
  // own clock), or 0 when it says nothing.
  double declaredEndTime() const;
  void describe();
  void openCodec(SamplingMode mode, bool threads);

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

  SamplingMode mode_ = SamplingMode::Exact;
  std::vector<Target> plan_;               // every output, in order
  std::vector<size_t> segments_;           // parallel to plan_
  std::vector<Target> targets_;            // this lane's, in output order
  std::vector<int32_t> outputIndices_;     // parallel to targets_
  std::unordered_set<int64_t> wantedPts_;
  size_t nextTarget_ = 0;

  // Decoding position. After a seek, packets are dropped until the keyframe
  // awaited; gopKeyPts_ is the last keyframe sent to the decoder.
  bool positioned_ = false;
  bool draining_ = false;
  bool havePacket_ = false;  // packet_ holds a packet not yet sent
  int64_t gopKeyPts_ = Timeline::kStreamStart;
  int64_t lastDecodedPts_ = Timeline::kStreamStart;
  int64_t lastOutputPts_ = AV_NOPTS_VALUE;
  DecodeStats stats_;
};

}  // namespace vsnap
