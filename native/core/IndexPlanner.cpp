#include "IndexPlanner.h"

#include <algorithm>
#include <cstring>

extern "C" {
#include <libavcodec/codec_desc.h>
}

namespace vsnap {

namespace {

constexpr const char* kMovDemuxer = "mov,mp4,m4a,3gp,3g2,mj2";

// Whether the codec may show frames in another order than it decodes them.
bool reordersFrames(AVCodecID codec) {
  const AVCodecDescriptor* descriptor = avcodec_descriptor_get(codec);
  return descriptor == nullptr || (descriptor->props & AV_CODEC_PROP_REORDER) != 0;
}

// Codecs whose keyframes can be checked for G2 (see the header).
bool keyframesCheckable(AVCodecID codec) {
  if (!reordersFrames(codec)) {
    return true;
  }
  switch (codec) {
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_HEVC:
    case AV_CODEC_ID_MPEG1VIDEO:
    case AV_CODEC_ID_MPEG2VIDEO:
    case AV_CODEC_ID_MPEG4:
      return true;
    default:
      return false;
  }
}

// The size of the NAL unit length prefix that MP4 stores H.264 (avcC) and
// HEVC (hvcC) samples with, from the stream's configuration record; 0 when
// the record is not one.
int nalLengthSize(const AVCodecParameters& par) {
  const uint8_t* record = par.extradata;
  if (record == nullptr || record[0] != 1) {
    return 0;
  }
  if (par.codec_id == AV_CODEC_ID_H264 && par.extradata_size >= 7) {
    return (record[4] & 3) + 1;
  }
  if (par.codec_id == AV_CODEC_ID_HEVC && par.extradata_size >= 23) {
    return (record[21] & 3) + 1;
  }
  return 0;
}

// Whether a length-prefixed sample holds a NAL unit whose type `matches`.
template <typename Match>
bool hasNalUnit(const AVPacket& packet, int lengthSize, Match matches) {
  size_t position = 0;
  const auto size = static_cast<size_t>(packet.size);
  while (lengthSize > 0 && position + static_cast<size_t>(lengthSize) < size) {
    size_t length = 0;
    for (int i = 0; i < lengthSize; ++i) {
      length = (length << 8) | packet.data[position++];
    }
    if (length == 0 || length > size - position) {
      return false;
    }
    if (matches(packet.data[position])) {
      return true;
    }
    position += length;
  }
  return false;
}

}  // namespace

std::string IndexPlanner::refusal(const AVFormatContext& format, AVStream& stream) {
  if (std::strcmp(format.iformat->name, kMovDemuxer) != 0) {
    return "not an MP4/MOV demuxer";
  }
  const int count = avformat_index_get_entries_count(&stream);
  if (count <= 0 || count != stream.nb_frames) {
    return "the index does not list every sample once";
  }
  if (!keyframesCheckable(stream.codecpar->codec_id)) {
    return "the codec's keyframes cannot be checked";
  }
  int64_t previous = INT64_MIN;
  for (int i = 0; i < count; ++i) {
    const AVIndexEntry* entry = avformat_index_get_entry(&stream, i);
    if ((entry->flags & AVINDEX_DISCARD_FRAME) != 0) {
      return "an edit list discards frames";
    }
    if (entry->timestamp <= previous) {
      return "decode times do not increase";
    }
    if (i == 0 && (entry->flags & AVINDEX_KEYFRAME) == 0) {
      return "the first frame is not a keyframe";
    }
    previous = entry->timestamp;
  }
  return "";
}

IndexPlanner::IndexPlanner(AVStream& stream, PacketSource& packets, int64_t fallbackDuration)
    : stream_(stream), packets_(packets), reorders_(reordersFrames(stream.codecpar->codec_id)) {
  const int count = avformat_index_get_entries_count(&stream);
  for (int32_t i = 0; i < count; ++i) {
    const AVIndexEntry* entry = avformat_index_get_entry(&stream, i);
    const bool key = (entry->flags & AVINDEX_KEYFRAME) != 0;
    dts_.push_back(entry->timestamp);
    key_.push_back(key);
    if (key) {
      keys_.push_back(Keyframe{i, entry->timestamp});
    }
  }
  read(0, 0, nullptr);
  origin_ = keys_.front().earliest;
  findEnd(fallbackDuration);
}

std::vector<Target> IndexPlanner::plan(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window,
                                       std::unordered_map<int64_t, int64_t>& seekTimes) {
  std::vector<size_t> decodedFrom;
  std::vector<Target> targets =
      mode == SamplingMode::Exact ? planExact(times, decodedFrom) : planKeyframes(times, window, decodedFrom);
  // The offset is the demuxer's, one for the stream: its last correction holds for every keyframe.
  for (size_t key : decodedFrom) {
    seekTimes[keys_[key].pts] = keys_[key].dts + seekOffset_;
  }
  return targets;
}

std::vector<Target> IndexPlanner::planKeyframes(const std::vector<TargetTime>& times, const Window& window,
                                                std::vector<size_t>& decodedFrom) {
  std::vector<Target> targets;
  for (const KeyframePick& pick : Timeline::pickKeyframes(*this, stream_.time_base, origin_, times, window)) {
    const int64_t keyPts = pts(pick.key);
    const Keyframe& key = keys_[pick.key];
    targets.push_back(Target{keyPts, key.entry + key.leading, Timeline::frameTime(keyPts, origin_, stream_.time_base),
                             keyPts, pick.time});
    decodedFrom.push_back(pick.key);
  }
  return targets;
}

bool IndexPlanner::exactReadsLess(AVStream& stream, const std::vector<TargetTime>& times) {
  const int count = avformat_index_get_entries_count(&stream);
  std::vector<int64_t> dts;
  std::vector<int32_t> keys;  // decode positions
  for (int32_t i = 0; i < count; ++i) {
    const AVIndexEntry* entry = avformat_index_get_entry(&stream, i);
    dts.push_back(entry->timestamp);
    if ((entry->flags & AVINDEX_KEYFRAME) != 0) {
      keys.push_back(i);
    }
  }
  // As many targets as frames are denser than any plan worth it.
  if (static_cast<int64_t>(times.size()) >= count) {
    return false;
  }
  // Read in any case: the first keyframe and the last GOP. Times as decode
  // times (the plan's own are these shifted by a few frames), in order.
  std::vector<TargetTime> sorted = times;
  std::sort(sorted.begin(), sorted.end(), [](const TargetTime& a, const TargetTime& b) {
    return static_cast<__int128>(a.num) * b.den < static_cast<__int128>(b.num) * a.den;
  });
  int64_t reads = 1 + count - keys.back();
  int32_t readTo = 0;  // decode positions below it are counted
  for (size_t k = 0; k < sorted.size() && reads * 4 < count * 3; ++k) {
    const int64_t latest = Timeline::latestPtsAt(sorted[k], dts.front(), stream.time_base);
    const auto through = static_cast<int32_t>(std::upper_bound(dts.begin(), dts.end(), latest) - dts.begin()) - 1;
    const auto key = std::upper_bound(keys.begin(), keys.end(), through) - 1;
    const int32_t from = std::max(readTo, *key);
    if (through >= from) {
      reads += through - from + 1;
      readTo = through + 1;
    }
  }
  return reads * 4 < static_cast<int64_t>(count) * 3;
}

std::vector<Target> IndexPlanner::planExact(const std::vector<TargetTime>& times, std::vector<size_t>& decodedFrom) {
  const AVRational timeBase = stream_.time_base;
  std::vector<Target> targets;
  std::vector<Shown> frames;  // read from keyframe `key` on, decode order
  size_t key = keys_.size();
  // Extends `frames` to decode position `through`: on from where reading
  // is, or, where it went elsewhere (to the pts of the next keyframe), from
  // the keyframe again.
  auto readGopThrough = [&](int32_t through) {
    if (!readOn(keys_[key].entry + static_cast<int32_t>(frames.size()), through, frames)) {
      frames.clear();
      read(key, through, &frames);
    }
  };
  for (size_t k = 0; k < times.size(); ++k) {
    const int64_t latest = Timeline::latestPtsAt(times[k], origin_, timeBase);
    // The last frame with dts <= latest, and the last keyframe up to it.
    const auto through = static_cast<int32_t>(std::upper_bound(dts_.begin(), dts_.end(), latest) - dts_.begin()) - 1;
    auto candidate = std::upper_bound(keys_.begin(), keys_.end(), latest,
                                      [](int64_t time, const Keyframe& k) { return time < k.dts; });
    if (candidate == keys_.begin()) {
      throw NotExact("a target comes before the first frame is decoded");
    }
    size_t chosen = static_cast<size_t>(candidate - keys_.begin()) - 1;
    // A target just before the next keyframe is shown, as this one's pts -
    // dts predicts, is most likely still the current keyframe's: read the
    // frames up to it on (the next keyframe's among them) before reading
    // that keyframe's pts seeks away, so that they are not read twice.
    if (chosen == key + 1 && !keys_[chosen].read && latest < keys_[chosen].dts + (keys_[key].pts - keys_[key].dts)) {
      readGopThrough(through);
    }
    if (pts(chosen) > latest) {
      if (chosen == 0) {
        throw NotExact("a target comes before the first keyframe is shown");
      }
      --chosen;
    }
    if (chosen != key) {
      key = chosen;
      frames.clear();
      read(key, through, &frames);
      decodedFrom.push_back(key);
    } else {
      readGopThrough(through);
    }
    targets.push_back(exactTarget(key, frames, latest));
    targets.back().time = static_cast<int32_t>(k);
  }
  return targets;
}

Target IndexPlanner::exactTarget(size_t key, const std::vector<Shown>& frames, int64_t latest) const {
  const Keyframe& keyframe = keys_[key];
  const Shown* shown = nullptr;
  for (const Shown& frame : frames) {
    if (frame.pts <= latest && (shown == nullptr || frame.pts > shown->pts)) {
      shown = &frame;
    }
  }
  // The keyframe itself is among `frames`, with pts_K <= latest (checked on reading it).
  if (shown == nullptr) {
    throw NotExact("no frame read is shown by the target");
  }
  int32_t index = keyframe.entry + keyframe.leading;
  for (const Shown& frame : frames) {
    if (&frame != shown && frame.pts == shown->pts) {
      throw NotExact("two frames have the same pts");
    }
    if (frame.pts >= keyframe.pts && frame.pts < shown->pts) {
      ++index;
    }
  }
  return Target{shown->pts, index, Timeline::frameTime(shown->pts, origin_, stream_.time_base), keyframe.pts};
}

int64_t IndexPlanner::pts(size_t i) {
  if (!keys_[i].read) {
    read(i, keys_[i].entry, nullptr);
  }
  return keys_[i].pts;
}

const AVPacket& IndexPlanner::readKey(size_t i) {
  const Keyframe& key = keys_[i];
  if (nextEntry_ == key.entry) {
    return expectEntry(key.entry);
  }
  // Each miss tells which keyframe the guess reached; move it by the gap.
  for (int attempt = 0; attempt < 3; ++attempt) {
    packets_.seek(key.dts + seekOffset_);
    nextEntry_ = -1;
    const AVPacket* packet = packets_.next();
    if (packet == nullptr) {
      throw NotExact("a seek to a keyframe reached the end of the data");
    }
    if (packet->dts == key.dts) {
      nextEntry_ = key.entry + 1;
      return check(packet, key.entry);
    }
    auto landed = std::lower_bound(keys_.begin(), keys_.end(), packet->dts,
                                   [](const Keyframe& k, int64_t dts) { return k.dts < dts; });
    if (landed == keys_.end() || landed->dts != packet->dts) {
      break;
    }
    seekOffset_ += key.dts - landed->dts;
  }
  throw NotExact("cannot seek to a keyframe by its index time");
}

void IndexPlanner::read(size_t i, int32_t through, std::vector<Shown>* shown) {
  Keyframe& key = keys_[i];
  packets_.expectEntries(key.entry, std::max(key.entry, through));
  const AVPacket& packet = readKey(i);
  if (!showsAfterEarlierFrames(packet)) {
    throw NotExact("a keyframe may be shown before frames decoded ahead of it");
  }
  key.pts = packet.pts;
  key.earliest = packet.pts;
  key.leading = 0;
  if (i == 0 && !keys_[0].read) {
    // The demuxer's offset is most often the first frame's pts - dts.
    seekOffset_ = packet.pts - packet.dts;
  }
  if (shown != nullptr) {
    shown->push_back(Shown{packet.pts, packet.duration});
  }
  // Every later keyframe is shown after this one: by G1, from its dts.
  if (i + 1 < keys_.size() && keys_[i + 1].dts <= key.pts) {
    throw NotExact("keyframes are not shown in decode order");
  }
  const auto count = static_cast<int32_t>(dts_.size());
  for (int32_t j = key.entry + 1; j < count && (dts_[j] < key.pts || j <= through); ++j) {
    const AVPacket& follower = expectEntry(j);
    if (follower.pts < key.pts) {
      ++key.leading;
      key.earliest = std::min(key.earliest, follower.pts);
    }
    if (shown != nullptr) {
      shown->push_back(Shown{follower.pts, follower.duration});
    }
  }
  key.read = true;
}

bool IndexPlanner::readOn(int32_t from, int32_t through, std::vector<Shown>& shown) {
  if (from > through) {
    return true;
  }
  if (nextEntry_ != from) {
    return false;
  }
  packets_.expectEntries(from, through);
  for (int32_t j = from; j <= through; ++j) {
    const AVPacket& packet = expectEntry(j);
    shown.push_back(Shown{packet.pts, packet.duration});
  }
  return true;
}

const AVPacket& IndexPlanner::expectEntry(int32_t entry) {
  const AVPacket* packet = packets_.next();
  nextEntry_ = nextEntry_ == entry ? entry + 1 : -1;
  return check(packet, entry);
}

const AVPacket& IndexPlanner::check(const AVPacket* packet, int32_t entry) const {
  if (packet == nullptr) {
    throw NotExact("the data ends before a frame the index lists");
  }
  const bool key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
  if (packet->dts != dts_[entry] || key != key_[entry]) {
    throw NotExact("a packet read is not the frame the index lists");
  }
  if ((packet->flags & (AV_PKT_FLAG_DISCARD | AV_PKT_FLAG_CORRUPT)) != 0) {
    throw NotExact("a packet read is discarded or damaged");
  }
  if (packet->pts == AV_NOPTS_VALUE || packet->pts < packet->dts) {
    throw NotExact("a frame is shown before it is decoded");
  }
  // Such a codec's frames are shown in decode order only if the file agrees.
  if (!reorders_ && packet->pts != packet->dts) {
    throw NotExact("frames of a codec that does not reorder have pts other than dts");
  }
  return *packet;
}

bool IndexPlanner::showsAfterEarlierFrames(const AVPacket& packet) const {
  const AVCodecParameters& par = *stream_.codecpar;
  switch (par.codec_id) {
    case AV_CODEC_ID_H264:
      // An IDR picture (nal_unit_type 5).
      return hasNalUnit(packet, nalLengthSize(par), [](uint8_t header) { return (header & 0x1f) == 5; });
    case AV_CODEC_ID_HEVC:
      // An IRAP picture (BLA, IDR, CRA: nal_unit_type 16 to 23).
      return hasNalUnit(packet, nalLengthSize(par), [](uint8_t header) {
        const int type = (header >> 1) & 0x3f;
        return type >= 16 && type <= 23;
      });
    default:
      return keyframesCheckable(par.codec_id);
  }
}

void IndexPlanner::findEnd(int64_t fallbackDuration) {
  // By G2 on the last keyframe, the last frame shown is in its GOP.
  std::vector<Shown> shown;
  const size_t lastKey = keys_.size() - 1;
  read(lastKey, static_cast<int32_t>(dts_.size()) - 1, &shown);
  // The last two in display order; a sort keeps equal pts in decode order.
  const Shown* last = nullptr;
  const Shown* previous = nullptr;
  for (const Shown& frame : shown) {
    if (last == nullptr || frame.pts >= last->pts) {
      previous = last;
      last = &frame;
    } else if (previous == nullptr || frame.pts >= previous->pts) {
      previous = &frame;
    }
  }
  // The frame shown before the last is in this GOP too when it is not
  // shown before the keyframe; else only needed for a missing duration.
  int64_t previousPts = Timeline::kStreamStart;
  if (previous != nullptr && previous->pts >= keys_[lastKey].pts) {
    previousPts = previous->pts;
  } else if (dts_.size() > 1 && last->duration <= 0) {
    throw NotExact("the last frame has no duration and the frame before it is not in the last GOP");
  }
  end_ = Timeline::endOf(last->pts, last->duration, previousPts, fallbackDuration);
}

}  // namespace vsnap
