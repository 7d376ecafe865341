#include "Decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "Error.h"
#include "IndexPlanner.h"

#ifdef VSNAP_GUARD_BANDS
#include <sys/mman.h>
#include <unistd.h>
#endif

extern "C" {
#include <libavutil/display.h>
#include <libavutil/dovi_meta.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/pixdesc.h>
}

namespace vsnap {

namespace {

std::string secondsText(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.3f s", seconds);
  return text;
}

int rotationOf(const AVStream* stream) {
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (matrix == nullptr) {
    return 0;
  }
  // av_display_rotation_get is counter-clockwise; snap to a quarter turn.
  const double counterClockwise = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(counterClockwise)) {
    return 0;
  }
  const long quarters = std::lround(-counterClockwise / 90.0);
  return static_cast<int>(((quarters % 4) + 4) % 4) * 90;
}

// A video stream vsnap may sample: not a cover picture.
bool isSampledVideo(const AVStream* stream) {
  return stream->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && (stream->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0;
}

// Whether the container's header tells what extraction needs without
// avformat_find_stream_info: one video stream, with its codec, frame size
// and frame rate, in an MP4/MOV whose index lists the stream's samples and
// gives the file's and the stream's durations, or in a Matroska/WebM file
// that gives its duration. The stream chosen is then the only one, and the
// frame rate and durations are the header's either way.
bool headerDescribesVideo(const AVFormatContext& format) {
  const bool mov = std::strcmp(format.iformat->name, "mov,mp4,m4a,3gp,3g2,mj2") == 0;
  const bool matroska = std::strcmp(format.iformat->name, "matroska,webm") == 0;
  if (!(mov || matroska) || format.duration <= 0) {
    return false;
  }
  const AVStream* video = nullptr;
  for (unsigned i = 0; i < format.nb_streams; ++i) {
    if (isSampledVideo(format.streams[i])) {
      if (video != nullptr) {
        return false;
      }
      video = format.streams[i];
    }
  }
  if (video == nullptr) {
    return false;
  }
  const AVCodecParameters* par = video->codecpar;
  const bool described = par->codec_id != AV_CODEC_ID_NONE && par->width > 0 && par->height > 0 &&
                         video->avg_frame_rate.num > 0 && video->avg_frame_rate.den > 0;
  return described && (matroska || (video->duration > 0 && avformat_index_get_entries_count(video) > 0));
}

// The bit rate avformat_find_stream_info gives a file that declares none:
// its size over its duration.
int64_t bitRateOfSize(AVFormatContext& format) {
  const int64_t size = format.pb != nullptr ? avio_size(format.pb) : -1;
  if (size <= 0 || format.duration <= 0) {
    return 0;
  }
  const double bitRate = static_cast<double>(size) * 8.0 * AV_TIME_BASE / static_cast<double>(format.duration);
  return bitRate <= static_cast<double>(INT64_MAX) ? static_cast<int64_t>(bitRate) : 0;
}

}  // namespace

// ============================================================================
// Construction
// ============================================================================

// Reads for IndexPlanner; its packets count as planning (scanPackets).
class Decoder::PlanReader : public PacketSource {
 public:
  explicit PlanReader(Decoder& decoder) : decoder_(decoder), packet_(makePacket()) {}

  void seek(int64_t timestamp) override {
    decoder_.throwIfCancelled();
    const int ret = av_seek_frame(decoder_.format_.get(), decoder_.stream_->index, timestamp, AVSEEK_FLAG_BACKWARD);
    if (ret == AVERROR_EXIT) {
      throw Error(ErrorCode::Aborted, "aborted");
    }
    if (ret < 0) {
      decoder_.input_->throwIfFailed();
      throw IndexPlanner::NotExact("cannot seek to a keyframe: " + avErrorText(ret));
    }
  }

  void expectEntries(int first, int last) override {
    const AVIndexEntry* from = avformat_index_get_entry(decoder_.stream_, first);
    const AVIndexEntry* to = avformat_index_get_entry(decoder_.stream_, last);
    if (from != nullptr && to != nullptr) {
      decoder_.input_->expectReads(from->pos, to->pos + to->size);
    }
  }

  const AVPacket* next() override {
    av_packet_unref(packet_.get());
    for (;;) {
      decoder_.throwIfCancelled();
      const int ret = av_read_frame(decoder_.format_.get(), packet_.get());
      if (ret == AVERROR_EOF) {
        return nullptr;
      }
      decoder_.checkRead(ret, "truncated or corrupt data: av_read_frame");
      if (packet_->stream_index == decoder_.stream_->index) {
        ++decoder_.stats_.scanPackets;
        return packet_.get();
      }
      av_packet_unref(packet_.get());
    }
  }

 private:
  Decoder& decoder_;
  PacketPtr packet_;
};

Decoder::Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel, StreamProbe probe)
    : input_(std::move(input)), cancel_(cancel), packet_(makePacket()), frame_(makeFrame()) {
  format_ = input_->open(cancel_, false);
  const bool probed = probe == StreamProbe::Always || !headerDescribesVideo(*format_);
  if (probed) {
    input_->probeStreamsOf(*format_);
  }
  selectStream();
  describeStream(probed);
}

Decoder::~Decoder() = default;

std::unique_ptr<Decoder> Decoder::openLane(std::unique_ptr<Input> input) const {
  return std::unique_ptr<Decoder>(new Decoder(std::move(input), cancel_, *this));
}

Decoder::Decoder(std::unique_ptr<Input> input, const std::atomic<bool>* cancel, const Decoder& first)
    : input_(std::move(input)),
      cancel_(cancel),
      packet_(makePacket()),
      frame_(makeFrame()),
      info_(first.info_),
      origin_(first.origin_),
      timeline_(first.timeline_) {
  if (first.info_.frameCount == 0) {
    throw Error(ErrorCode::Internal, "openLane: the first decoder has not planned");
  }
  // Streams of a container with a header are known once it is opened; the
  // others (MPEG-TS, FLV) appear only as packets are read, so the lane probes.
  // Asked of the lane's own context, just opened: a demuxer drops the flag
  // once it has met its streams (FLV at its second, so an FLV with audio),
  // as the first decoder's context, read through by the plan, may have.
  format_ = input_->open(cancel_, false);
  if ((format_->ctx_flags & AVFMTCTX_NOHEADER) != 0) {
    input_->probeStreamsOf(*format_);
  }
  const int index = first.stream_->index;
  if (index >= static_cast<int>(format_->nb_streams)) {
    throw Error(ErrorCode::CorruptInput, input_->describe() + ": the video stream is missing when reopened");
  }
  stream_ = format_->streams[index];
  checkAv(avcodec_parameters_copy(stream_->codecpar, first.stream_->codecpar), "avcodec_parameters_copy");
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    format_->streams[i]->discard = static_cast<int>(i) == index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
  // Demuxers with a generic index build it while reading; this lane has
  // read nothing, so it takes the index the scan built.
  if (timeline_ != nullptr) {
    for (const Timeline::IndexEntry& entry : timeline_->seekIndex()) {
      av_add_index_entry(stream_, entry.position, entry.timestamp, entry.size, entry.distance, entry.flags);
    }
  }
}

void Decoder::selectStream() {
  const int best = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (best >= 0 && isSampledVideo(format_->streams[best])) {
    stream_ = format_->streams[best];
  } else {
    for (unsigned i = 0; i < format_->nb_streams; ++i) {
      if (isSampledVideo(format_->streams[i])) {
        stream_ = format_->streams[i];
        break;
      }
    }
  }
  if (stream_ == nullptr) {
    throw Error(ErrorCode::NoVideoStream, input_->describe() + ": the file has no video stream");
  }
  if (avcodec_find_decoder(stream_->codecpar->codec_id) == nullptr) {
    throw Error(ErrorCode::UnsupportedInput,
                input_->describe() + ": no decoder for video codec " +
                    avcodec_get_name(stream_->codecpar->codec_id));
  }
  if (stream_->codecpar->width <= 0 || stream_->codecpar->height <= 0) {
    throw Error(ErrorCode::CorruptInput, input_->describe() + ": the video stream has no frame size");
  }
  // The demuxer then skips the other streams' data where it can.
  for (unsigned i = 0; i < format_->nb_streams; ++i) {
    format_->streams[i]->discard = static_cast<int>(i) == stream_->index ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
}

void Decoder::scan() {
  if (timeline_ != nullptr) {
    return;
  }
  auto timeline = std::make_shared<Timeline>(stream_->time_base);
  for (;;) {
    throwIfCancelled();
    const int ret = av_read_frame(format_.get(), packet_.get());
    if (ret == AVERROR_EOF) {
      break;
    }
    checkRead(ret, "truncated or corrupt data: av_read_frame");
    if (packet_->stream_index == stream_->index) {
      ++stats_.scanPackets;
      if ((packet_->flags & AV_PKT_FLAG_CORRUPT) != 0) {
        av_packet_unref(packet_.get());
        throw Error(ErrorCode::CorruptInput, "truncated or corrupt data: a video packet is incomplete");
      }
      timeline->addPacket(*packet_);
    }
    av_packet_unref(packet_.get());
  }
  // A codec that reorders frames in a container without pts leaves their
  // display times to be found from the packets after them (Timeline.h).
  timeline->finish(fallbackDuration(), stream_->codecpar->video_delay);
  if ((format_->iformat->flags & AVFMT_GENERIC_INDEX) != 0) {
    const int count = avformat_index_get_entries_count(stream_);
    for (int i = 0; i < count; ++i) {
      const AVIndexEntry* entry = avformat_index_get_entry(stream_, i);
      timeline->addIndexEntry({entry->pos, entry->timestamp, entry->size, entry->min_distance, entry->flags});
    }
  }
  checkDeclaredEnd(timeline->origin(), timeline->end());
  timeline_ = std::move(timeline);
  describeTimes(timeline_->origin(), timeline_->end(), timeline_->frameCount());
  info_.scanned = true;
  info_.variableFrameRate = timeline_->variableFrameRate();
  info_.keyframes = timeline_->keyframeTimes();
}

bool Decoder::planFromIndex(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window, Work& work) {
  if (mode == SamplingMode::Exact && !IndexPlanner::exactReadsLess(*stream_, times)) {
    rewind();
    return false;
  }
  try {
    work.targets = planner_->plan(mode, times, window, work.seekTimes);
    return true;
  } catch (const IndexPlanner::NotExact&) {
    // The scan reads from the first frame, wherever the planner stopped.
    work.seekTimes.clear();
    rewind();
    return false;
  }
}

void Decoder::rewind() {
  // The demuxer takes an offset of its own off a seek time, within the span
  // of the stream: a time that far before the first frame lands on it.
  const int count = avformat_index_get_entries_count(stream_);
  const int64_t first = avformat_index_get_entry(stream_, 0)->timestamp;
  const int64_t span = avformat_index_get_entry(stream_, count - 1)->timestamp - first;
  checkAv(av_seek_frame(format_.get(), stream_->index, first - span - 1, AVSEEK_FLAG_BACKWARD),
          "av_seek_frame(the first frame)", ErrorCode::CorruptInput);
}

int64_t Decoder::fallbackDuration() const {
  const AVRational rate = stream_->avg_frame_rate;
  return rate.num > 0 && rate.den > 0 ? av_rescale_q(1, av_inv_q(rate), stream_->time_base) : 1;
}

void Decoder::checkDeclaredEnd(int64_t origin, int64_t end) const {
  const double declaredEnd = declaredEndTime(origin);
  const double tb = av_q2d(stream_->time_base);
  const double foundEnd = static_cast<double>(end) * tb;
  const double declaredDuration = declaredEnd - static_cast<double>(origin) * tb;
  if (declaredEnd > 0 && declaredEnd - foundEnd > std::max(0.5, 0.02 * declaredDuration)) {
    throw Error(ErrorCode::CorruptInput, "truncated data: the video stream declares " +
                                             secondsText(declaredDuration) + " but its frames end at " +
                                             secondsText(static_cast<double>(end - origin) * tb));
  }
}

double Decoder::declaredEndTime(int64_t origin) const {
  const double tb = av_q2d(stream_->time_base);
  if (stream_->duration != AV_NOPTS_VALUE && stream_->duration > 0) {
    const int64_t start = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : origin;
    return static_cast<double>(start + stream_->duration) * tb;
  }
  // Matroska keeps where each track ends in a DURATION tag, "HH:MM:SS.nnn".
  const AVDictionaryEntry* tag = av_dict_get(stream_->metadata, "DURATION", nullptr, 0);
  int hours = 0;
  int minutes = 0;
  double seconds = 0;
  if (tag != nullptr && std::sscanf(tag->value, "%d:%d:%lf", &hours, &minutes, &seconds) == 3) {
    return hours * 3600.0 + minutes * 60.0 + seconds;
  }
  return 0;
}

void Decoder::describeStream(bool probed) {
  const AVCodecParameters* par = stream_->codecpar;
  info_.container = format_->iformat->name;
  info_.codec = avcodec_get_name(par->codec_id);
  if (probed) {
    const char* pixelFormat = av_get_pix_fmt_name(static_cast<AVPixelFormat>(par->format));
    info_.pixelFormat = pixelFormat != nullptr ? pixelFormat : "unknown";
  }
  info_.width = par->width;
  info_.height = par->height;
  info_.rotation = rotationOf(stream_);
  info_.bitRate = format_->bit_rate > 0 || probed ? format_->bit_rate : bitRateOfSize(*format_);
  describeColor();
}

namespace {

double ratio(AVRational value) { return value.den != 0 ? av_q2d(value) : 0; }

MasteringDisplay masteringDisplayOf(const AVMasteringDisplayMetadata& m) {
  MasteringDisplay out;
  if (m.has_primaries != 0) {
    // FFmpeg orders the primaries red, green, blue.
    for (int c = 0; c < 2; ++c) {
      out.red[c] = ratio(m.display_primaries[0][c]);
      out.green[c] = ratio(m.display_primaries[1][c]);
      out.blue[c] = ratio(m.display_primaries[2][c]);
      out.whitePoint[c] = ratio(m.white_point[c]);
    }
  }
  if (m.has_luminance != 0) {
    out.minLuminance = ratio(m.min_luminance);
    out.maxLuminance = ratio(m.max_luminance);
  }
  return out;
}

std::string colorName(const char* name, bool unspecified) {
  return unspecified || name == nullptr ? std::string() : std::string(name);
}

}  // namespace

void Decoder::describeColor() {
  const AVCodecParameters* par = stream_->codecpar;
  ColorInfo& color = info_.color;
  color.matrix = colorName(av_color_space_name(par->color_space), par->color_space == AVCOL_SPC_UNSPECIFIED);
  color.primaries = colorName(av_color_primaries_name(par->color_primaries), par->color_primaries == AVCOL_PRI_UNSPECIFIED);
  color.transfer = colorName(av_color_transfer_name(par->color_trc), par->color_trc == AVCOL_TRC_UNSPECIFIED);
  color.range = par->color_range == AVCOL_RANGE_JPEG ? "full" : par->color_range == AVCOL_RANGE_MPEG ? "limited" : "";
  size_t size = 0;
  if (const uint8_t* data = av_stream_get_side_data(stream_, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size);
      data != nullptr && size >= sizeof(AVMasteringDisplayMetadata)) {
    color.masteringDisplay = masteringDisplayOf(*reinterpret_cast<const AVMasteringDisplayMetadata*>(data));
  }
  if (const uint8_t* data = av_stream_get_side_data(stream_, AV_PKT_DATA_DOVI_CONF, &size);
      data != nullptr && size >= sizeof(AVDOVIDecoderConfigurationRecord)) {
    const auto* record = reinterpret_cast<const AVDOVIDecoderConfigurationRecord*>(data);
    color.dolbyVision = DolbyVision{record->dv_profile, record->dv_level, record->dv_bl_signal_compatibility_id};
  }
  if (const uint8_t* data = av_stream_get_side_data(stream_, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size);
      data != nullptr && size >= sizeof(AVContentLightMetadata)) {
    const auto* light = reinterpret_cast<const AVContentLightMetadata*>(data);
    color.contentLight = ContentLight{static_cast<int>(light->MaxCLL), static_cast<int>(light->MaxFALL)};
  }
}

bool Decoder::lacksHdrMetadata() const {
  const bool hdr = stream_->codecpar->color_trc == AVCOL_TRC_SMPTE2084 || stream_->codecpar->color_trc == AVCOL_TRC_ARIB_STD_B67;
  return hdr && !info_.color.masteringDisplay && !info_.color.contentLight;
}

double pqSourcePeakOf(const ColorInfo& color) {
  return pqSourcePeak(color.contentLight ? color.contentLight->maxCll : 0,
                      color.masteringDisplay ? color.masteringDisplay->maxLuminance : 0);
}

void Decoder::adoptHdrMetadata(const ColorInfo& color) {
  if (!info_.color.masteringDisplay) {
    info_.color.masteringDisplay = color.masteringDisplay;
  }
  if (!info_.color.contentLight) {
    info_.color.contentLight = color.contentLight;
  }
}

void Decoder::describeColorOf(const AVFrame* frame) {
  ColorInfo& color = info_.color;
  if (!color.masteringDisplay) {
    if (const AVFrameSideData* data = av_frame_get_side_data(frame, AV_FRAME_DATA_MASTERING_DISPLAY_METADATA)) {
      color.masteringDisplay = masteringDisplayOf(*reinterpret_cast<const AVMasteringDisplayMetadata*>(data->data));
    }
  }
  if (!color.contentLight) {
    if (const AVFrameSideData* data = av_frame_get_side_data(frame, AV_FRAME_DATA_CONTENT_LIGHT_LEVEL)) {
      const auto* light = reinterpret_cast<const AVContentLightMetadata*>(data->data);
      color.contentLight = ContentLight{static_cast<int>(light->MaxCLL), static_cast<int>(light->MaxFALL)};
    }
  }
}

void Decoder::describeTimes(int64_t origin, int64_t end, int32_t frameCount) {
  const double tb = av_q2d(stream_->time_base);
  origin_ = origin;
  info_.duration = static_cast<double>(end - origin) * tb;
  info_.startTime = static_cast<double>(origin) * tb;
  info_.frameCount = frameCount;
  info_.averageFrameRate = info_.duration > 0 ? frameCount / info_.duration : 0;
}

size_t Decoder::frameBytes() const {
  const OutputGeometry output = geometry();
  return static_cast<size_t>(output.width) * static_cast<size_t>(output.height) * 3;
}

OutputGeometry Decoder::geometry() const {
  if (work_ != nullptr && work_->geometry.width > 0) {
    return work_->geometry;
  }
  const Rect whole{0, 0, info_.width, info_.height};
  return OutputGeometry{info_.width, info_.height, whole, whole};
}

void Decoder::openCodec(bool threads) {
  const AVCodec* codec = avcodec_find_decoder(stream_->codecpar->codec_id);
  AVCodecContext* raw = avcodec_alloc_context3(codec);
  if (raw == nullptr) {
    throw Error(ErrorCode::Internal, "avcodec_alloc_context3: out of memory");
  }
  codec_.reset(raw);
  checkAv(avcodec_parameters_to_context(codec_.get(), stream_->codecpar), "avcodec_parameters_to_context");
  codec_->pkt_timebase = stream_->time_base;
  hooks_.maxPixels = work_->maxPixels;
  hooks_.frames = &framePool_;
  hooks_.attach(codec_.get());
  codec_->thread_count = threads ? 0 : 1;
  // Keyframe mode decodes single packets and drains after each: frame
  // threads would only add latency there.
  codec_->thread_type = work_->mode == SamplingMode::Exact ? FF_THREAD_FRAME | FF_THREAD_SLICE : FF_THREAD_SLICE;
  checkAv(avcodec_open2(codec_.get(), codec, nullptr), "avcodec_open2", ErrorCode::UnsupportedInput);
}

// ============================================================================
// Sampling
// ============================================================================

void Decoder::prepare(Planning planning) {
  if (timeline_ != nullptr || planner_ != nullptr) {
    return;
  }
  if (planning == Planning::IndexWhereExact && IndexPlanner::refusal(*format_, *stream_).empty()) {
    planReader_ = std::make_unique<PlanReader>(*this);
    try {
      planner_ = std::make_unique<IndexPlanner>(*stream_, *planReader_, fallbackDuration());
      checkDeclaredEnd(planner_->origin(), planner_->end());
      describeTimes(planner_->origin(), planner_->end(), planner_->frameCount());
      return;
    } catch (const IndexPlanner::NotExact&) {
      planner_.reset();
      planReader_.reset();
      rewind();
    }
  }
  scan();
}

int64_t Decoder::durationTicks() const {
  if (timeline_ != nullptr) {
    return timeline_->end() - timeline_->origin();
  }
  if (planner_ != nullptr) {
    return planner_->end() - planner_->origin();
  }
  throw Error(ErrorCode::Internal, "durationTicks: prepare() was not called");
}

std::shared_ptr<Work> Decoder::plan(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window) {
  if (timeline_ == nullptr && planner_ == nullptr) {
    throw Error(ErrorCode::Internal, "plan: prepare() was not called");
  }
  auto work = std::make_shared<Work>();
  work->mode = mode;
  const bool fromIndex = planner_ != nullptr && planFromIndex(mode, times, window, *work);
  planner_.reset();
  planReader_.reset();
  if (!fromIndex) {
    scan();
    work->targets = timeline_->plan(mode, times, window);
  }
  work->decodeEveryFrame = timeline_ != nullptr && timeline_->timedByDecoderOutput();
  for (size_t i = 0; i < work->targets.size(); ++i) {
    const Target& target = work->targets[i];
    if (i == 0 || mode == SamplingMode::Keyframe || target.startKeyPts != work->targets[i - 1].startKeyPts) {
      work->segmentStarts.push_back(i);
    }
    work->wantedPts.insert(target.pts);
  }
  work->segmentStarts.push_back(work->targets.size());
  return work;
}

void Decoder::start(std::shared_ptr<Work> work, bool codecThreads) {
  work_ = std::move(work);
  codecThreads_ = codecThreads;
  openCodec(codecThreads);
}

bool Decoder::next(uint8_t* rgb, size_t capacity, OutputFrame& out) {
  if (!decodeNext(out)) {
    return false;
  }
  convertDecoded(rgb, capacity);
  return true;
}

bool Decoder::decodeNext(OutputFrame& out) {
  if (work_ == nullptr) {
    throw Error(ErrorCode::Internal, "next: start() was not called");
  }
  decoded_ = nullptr;
  if (cursor_ >= segmentEnd_ && remainingFrom_ < work_->targets.size()) {
    cursor_ = remainingFrom_;
    segmentEnd_ = work_->targets.size();
    remainingFrom_ = SIZE_MAX;
  } else if (cursor_ >= segmentEnd_) {
    const size_t segment = work_->nextSegment.fetch_add(1);
    if (segment >= work_->segmentCount()) {
      return false;
    }
    cursor_ = work_->segmentStarts[segment];
    segmentEnd_ = work_->segmentStarts[segment + 1];
  }
  const Target& target = work_->targets[cursor_];
  // A variable-rate video can answer two targets with one frame: the frame
  // from the previous call is still in frame_.
  const AVFrame* frame = target.pts == lastOutputPts_ ? frame_.get() : decodeTarget(target);
  decoded_ = frame;
  if (lacksHdrMetadata()) {
    describeColorOf(frame);
  }
  lastOutputPts_ = target.pts;
  out.outputIndex = static_cast<int32_t>(cursor_);
  out.targetIndex = target.time;
  out.frameIndex = target.frameIndex;
  out.frameTime = target.frameTime;
  const OutputGeometry output = geometry();
  out.width = output.width;
  out.height = output.height;
  ++cursor_;
  return true;
}

void Decoder::convertDecoded(uint8_t* rgb, size_t capacity) {
  if (decoded_ == nullptr) {
    throw Error(ErrorCode::Internal, "convertDecoded: no frame was decoded");
  }
  convert(decoded_, rgb, capacity);
}

RgbBands Decoder::decodedBands() {
  if (decoded_ == nullptr) {
    throw Error(ErrorCode::Internal, "decodedBands: no frame was decoded");
  }
  return bandsOf(decoded_);
}

RgbBands Decoder::bandsOf(const AVFrame* frame) {
  const OutputGeometry output = geometry();
  const ToneMapper* toneMap = toneMapperFor(frame);
  const AVFrame* source = scalesInYuv(frame) ? scaleInYuv(frame) : frame;
  Rect crop;
  SwsContext* sws = converterFor(source, crop, toneMap != nullptr);
  return RgbBands(sws, source, crop, output.width, output.height, output.place, toneMap);
}

const ToneMapper* Decoder::toneMapperFor(const AVFrame* frame) {
  if (work_ == nullptr || !work_->toneMap) {
    return nullptr;
  }
  const AVCodecParameters& stream = *stream_->codecpar;
  ToneMapSettings settings;
  if (!hdrTransferOf(frame->color_trc != AVCOL_TRC_UNSPECIFIED ? frame->color_trc : stream.color_trc, settings.transfer)) {
    return nullptr;
  }
  // HDR video whose primaries are not given is BT.2020's.
  settings.primaries = frame->color_primaries != AVCOL_PRI_UNSPECIFIED ? frame->color_primaries
                       : stream.color_primaries != AVCOL_PRI_UNSPECIFIED ? stream.color_primaries
                                                                         : AVCOL_PRI_BT2020;
  settings.sourcePeak = settings.transfer == HdrTransfer::PQ ? work_->pqSourcePeak : 0;
  if (toneMapper_ == nullptr || !(toneMapper_->settings() == settings)) {
    toneMapper_ = std::make_unique<ToneMapper>(settings);
  }
  return toneMapper_.get();
}

DecodeStats Decoder::stats() const {
  DecodeStats stats = stats_;
  stats.bytesRead = format_ != nullptr ? input_->bytesFetched(*format_) : 0;
  stats.requests = input_->requestsMade();
  return stats;
}

// ============================================================================
// Demuxing and seeking
// ============================================================================

void Decoder::checkRead(int ret, const char* operation) const {
  if (ret < 0 && ret != AVERROR_EOF) {
    input_->throwIfFailed();
  }
  if (ret == AVERROR_EXIT) {
    throw Error(ErrorCode::Aborted, "aborted");
  }
  if (isUnreadable(ret)) {
    throw Error(ErrorCode::InputNotFound, input_->describe() + " could not be read: " + avErrorText(ret));
  }
  checkAv(ret, operation, ErrorCode::CorruptInput);
}

bool Decoder::readPacket() {
  for (;;) {
    throwIfCancelled();
    const int ret = av_read_frame(format_.get(), packet_.get());
    if (ret == AVERROR_EOF) {
      return false;
    }
    checkRead(ret, "av_read_frame");
    if (packet_->stream_index == stream_->index) {
      ++stats_.packetsRead;
      return true;
    }
    av_packet_unref(packet_.get());
  }
}

bool Decoder::readUntilKey(int64_t keyPts) {
  while (readPacket()) {
    const bool key = (packet_->flags & AV_PKT_FLAG_KEY) != 0;
    const int64_t time = Timeline::packetTime(*packet_);
    if (key && time == keyPts) {
      havePacket_ = true;
      return true;
    }
    av_packet_unref(packet_.get());
    if (key && time != AV_NOPTS_VALUE && time > keyPts) {
      return false;
    }
  }
  return false;
}

void Decoder::seekToKey(int64_t keyPts) {
  ++stats_.seeks;
  const bool fromStart = keyPts == Timeline::kStreamStart;
  // Ask for the keyframe's own time first: it lands on the keyframe in
  // containers indexed by pts or dts alike (a keyframe's dts <= its pts).
  // Demuxers that search timestamps approximately (MPEG-TS) may land past
  // it: then ask for pts - (the largest pts - dts seen), and from then on
  // first; then the previous keyframe, the first packet by time, and last
  // by byte position. Those need the scanned timeline; a plan from the index
  // is an MP4/MOV one, whose demuxer seeks by its index exactly.
  std::vector<int64_t> times;
  const auto learned = work_->seekTimes.find(keyPts);
  if (learned != work_->seekTimes.end()) {
    times.push_back(learned->second);
  }
  if (!fromStart && (!seeksOvershoot_ || timeline_ == nullptr) && (times.empty() || times.back() != keyPts)) {
    times.push_back(keyPts);
  }
  bool byteSeek = false;
  if (timeline_ != nullptr) {
    const int64_t delay = timeline_->maxReorderDelay();
    if (!fromStart) {
      times.push_back(keyPts - delay);
      const int64_t earlier = timeline_->decodeStartFor(keyPts - 1);
      if (earlier != Timeline::kStreamStart) {
        times.push_back(earlier - delay);
      }
    }
    times.push_back(timeline_->firstPacketTime() - delay);
    byteSeek = (format_->iformat->flags & AVFMT_NO_BYTE_SEEK) == 0 && timeline_->firstPacketPosition() >= 0;
  }
  const size_t attempts = times.size() + (byteSeek ? 1 : 0);
  int ret = 0;
  for (size_t attempt = 0; attempt < attempts; ++attempt) {
    if (attempt < times.size()) {
      ret = av_seek_frame(format_.get(), stream_->index, times[attempt], AVSEEK_FLAG_BACKWARD);
      if (ret < 0) {
        ret = avformat_seek_file(format_.get(), stream_->index, INT64_MIN, times[attempt], times[attempt], 0);
      }
    } else {
      ret = av_seek_frame(format_.get(), -1, timeline_->firstPacketPosition(), AVSEEK_FLAG_BYTE);
    }
    if (ret < 0) {
      continue;
    }
    avcodec_flush_buffers(codec_.get());
    chain_.restart();
    positioned_ = true;
    draining_ = false;
    havePacket_ = false;
    gopKeyPts_ = keyPts;
    lastDecodedPts_ = Timeline::kStreamStart;
    if (fromStart || readUntilKey(keyPts)) {
      return;
    }
    seeksOvershoot_ = true;
  }
  input_->throwIfFailed();
  throw Error(ErrorCode::CorruptInput, "cannot seek to the keyframe at " +
                                           secondsText(static_cast<double>(keyPts - origin_) * av_q2d(stream_->time_base)) +
                                           (ret < 0 ? ": " + avErrorText(ret) : std::string()));
}

// ============================================================================
// Decoding
// ============================================================================

bool Decoder::continueInGop(const Target& target) const {
  if (!positioned_ || draining_ || lastDecodedPts_ >= target.pts) {
    return false;
  }
  // A lane that decodes the stream through reaches every later frame so.
  return forward_ || target.startKeyPts <= gopKeyPts_;
}

const AVFrame* Decoder::decodeTarget(const Target& target) {
  const bool sequential = forward_ && continueInGop(target);
  Decoded first;
  if (sequential) {
    ++stats_.seeksAvoided;
    first = decodeForward(target, false);
  } else {
    first = work_->mode == SamplingMode::Exact ? decodeExact(target) : decodeKeyframe(target);
  }
  const AVFrame* frame =
      first.frame != nullptr && !first.damaged ? first.frame : sequential ? accept(first, target) : recover(target);
  chain_.forgetBefore(target.startKeyPts);
  return frame;
}

Decoder::Decoded Decoder::decodeExact(const Target& target) {
  expectReadsFor(target);
  if (continueInGop(target)) {
    ++stats_.seeksAvoided;
  } else {
    leaveRecoveryCodec();
    seekToKey(target.startKeyPts);
  }
  return decodeForward(target, true);
}

void Decoder::expectReadsFor(const Target& target) {
  if (target.startKeyPts == Timeline::kStreamStart || avformat_index_get_entries_count(stream_) < info_.frameCount) {
    return;
  }
  // The index's timestamps are decode times; a keyframe's is at most its pts.
  const int key = av_index_search_timestamp(stream_, target.startKeyPts, AVSEEK_FLAG_BACKWARD);
  // Exact mode reads the packets up to the last one decoded by the target's
  // time: every frame shown by then has a dts at or before it (IndexPlanner.h, G1).
  const int last = work_->mode == SamplingMode::Exact
                       ? av_index_search_timestamp(stream_, target.pts, AVSEEK_FLAG_BACKWARD | AVSEEK_FLAG_ANY)
                       : key;
  if (key < 0 || last < key) {
    return;
  }
  const AVIndexEntry* from = avformat_index_get_entry(stream_, key);
  const AVIndexEntry* to = avformat_index_get_entry(stream_, last);
  input_->expectReads(from->pos, to->pos + to->size);
}

Decoder::Decoded Decoder::decodeForward(const Target& target, bool mayDrainEarly) {
  // The last target of a segment is followed by a seek, so nothing decoded
  // after it is of use: once its packet is in, drain the decoder instead of
  // feeding it the frames its reordering delay would otherwise wait for.
  const bool lastOfSegment = mayDrainEarly && !work_->decodeEveryFrame && cursor_ + 1 == segmentEnd_;
  bool drainedEarly = false;
  for (;;) {
    throwIfCancelled();
    int ret = avcodec_receive_frame(codec_.get(), frame_.get());
    if (ret == 0) {
      ++stats_.framesDecoded;
      const int64_t pts = framePts(frame_.get());
      lastDecodedPts_ = pts;
      if (pts == target.pts) {
        return Decoded{frame_.get(), dependsOnDamage(frame_.get(), target), false};
      }
      noteDamage(frame_.get());
      av_frame_unref(frame_.get());
      if (pts > target.pts) {
        // The codec gave no frame of the target's time: one it did not
        // output (a picture it could not reconstruct) or a gap in the times.
        positioned_ = false;
        throwIfFrameRefused();
        return Decoded{};
      }
      continue;
    }
    if (ret == AVERROR_EOF && drainedEarly) {
      // The target's packet did not give a frame of its time (a container
      // whose packet and frame times differ): decode it again the long way.
      drainEarly_ = false;
      drainedEarly = false;
      seekToKey(target.startKeyPts);
      continue;
    }
    if (ret == AVERROR_EOF) {
      positioned_ = false;
      throwIfFrameRefused();
      return Decoded{nullptr, false, true};
    }
    if (ret == AVERROR_INVALIDDATA) {
      // A packet that frame threads decoded earlier failed: damage, found
      // in the codec's log and the frames' flags too.
      throwIfFrameRefused();
      ++stats_.decodeErrors;
      chain_.damaged(packetNumber_);
    } else if (ret != AVERROR(EAGAIN)) {
      checkDecode(ret, "avcodec_receive_frame");
    }
    if (!havePacket_ && !readPacket()) {
      checkDecode(avcodec_send_packet(codec_.get(), nullptr), "avcodec_send_packet(flush)");
      draining_ = true;
      continue;
    }
    havePacket_ = false;
    const int64_t time = Timeline::packetTime(*packet_);
    if ((packet_->flags & AV_PKT_FLAG_KEY) != 0) {
      gopKeyPts_ = time;
    }
    // A non-reference frame is needed only when it is a target itself; a
    // sequential decode has it all the same (see restartCodec).
    const bool wanted = recoveryCodec_ || work_->decodeEveryFrame || work_->wantedPts.count(time) != 0;
    codec_->skip_frame = wanted ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
    ret = sendPacket();
    if (ret == AVERROR_INVALIDDATA) {
      throwIfFrameRefused();
      ++stats_.decodeErrors;
      continue;
    }
    checkDecode(ret, "avcodec_send_packet");
    if (lastOfSegment && drainEarly_ && time == target.pts) {
      checkDecode(avcodec_send_packet(codec_.get(), nullptr), "avcodec_send_packet(flush)");
      draining_ = true;
      drainedEarly = true;
    }
  }
}

Decoder::Decoded Decoder::decodeKeyframe(const Target& target) {
  // Seeking skips the GOP in between; reading forward would read all of it.
  expectReadsFor(target);
  leaveRecoveryCodec();
  seekToKey(target.startKeyPts);
  havePacket_ = false;
  gopKeyPts_ = target.startKeyPts;
  codec_->skip_frame = AVDISCARD_DEFAULT;
  int ret = sendPacket();
  if (ret == AVERROR_INVALIDDATA) {
    throwIfFrameRefused();
    ++stats_.decodeErrors;
  } else {
    checkDecode(ret, "avcodec_send_packet");
  }
  // Drain so that a codec with reordering delay gives the frame up now.
  checkDecode(avcodec_send_packet(codec_.get(), nullptr), "avcodec_send_packet(flush)");
  ret = avcodec_receive_frame(codec_.get(), frame_.get());
  Decoded decoded;
  if (ret == 0) {
    ++stats_.framesDecoded;
    decoded = Decoded{frame_.get(), dependsOnDamage(frame_.get(), target), false};
  } else if (ret != AVERROR_EOF && ret != AVERROR(EAGAIN) && ret != AVERROR_INVALIDDATA) {
    checkDecode(ret, "avcodec_receive_frame");
  }
  avcodec_flush_buffers(codec_.get());
  // Drained: a later target seeks, whatever it is.
  draining_ = true;
  throwIfFrameRefused();
  return decoded;
}

const AVFrame* Decoder::recover(const Target& target) {
  ++stats_.seekRecoveries;
  if (timeline_ == nullptr) {
    // Planned from the index: the keyframe before is known once scanned.
    rewind();
    scan();
  }
  const int64_t before = target.startKeyPts == Timeline::kStreamStart ? Timeline::kStreamStart
                                                                      : timeline_->keyBefore(target.startKeyPts);
  if (before != Timeline::kStreamStart) {
    restartCodec();
    seekToKey(before);
    const Decoded earlier = decodeForward(target, false);
    if (earlier.frame != nullptr && !earlier.damaged) {
      return earlier.frame;
    }
  }
  restartCodec();
  seekToKey(Timeline::kStreamStart);
  const Decoded sequential = decodeForward(target, false);
  // After damage of the stream's own, seeking resumes the first time (see
  // the header comment); otherwise seeks are what fails, and this lane goes
  // on without them.
  const bool streamDamage = sequential.frame == nullptr || sequential.damaged;
  if (!streamDamage || work_->streamDamageRecoveries.fetch_add(1) > 0) {
    takeRemainingSegments();
  }
  return accept(sequential, target);
}

const AVFrame* Decoder::accept(const Decoded& decoded, const Target& target) {
  if (decoded.frame == nullptr) {
    throwIfFrameRefused();
    const std::string time = secondsText(target.frameTime);
    throw Error(ErrorCode::CorruptInput, work_->mode == SamplingMode::Keyframe
                                             ? "the keyframe at " + time + " could not be decoded"
                                         : decoded.ended ? "the video ended before the frame at " + time + " was decoded"
                                                         : "the frame at " + time + " could not be decoded");
  }
  if (decoded.damaged) {
    ++stats_.damagedFrames;
  }
  return decoded.frame;
}

void Decoder::restartCodec() {
  reopenCodec(false);
  recoveryCodec_ = true;
}

void Decoder::leaveRecoveryCodec() {
  if (recoveryCodec_) {
    reopenCodec(codecThreads_);
    recoveryCodec_ = false;
  }
}

void Decoder::reopenCodec(bool threads) {
  av_frame_unref(frame_.get());
  codec_.reset();
  openCodec(threads);
  chain_.restart();
  hooks_.takeLoggedPackets();
  positioned_ = false;
  draining_ = false;
  havePacket_ = false;
  lastDecodedPts_ = Timeline::kStreamStart;
}

void Decoder::takeRemainingSegments() {
  forward_ = true;
  const size_t next = work_->nextSegment.exchange(work_->segmentCount());
  if (next < work_->segmentCount()) {
    remainingFrom_ = work_->segmentStarts[next];
  }
}

int Decoder::sendPacket() {
  const int64_t number = ++packetNumber_;
  codec_->reordered_opaque = number;
  chain_.sent(number, Timeline::packetTime(*packet_), (packet_->flags & AV_PKT_FLAG_KEY) != 0);
  const int ret = avcodec_send_packet(codec_.get(), packet_.get());
  av_packet_unref(packet_.get());
  if (ret == AVERROR_INVALIDDATA) {
    chain_.damaged(number);
  }
  return ret;
}

void Decoder::noteDamage(const AVFrame* frame) {
  if (frame->decode_error_flags != 0 || (frame->flags & AV_FRAME_FLAG_CORRUPT) != 0) {
    chain_.damaged(frame->reordered_opaque);
  }
}

bool Decoder::dependsOnDamage(const AVFrame* frame, const Target& target) {
  for (const int64_t packet : hooks_.takeLoggedPackets()) {
    chain_.damaged(packet);
  }
  noteDamage(frame);
  return chain_.dependsOnDamage(frame->reordered_opaque, target.startKeyPts);
}

void Decoder::checkDecode(int ret, const char* what) const {
  if (ret < 0) {
    throwIfFrameRefused();
    checkAv(ret, what, ErrorCode::CorruptInput);
  }
}

void Decoder::throwIfFrameRefused() const {
  const int64_t width = hooks_.refusedWidth;
  const int64_t height = hooks_.refusedHeight;
  if (width > 0) {
    throw Error(ErrorCode::LimitExceeded, "the video's " + std::to_string(width) + "x" + std::to_string(height) +
                                              " frames have " + std::to_string(width * height) +
                                              " pixels, more than the limit of " +
                                              std::to_string(hooks_.maxPixels) + " (maxPixels)");
  }
}

int64_t Decoder::framePts(const AVFrame* frame) const {
  const int64_t pts = frame->pts != AV_NOPTS_VALUE ? frame->pts : frame->best_effort_timestamp;
  if (pts != AV_NOPTS_VALUE || timeline_ == nullptr || lastDecodedPts_ == Timeline::kStreamStart) {
    return pts;
  }
  // Frames come out in display order: one without a time after one with a
  // time (an anchor given up only when the decoder is drained) is the frame
  // shown next.
  return timeline_->shownAfter(lastDecodedPts_);
}

bool Decoder::scalesInYuv(const AVFrame* frame) const {
  const OutputGeometry output = geometry();
  if (output.place.width == info_.width && output.place.height == info_.height &&
      output.crop.width == info_.width && output.crop.height == info_.height) {
    return false;
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame->format));
  return desc != nullptr && desc->nb_components >= 3 && desc->comp[0].depth == 8 &&
         (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)) == 0;
}

const AVFrame* Decoder::scaleInYuv(const AVFrame* frame) {
  const auto format = static_cast<AVPixelFormat>(frame->format);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
  const Rect place = geometry().place;
  const Rect crop = cropOf(frame);
  if (scaled_ == nullptr || scaled_->width != place.width || scaled_->height != place.height) {
    scaled_.reset(av_frame_alloc());
    if (scaled_ == nullptr) {
      throw Error(ErrorCode::Internal, "scaleInYuv: out of memory");
    }
    scaled_->format = AV_PIX_FMT_YUV444P;
    scaled_->width = place.width;
    scaled_->height = place.height;
    checkAv(av_frame_get_buffer(scaled_.get(), 0), "av_frame_get_buffer", ErrorCode::Internal);
  }
  scaleSws_.reset(sws_getCachedContext(scaleSws_.release(), crop.width, crop.height, format, place.width,
                                       place.height, AV_PIX_FMT_YUV444P, SWS_LANCZOS | SWS_ACCURATE_RND, nullptr,
                                       nullptr, nullptr));
  if (scaleSws_ == nullptr) {
    throw Error(ErrorCode::Internal, std::string("sws_getCachedContext: cannot scale ") +
                                         (av_get_pix_fmt_name(format) ? av_get_pix_fmt_name(format) : "?"));
  }
  // YUV to YUV with the samples' range kept as it is: the conversion to RGB
  // applies the frame's range and matrix, which scaled_ carries.
  const int* coefficients = sws_getCoefficients(SWS_CS_DEFAULT);
  sws_setColorspaceDetails(scaleSws_.get(), coefficients, 0, coefficients, 0, 0, 1 << 16, 1 << 16);
  const uint8_t* slice[4] = {nullptr, nullptr, nullptr, nullptr};
  for (int plane = 0; plane < 4 && frame->data[plane] != nullptr; ++plane) {
    const bool chroma = plane == 1 || plane == 2;
    int step = 1;
    for (int c = 0; c < desc->nb_components; ++c) {
      if (desc->comp[c].plane == plane) {
        step = desc->comp[c].step;
        break;
      }
    }
    const ptrdiff_t row = static_cast<ptrdiff_t>(crop.y >> (chroma ? desc->log2_chroma_h : 0)) * frame->linesize[plane];
    const ptrdiff_t column = static_cast<ptrdiff_t>(crop.x >> (chroma ? desc->log2_chroma_w : 0)) * step;
    slice[plane] = frame->data[plane] + row + column;
  }
  checkAv(av_frame_make_writable(scaled_.get()), "av_frame_make_writable", ErrorCode::Internal);
  const int written = sws_scale(scaleSws_.get(), slice, frame->linesize, 0, crop.height, scaled_->data, scaled_->linesize);
  if (written < 0) {
    checkAv(written, "sws_scale");
  }
  if (written != place.height) {
    throw Error(ErrorCode::Internal, "sws_scale: gave back another number of rows than the image has");
  }
  scaled_->color_range = frame->color_range;
  scaled_->colorspace = frame->colorspace;
  return scaled_.get();
}

Rect Decoder::cropOf(const AVFrame* frame) const {
  if (frame == scaled_.get()) {
    // Scaled already (scaleInYuv): converted whole, at the place's size.
    return Rect{0, 0, frame->width, frame->height};
  }
  if (frame->width != info_.width || frame->height != info_.height) {
    // A frame of another size than the video's (a stream that changes size) is scaled whole.
    return Rect{0, 0, frame->width, frame->height};
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame->format));
  if (desc == nullptr) {
    throw Error(ErrorCode::Internal, "cropOf: unknown pixel format");
  }
  // The crop starts on a chroma sample, so that its planes start together.
  Rect crop = geometry().crop;
  const int alignX = (1 << desc->log2_chroma_w) - 1;
  const int alignY = (1 << desc->log2_chroma_h) - 1;
  crop.width += crop.x & alignX;
  crop.height += crop.y & alignY;
  crop.x &= ~alignX;
  crop.y &= ~alignY;
  return crop;
}

SwsContext* Decoder::converterFor(const AVFrame* frame, Rect& crop, bool toneMapped) {
  const auto format = static_cast<AVPixelFormat>(frame->format);
  if (av_pix_fmt_desc_get(format) == nullptr) {
    throw Error(ErrorCode::Internal, "converterFor: unknown pixel format");
  }
  const OutputGeometry output = geometry();
  const bool scaled = output.place.width != info_.width || output.place.height != info_.height ||
                      output.crop.width != info_.width || output.crop.height != info_.height;
  crop = cropOf(frame);
  // Scaling to another size filters with Lanczos (sharp's default); a conversion at the coded size is as before.
  const int flags = scaled ? SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT : SWS_BICUBIC;
  const AVPixelFormat rgb = toneMapped ? AV_PIX_FMT_GBRP16 : AV_PIX_FMT_RGB24;
  sws_.reset(sws_getCachedContext(sws_.release(), crop.width, crop.height, format, output.place.width,
                                  output.place.height, rgb, flags, nullptr, nullptr, nullptr));
  if (sws_ == nullptr) {
    throw Error(ErrorCode::Internal, std::string("sws_getCachedContext: cannot convert from ") +
                                         (av_get_pix_fmt_name(format) ? av_get_pix_fmt_name(format) : "?"));
  }
  // Use the frame's own colour matrix and range, as FFmpeg's scale filter does.
  const int fullRange = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
  // HDR video whose matrix is not given is BT.2020's (non-constant luminance).
  const int matrix = toneMapped && frame->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_BT2020 : frame->colorspace;
  sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(matrix), fullRange,
                           sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
  return sws_.get();
}

// Band by band, never by swscale straight into `rgb`: its rows are packed,
// and swscale needs padded ones (RgbBands).
void Decoder::convert(const AVFrame* frame, uint8_t* rgb, size_t capacity) {
  if (capacity < frameBytes()) {
    throw Error(ErrorCode::Internal, "next: the destination buffer is smaller than one frame");
  }
  const size_t rowBytes = static_cast<size_t>(geometry().width) * 3;
  RgbBands bands = bandsOf(frame);
  for (RgbBand band = bands.next(); band.count > 0; band = bands.next()) {
    for (int row = 0; row < band.count; ++row) {
      std::memcpy(rgb, band.rows + static_cast<size_t>(row) * band.stride, rowBytes);
      rgb += rowBytes;
    }
  }
}

// ============================================================================
// RgbBands
// ============================================================================

#ifdef VSNAP_GUARD_BANDS

BandMemory::BandMemory(size_t size) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t pages = (size + page - 1) / page;
  mappingSize_ = (pages + 1) * page;
  mapping_ = mmap(nullptr, mappingSize_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    throw Error(ErrorCode::Internal, "BandMemory: mmap failed");
  }
  uint8_t* guard = static_cast<uint8_t*>(mapping_) + pages * page;
  if (mprotect(guard, page, PROT_NONE) != 0) {
    munmap(mapping_, mappingSize_);
    throw Error(ErrorCode::Internal, "BandMemory: mprotect failed");
  }
  data_ = guard - size;
}

BandMemory::~BandMemory() { munmap(mapping_, mappingSize_); }

#else

BandMemory::BandMemory(size_t size) : storage_(size), data_(storage_.data()) {}

BandMemory::~BandMemory() = default;

#endif

// Rows padded to a multiple of 16 pixels take whole stores of swscale's
// x86 RGB24 writers (8 pixels at a time for MMX, 16 for SSSE3); the spare
// bytes after the last row are a margin beyond that.
constexpr int kRowAlignPixels = 16;
constexpr size_t kSpareBytes = 64;

namespace {

bool sameRect(const Rect& a, const Rect& b) {
  return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
}

// Whether the conversion keeps the frame as it is, size and all: then it
// goes to swscale in slices (see the class comment).
bool converts(const AVFrame* frame, const Rect& crop, int width, int height, const Rect& place) {
  const Rect whole{0, 0, width, height};
  return frame->width == width && frame->height == height && sameRect(crop, whole) && sameRect(place, whole);
}

}  // namespace

// At the video's size a conversion filters rows only to fill in chroma,
// and holds back a few rows at most (the bicubic filter's reach): the band
// holds four slices. A scaled one goes in one slice into a band of the
// whole image, black where `place` leaves it.
RgbBands::RgbBands(SwsContext* sws, const AVFrame* frame, const Rect& crop, int width, int height, const Rect& place,
                   const ToneMapper* toneMap)
    : sws_(sws),
      frame_(frame),
      crop_(crop),
      width_(width),
      height_(height),
      place_(place),
      sliceRows_(converts(frame, crop, width, height, place) ? kSliceRows : crop.height),
      capacityRows_(converts(frame, crop, width, height, place) ? std::min(height, kSliceRows * 4) : height),
      stride_(static_cast<size_t>(FFALIGN(width, kRowAlignPixels)) * 3),
      band_(stride_ * static_cast<size_t>(capacityRows_) + kSpareBytes),
      toneMap_(toneMap),
      planeStride_(toneMap != nullptr ? static_cast<size_t>(FFALIGN(width, kRowAlignPixels)) * 2 : 0),
      planeBytes_(planeStride_ * static_cast<size_t>(capacityRows_)),
      planes_(toneMap != nullptr ? planeBytes_ * 3 + kSpareBytes : 0) {}

void RgbBands::destinationsAt(ptrdiff_t row, int column, uint8_t* dst[4], int dstStride[4]) {
  dst[3] = nullptr;
  dstStride[3] = 0;
  if (toneMap_ == nullptr) {
    dst[0] = band_.data() + row * static_cast<ptrdiff_t>(stride_) + column * 3;
    dst[1] = dst[2] = nullptr;
    dstStride[0] = static_cast<int>(stride_);
    dstStride[1] = dstStride[2] = 0;
    return;
  }
  for (int plane = 0; plane < 3; ++plane) {
    dst[plane] = planes_.data() + static_cast<size_t>(plane) * planeBytes_ + row * static_cast<ptrdiff_t>(planeStride_) +
                 column * 2;
    dstStride[plane] = static_cast<int>(planeStride_);
  }
}

void RgbBands::toneMapRows(int count) {
  const uint8_t* g = planes_.data();
  const uint8_t* b = g + planeBytes_;
  const uint8_t* r = b + planeBytes_;
  for (int row = 0; row < count; ++row) {
    const size_t offset = static_cast<size_t>(row) * planeStride_;
    toneMap_->mapRow(reinterpret_cast<const uint16_t*>(g + offset), reinterpret_cast<const uint16_t*>(b + offset),
                     reinterpret_cast<const uint16_t*>(r + offset), band_.data() + static_cast<size_t>(row) * stride_,
                     width_);
  }
}

RgbBand RgbBands::next() {
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame_->format));
  if (desc == nullptr) {
    throw Error(ErrorCode::Internal, "RgbBands: unknown pixel format");
  }
  if (!converts(frame_, crop_, width_, height_, place_)) {
    if (emitted_ == height_) {
      return RgbBand{};
    }
    // The crop's first row and column in each plane.
    const uint8_t* slice[4] = {nullptr, nullptr, nullptr, nullptr};
    for (int plane = 0; plane < 4 && frame_->data[plane] != nullptr; ++plane) {
      const bool palette = plane == 1 && (desc->flags & AV_PIX_FMT_FLAG_PAL) != 0;
      const bool chroma = (plane == 1 || plane == 2) && (desc->flags & AV_PIX_FMT_FLAG_RGB) == 0;
      int step = 1;
      for (int c = 0; c < desc->nb_components; ++c) {
        if (desc->comp[c].plane == plane) {
          step = desc->comp[c].step;
          break;
        }
      }
      const ptrdiff_t row = static_cast<ptrdiff_t>(crop_.y >> (chroma ? desc->log2_chroma_h : 0)) * frame_->linesize[plane];
      const ptrdiff_t column = static_cast<ptrdiff_t>(crop_.x >> (chroma ? desc->log2_chroma_w : 0)) * step;
      slice[plane] = palette ? frame_->data[plane] : frame_->data[plane] + row + column;
    }
    uint8_t* dst[4];
    int dstStride[4];
    destinationsAt(place_.y, place_.x, dst, dstStride);
    const int written = sws_scale(sws_, slice, frame_->linesize, 0, crop_.height, dst, dstStride);
    if (written < 0) {
      checkAv(written, "sws_scale");
    }
    if (written != place_.height) {
      throw Error(ErrorCode::Internal, "sws_scale: gave back another number of rows than the image has");
    }
    if (toneMap_ != nullptr) {
      toneMapRows(height_);
    }
    emitted_ = height_;
    return RgbBand{band_.data(), stride_, height_};
  }
  while (emitted_ < height_ && fed_ < frame_->height) {
    const int sliceRows = std::min(sliceRows_, frame_->height - fed_);
    const uint8_t* slice[4] = {nullptr, nullptr, nullptr, nullptr};
    for (int plane = 0; plane < 4 && frame_->data[plane] != nullptr; ++plane) {
      // A palette (data[1] of a paletted format) is not a plane of rows.
      const bool palette = plane == 1 && (desc->flags & AV_PIX_FMT_FLAG_PAL) != 0;
      const int shift = (plane == 1 || plane == 2) ? desc->log2_chroma_h : 0;
      slice[plane] = palette ? frame_->data[plane]
                             : frame_->data[plane] + static_cast<ptrdiff_t>(fed_ >> shift) * frame_->linesize[plane];
    }
    // swscale writes output row r at dst + r * stride, counting from the
    // frame's top: aimed so, row emitted_ lands at the band's start.
    uint8_t* dst[4];
    int dstStride[4];
    destinationsAt(-static_cast<ptrdiff_t>(emitted_), 0, dst, dstStride);
    const int written = sws_scale(sws_, slice, frame_->linesize, fed_, sliceRows, dst, dstStride);
    fed_ += sliceRows;
    if (written < 0) {
      checkAv(written, "sws_scale");
    }
    if (written > capacityRows_ || emitted_ + written > height_) {
      throw Error(ErrorCode::Internal, "sws_scale: gave back more rows than a band holds");
    }
    if (written > 0) {
      if (toneMap_ != nullptr) {
        toneMapRows(written);
      }
      emitted_ += written;
      return RgbBand{band_.data(), stride_, written};
    }
  }
  if (emitted_ < height_) {
    throw Error(ErrorCode::Internal, "sws_scale: gave back fewer rows than the frame has");
  }
  return RgbBand{};
}

void Decoder::throwIfCancelled() const {
  if (cancel_ != nullptr && cancel_->load()) {
    throw Error(ErrorCode::Aborted, "aborted");
  }
}

}  // namespace vsnap
