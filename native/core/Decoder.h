// Decoder: one video stream of one Input, sampled by the time model of
// Timeline.h. Not thread-safe: one operation at a time (the binding makes
// sure of it), on any thread.
//
// Construction opens the input and picks the video stream. Planning then
// learns the stream's times one of two ways:
//   scan      read every packet (demuxing only, no decoding) to build the
//             Timeline: the exact display order, keyframes and end of the
//             stream, whatever the container says. Probing, and plans the
//             index cannot make.
//   index     a container whose index lists every frame (MP4/MOV): read
//             only the packets the plan needs (IndexPlanner), where that
//             gives the scan's plan exactly; else scan.
//
// Decoding reads only what each target needs:
//   Exact     seek to the keyframe at or before the target and decode forward.
//             When the next target's keyframe is the one of the GOP being
//             decoded, keep decoding instead of seeking (continueInGop).
//             Non-reference frames that are not targets are not decoded
//             (skip_frame), where the codec allows it. After the last target
//             of a GOP's packet the decoder is drained, so that no frame
//             after it is decoded only to push it out of the reorder buffer.
//   Keyframe  seek to the keyframe, decode that one packet and drain.
//
// Seeking is an optimisation that must not change a pixel: every output is
// the picture a sequential decode of the stream from its first packet
// gives (one codec thread, where the stream is damaged: frame threads
// conceal damage differently from one thread count to the next). So every
// output is checked for damage the codec reports on it or on a packet it
// was decoded from (PacketChain, CodecHooks). Where a decode after a seek
// shows damage (an index that marks a frame sync that does not decode on
// its own, an intra-refresh point, parameter sets that only an earlier
// packet of the stream carries), the output is decoded again with a fresh
// codec: from the keyframe before, then from the stream's first packet,
// which is the sequential decode and final (damage there is the stream's
// own: stats.damagedFrames). Cost: a stream whose seeks fail makes this
// lane decode on from there without seeking, taking every segment left
// (forward_), as does damage of the stream's own found a second time in
// one extraction; the first such damage lets seeking resume, since one
// damaged spot says nothing about the seeks after it. So an extraction
// costs at most about one sequential decode per lane more than decoding
// the stream once.
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
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "CodecHooks.h"
#include "FFmpeg.h"
#include "FramePool.h"
#include "Input.h"
#include "PacketChain.h"
#include "RgbBand.h"
#include "Timeline.h"
#include "ToneMap.h"

namespace vsnap {

class IndexPlanner;

// The chromaticities of a mastering display (SMPTE ST 2086), CIE 1931 xy.
struct MasteringDisplay {
  double red[2] = {0, 0};
  double green[2] = {0, 0};
  double blue[2] = {0, 0};
  double whitePoint[2] = {0, 0};
  double minLuminance = 0;  // cd/m²
  double maxLuminance = 0;  // cd/m²
};

// CTA-861.3 content light levels, in cd/m².
struct ContentLight {
  int maxCll = 0;
  int maxFall = 0;
};

// How the video's samples map to colour: FFmpeg's names of its matrix,
// primaries and transfer (empty where the stream leaves them unspecified),
// its range, and the HDR static metadata the container or the first
// frame's side data (SEI) carries.
// A Dolby Vision configuration record (the container's dvcC/dvvC): its
// profile and level, and which standard the base layer is compatible with
// (1 HDR10, 2 SDR, 4 HLG, 0 none).
struct DolbyVision {
  int profile = 0;
  int level = 0;
  int blSignalCompatibilityId = 0;
};

struct ColorInfo {
  std::string matrix;
  std::string primaries;
  std::string transfer;
  std::string range;  // "limited", "full" or empty
  std::optional<MasteringDisplay> masteringDisplay;
  std::optional<ContentLight> contentLight;
  std::optional<DolbyVision> dolbyVision;
};

// ToneMap's PQ source peak (pqSourcePeak) from the stream's HDR10 metadata.
double pqSourcePeakOf(const ColorInfo& color);

struct VideoInfo {
  std::string container;
  std::string codec;
  // Known once the streams were probed (StreamProbe); FFmpeg's name, or
  // "unknown" where probing could not tell.
  std::optional<std::string> pixelFormat;
  int width = 0;
  int height = 0;
  int rotation = 0;  // clockwise degrees that display the video upright
  double duration = 0;
  double startTime = 0;
  double averageFrameRate = 0;
  bool variableFrameRate = false;
  int32_t frameCount = 0;
  // Known only when every packet was read (`scanned`); a plan from the index
  // leaves them empty and false.
  bool scanned = false;
  std::vector<double> keyframes;
  int64_t bitRate = 0;
  ColorInfo color;
};

// How a plan may learn the stream's times; see the header comment.
enum class Planning { IndexWhereExact, Scan };

// Whether opening reads ahead to learn every stream parameter
// (avformat_find_stream_info, which decodes the first frames: 30 ms for
// 1080p H.264, 100 ms for 4K). Extraction needs the pixel format only from
// the frames it decodes, so it skips the probe where the container's header
// describes the video as fully as the probe would for its purposes (one
// video stream, in an MP4/MOV with its index and durations or a
// Matroska/WebM with its duration); VideoInfo's pixelFormat is then not known.
enum class StreamProbe { Always, WhereHeaderFallsShort };

struct DecodeStats {
  int64_t seeks = 0;
  int64_t seeksAvoided = 0;
  int64_t packetsRead = 0;
  int64_t scanPackets = 0;
  int64_t framesDecoded = 0;
  int64_t decodeErrors = 0;
  int64_t bytesRead = 0;
  int64_t requests = 0;  // made to fetch bytesRead: a URL's range requests
  // Outputs damaged in the stream itself (a sequential decode gives the
  // same damaged picture), and outputs decoded again because the decode
  // after a seek showed damage.
  int64_t damagedFrames = 0;
  int64_t seekRecoveries = 0;
};

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// The image each output becomes, in the coded frame's orientation (the
// encoder turns it upright): `width` x `height` pixels, the rectangle `crop`
// of the coded frame scaled into the rectangle `place` of it, black around
// it. The caller computes it from the size options (src/engine/geometry.ts);
// a width of 0 leaves frames at their coded size.
struct OutputGeometry {
  int width = 0;
  int height = 0;
  Rect crop;
  Rect place;
};

// The outputs of one extraction, in order, cut into segments, and the queue
// its lanes take segments from.
struct Work {
  SamplingMode mode = SamplingMode::Exact;
  std::vector<Target> targets;
  std::vector<size_t> segmentStarts;  // first target of each segment, then targets.size()
  std::unordered_set<int64_t> wantedPts;
  // Decode every packet, not only the targets and the frames they need
  // (Timeline::timedByDecoderOutput).
  bool decodeEveryFrame = false;
  // Keyframe pts -> a timestamp the demuxer's seek lands on it with, where
  // planning from the index learned one.
  std::unordered_map<int64_t, int64_t> seekTimes;
  // Frames with more pixels than this (0: no limit) are never allocated:
  // decoding them fails with ErrorCode::LimitExceeded, whatever size the
  // container declared (a header that understates it skips the check made
  // on the declared size).
  int64_t maxPixels = 0;
  OutputGeometry geometry;
  // Tone-map frames whose transfer is PQ or HLG (ToneMap.h), PQ from this
  // peak (cd/m²): one for the whole run, whichever lane decodes a frame.
  bool toneMap = false;
  double pqSourcePeak = 1000;
  std::atomic<size_t> nextSegment{0};
  // Outputs whose sequential decode was damaged, found by any lane.
  std::atomic<int> streamDamageRecoveries{0};

  size_t segmentCount() const { return segmentStarts.size() - 1; }
};

struct OutputFrame {
  int32_t outputIndex = 0;
  int32_t targetIndex = 0;  // the target time it answers (Target::time)
  int32_t frameIndex = 0;
  double frameTime = 0;
  int width = 0;
  int height = 0;
};

// Memory for RgbBands. Built with VSNAP_GUARD_BANDS (the fuzz harness,
// scripts/fuzz.sh), it ends where a page the process may not touch begins,
// so that a write past it faults at once, even one made by FFmpeg's
// assembly, which AddressSanitizer does not see; otherwise a plain vector.
class BandMemory {
 public:
  explicit BandMemory(size_t size);
  ~BandMemory();
  BandMemory(const BandMemory&) = delete;
  BandMemory& operator=(const BandMemory&) = delete;

  uint8_t* data() { return data_; }

 private:
#ifdef VSNAP_GUARD_BANDS
  void* mapping_ = nullptr;
  size_t mappingSize_ = 0;
#else
  std::vector<uint8_t> storage_;
#endif
  uint8_t* data_ = nullptr;
};

// The frame a Decoder decoded last (decodeNext), converted to packed RGB24
// a band of rows at a time, top to bottom: the bytes the whole-frame
// conversion writes, in a buffer of a few dozen rows that stays in the CPU's
// cache, where the whole frame would be fresh memory for the kernel to fault
// in page by page (25 MB for a 4K frame). The source goes to
// swscale in slices of kSliceRows rows, in order, as FFmpeg's filters give
// it; where swscale fills in chroma by filtering rows it gives back fewer
// rows for a slice and the rest with the next. A frame of another size than
// the video's (a stream that changes size) is scaled, and a scaling filter
// can reach back past the rows swscale kept from earlier slices (it read
// before the slice on native/fuzz/regressions/avi-mpeg4-8191px-*): such a
// frame goes in one slice, into a band of the whole frame.
//
// The band's rows are padded to a whole number of 16 pixels, with spare
// bytes after the last: Debian's swscale (FFmpeg 5.1, x86) writes RGB24 8
// or 16 pixels at a time. Into rows packed at width * 3 bytes, its SSSE3
// YUV 4:2:0 converter writes the first multiple of 8 pixels of each row and
// leaves the last width % 8 as they were; where that multiple of 8 is odd
// it stores 8 pixels more, up to 24 bytes past the end of the last row.
// Garbage columns at the right of an 854-pixel frame, a heap overrun (an
// abort in free) on a 72-pixel one: test/engine/odd-widths.test.ts. Valid
// while the decoder is alive and decodes nothing else.
class RgbBands {
 public:
  static constexpr int kSliceRows = 16;

  // `crop` of `frame` into `place` of an image `width` x `height`; `sws`
  // converts (and scales) crop to place: to RGB24, or, with `toneMap`, to
  // 16-bit planar R'G'B' (GBRP16) that `toneMap` turns into RGB24 a row at
  // a time.
  RgbBands(SwsContext* sws, const AVFrame* frame, const Rect& crop, int width, int height, const Rect& place,
           const ToneMapper* toneMap = nullptr);
  // The next rows, top to bottom; a band of 0 rows once every row was given.
  RgbBand next();

 private:
  SwsContext* sws_;
  const AVFrame* frame_;
  Rect crop_;
  int width_;
  int height_;
  Rect place_;
  int sliceRows_;    // source rows a slice
  int capacityRows_;  // rows the band holds
  size_t stride_;      // bytes a row, padded
  int fed_ = 0;       // source rows given to swscale
  int emitted_ = 0;   // output rows it gave back
  BandMemory band_;
  const ToneMapper* toneMap_;
  size_t planeStride_;  // bytes a row of a 16-bit plane, padded (tone mapping only)
  size_t planeBytes_;   // bytes a plane
  BandMemory planes_;   // swscale's GBRP16 rows, before tone mapping

  // swscale's destination: the band's row `row` (may be negative: see
  // next()) and pixel `column`, in band_ or, tone mapping, in planes_.
  void destinationsAt(ptrdiff_t row, int column, uint8_t* dst[4], int dstStride[4]);
  // The first `count` rows of planes_ into band_'s, tone-mapped.
  void toneMapRows(int count);
};

class Decoder {
 public:
  // Opens the input and picks its video stream. `cancel` may be null; when
  // it becomes true, work in progress stops with ErrorCode::Aborted at the
  // next packet or blocking read.
  Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel, StreamProbe probe = StreamProbe::Always);
  ~Decoder();
  // Another decoder of the same input, `input` reading the same bytes, once
  // this one has planned: it shares what planning learned and reads nothing
  // to plan.
  std::unique_ptr<Decoder> openLane(std::unique_ptr<Input> input) const;

  // ---- metadata ---------------------------------------------------------
  // Reads every packet of the stream; info() is then complete.
  void scan();
  // Valid once scan() or plan() returned.
  const VideoInfo& info() const { return info_; }
  size_t frameBytes() const;  // one RGB24 output, before rotation (the geometry's size once started)

  // ---- sampling ---------------------------------------------------------
  // Learns the stream's times, reading what `planning` allows: from an
  // MP4/MOV index, its first and last GOPs (IndexPlanner); else every packet
  // (scan). info() is then valid, and durationTicks() the exact end.
  void prepare(Planning planning);
  // The end of the last frame, in ticks of timeBase() since the first frame.
  int64_t durationTicks() const;
  AVRational timeBase() const { return stream_->time_base; }
  // The outputs for `times` in `mode` (Timeline.h), reading what the
  // prepared path needs: from the index where it gives the scan's plan
  // exactly (in exact mode, where it reads less than a scan), else by a scan.
  std::shared_ptr<Work> plan(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window);
  // Opens the codec to decode segments of `work`. With one lane the codec
  // may use threads of its own; with more, the lanes are the parallelism.
  void start(std::shared_ptr<Work> work, bool codecThreads);
  // Decodes this lane's next output as packed RGB24 into `rgb`, which holds
  // at least frameBytes(), taking a new segment from the work when the last
  // one is done. Returns false when no segment is left.
  bool next(uint8_t* rgb, size_t capacity, OutputFrame& out);
  // next() in two steps: decodes the next output and keeps it in the
  // decoder (false when no segment is left)...
  bool decodeNext(OutputFrame& out);
  // Whether the stream's transfer is PQ or HLG and neither the container
  // nor a decoded frame has given its static metadata yet: probing then
  // decodes the first frame, whose side data (SEI) may carry it.
  bool lacksHdrMetadata() const;
  // Takes the HDR static metadata another decoder of the same input
  // learned (from its first frame), where this one lacks it.
  void adoptHdrMetadata(const ColorInfo& color);
  // ... then converts it whole, as next() does, or a band of rows at a time
  // (RgbBands), which gives the same bytes without a frame-sized buffer.
  void convertDecoded(uint8_t* rgb, size_t capacity);
  RgbBands decodedBands();

  DecodeStats stats() const;

 private:
  class PlanReader;

  // ---- construction and planning ----
  Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel, const Decoder& first);
  void selectStream();
  // The plan of the prepared IndexPlanner, or false when it cannot be the
  // scan's exactly or reads too much (the demuxer is then back at the start).
  bool planFromIndex(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window, Work& work);
  // The duration of a last frame whose duration nothing tells.
  int64_t fallbackDuration() const;
  // Throws when a stream that declares where it ends stops well short of it.
  void checkDeclaredEnd(int64_t origin, int64_t end) const;
  // Where the container says the video stream ends (seconds, the stream's
  // own clock), or 0 when it says nothing.
  double declaredEndTime(int64_t origin) const;
  void describeStream(bool probed);
  void describeTimes(int64_t origin, int64_t end, int32_t frameCount);
  void openCodec(bool threads);

  // ---- demuxing and seeking ----
  // Throws for a failed read: the input's fault, or the source's when it
  // cannot be read (a dropped connection).
  void checkRead(int ret, const char* operation) const;
  // Reads the next packet of our stream into packet_; false at the end.
  bool readPacket();
  // Positions the demuxer so that the next packet read is the keyframe with
  // pts `keyPts` (packets before it are read and dropped).
  void seekToKey(int64_t keyPts);
  bool readUntilKey(int64_t keyPts);

  // ---- decoding ----
  // A target's frame as one decode gave it: null where the decode did not
  // give it (`ended`: the stream ended first), and whether it depends on
  // damage.
  struct Decoded {
    const AVFrame* frame = nullptr;
    bool damaged = false;
    bool ended = false;
  };
  // The target's frame, decoded again from earlier where damaged (recover).
  const AVFrame* decodeTarget(const Target& target);
  Decoded decodeExact(const Target& target);
  Decoded decodeKeyframe(const Target& target);
  // Decodes on from where the demuxer is until the target's frame; may
  // drain the codec after the target's packet when it ends its segment.
  Decoded decodeForward(const Target& target, bool mayDrainEarly);
  const AVFrame* recover(const Target& target);
  // The sequential decode's frame: damage counted, a missing frame an error.
  const AVFrame* accept(const Decoded& decoded, const Target& target);
  // A new codec context that decodes as a sequential decode does: one
  // thread (frame threads conceal damage differently with each thread
  // count) and every frame (skipping the non-reference ones changes what
  // H.264 conceals a damaged frame with). Until leaveRecoveryCodec().
  void restartCodec();
  // Back to the codec of start(), where restartCodec() replaced it.
  void leaveRecoveryCodec();
  void reopenCodec(bool threads);
  // From now on this lane decodes forward without seeking, and takes every
  // segment no lane has taken.
  void takeRemainingSegments();
  // Sends packet_ (numbered for PacketChain) and lets go of it.
  int sendPacket();
  void noteDamage(const AVFrame* frame);
  bool dependsOnDamage(const AVFrame* frame, const Target& target);
  // Positions the demuxer before the stream's first packet, without the scanned timeline.
  void rewind();
  // Tells the input which bytes decoding `target` reads, where the index
  // lists every packet (Input::expectReads).
  void expectReadsFor(const Target& target);
  bool continueInGop(const Target& target) const;
  int64_t framePts(const AVFrame* frame) const;
  void convert(const AVFrame* frame, uint8_t* rgb, size_t capacity);
  // The swscale context that converts the crop of `frame` to RGB24 (GBRP16
  // where `toneMapped`) at the size of the place it goes to, and that crop.
  SwsContext* converterFor(const AVFrame* frame, Rect& crop, bool toneMapped);
  // The tone mapper for `frame`: null unless the work tone-maps and the
  // frame's transfer is PQ or HLG.
  const ToneMapper* toneMapperFor(const AVFrame* frame);
  // The rectangle of `frame` that becomes the place.
  Rect cropOf(const AVFrame* frame) const;
  // Whether `frame` is scaled in YUV before its conversion to RGB (see scaled_).
  bool scalesInYuv(const AVFrame* frame) const;
  // The crop of `frame` scaled to the place's size in YUV 4:4:4: scaled_.
  const AVFrame* scaleInYuv(const AVFrame* frame);
  // The work's geometry, with the coded size filled in where it scales nothing.
  OutputGeometry geometry() const;
  RgbBands bandsOf(const AVFrame* frame);
  // info_.color from the stream's parameters and the container's side data.
  void describeColor();
  // Fills what info_.color lacks of the HDR static metadata from `frame`'s side data.
  void describeColorOf(const AVFrame* frame);
  void throwIfCancelled() const;
  // A decode call's result: throws LimitExceeded when the codec was refused
  // a frame over work_->maxPixels, else CorruptInput when `ret` < 0.
  void checkDecode(int ret, const char* what) const;
  void throwIfFrameRefused() const;

  std::unique_ptr<Input> input_;
  const std::atomic<bool>* cancel_;
  FormatContextPtr format_;
  AVStream* stream_ = nullptr;  // owned by format_
  FramePool framePool_;  // outlives codec_, which takes frames from it
  CodecHooks hooks_;     // outlives codec_, whose opaque it is
  CodecContextPtr codec_;
  bool codecThreads_ = false;
  bool recoveryCodec_ = false;  // see restartCodec()
  PacketPtr packet_;
  FramePtr frame_;
  const AVFrame* decoded_ = nullptr;  // decodeNext's frame: frame_, or null before one
  SwsContextPtr sws_;
  // Scaling an 8-bit YUV frame goes in two steps: Lanczos into YUV 4:4:4 at
  // the output size (swscale's SIMD planar writers), then to RGB24 at that
  // size. In one step swscale scales and converts with its C writer of RGB24
  // with full chroma (yuv2rgb24_full_X_c, 17% of a run of thumbnails): a
  // 320-wide thumbnail cost as much as the full-size JPEG.
  SwsContextPtr scaleSws_;
  FramePtr scaled_;
  std::unique_ptr<ToneMapper> toneMapper_;  // the last settings', kept while they last
  VideoInfo info_;
  int64_t origin_ = 0;
  // Every frame's times, after a scan; null when planned from the index.
  std::shared_ptr<const Timeline> timeline_;

  // Planning from the index, between prepare() and plan().
  std::unique_ptr<PlanReader> planReader_;
  std::unique_ptr<IndexPlanner> planner_;

  std::shared_ptr<Work> work_;
  size_t cursor_ = 0;      // next target of the current segment
  size_t segmentEnd_ = 0;  // end of the current segment
  // Decoding the stream through (see the header comment), and the first
  // target of the segments taken for it, after the current one.
  bool forward_ = false;
  size_t remainingFrom_ = SIZE_MAX;
  PacketChain chain_;
  int64_t packetNumber_ = 0;

  // Decoding position. After a seek, packets are dropped until the keyframe
  // awaited; gopKeyPts_ is the last keyframe sent to the decoder.
  bool positioned_ = false;
  bool draining_ = false;
  bool havePacket_ = false;      // packet_ holds a packet not yet sent
  bool seeksOvershoot_ = false;  // the demuxer landed past a keyframe once
  bool drainEarly_ = true;       // cleared once draining at a target's packet missed it
  int64_t gopKeyPts_ = Timeline::kStreamStart;
  int64_t lastDecodedPts_ = Timeline::kStreamStart;
  int64_t lastOutputPts_ = AV_NOPTS_VALUE;
  DecodeStats stats_;
};

}  // namespace vsnap
