#include "Timeline.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "Error.h"

extern "C" {
#include <libavutil/avutil.h>
}

namespace vsnap {

namespace {

using Wide = __int128;

// A target in the stream's ticks since the origin: floor(t / time_base), and
// whether that is t exactly. Targets are >= 0, so truncation is the floor.
struct Ticks {
  Wide floor;
  bool whole;
};

Ticks ticksOf(Wide num, int64_t den, AVRational timeBase) {
  const Wide n = num * timeBase.den;
  const Wide d = static_cast<Wide>(den) * timeBase.num;
  return Ticks{n / d, n % d == 0};
}

// Whether `ticks` since the origin is at or before `t`, and before it.
bool atOrBefore(Wide ticks, const Ticks& t) { return ticks <= t.floor; }
bool before(Wide ticks, const Ticks& t) { return ticks < t.floor || (ticks == t.floor && !t.whole); }

}  // namespace

// The keyframes of a scanned timeline: every pts is known.
class Timeline::DisplayedKeyframes : public KeyframeSource {
 public:
  explicit DisplayedKeyframes(const Timeline& timeline) : timeline_(timeline) {
    for (size_t i = 0; i < timeline.key_.size(); ++i) {
      if (timeline.key_[i]) {
        indices_.push_back(static_cast<int32_t>(i));
      }
    }
  }
  size_t size() const override { return indices_.size(); }
  int64_t lowerBound(size_t i) const override { return timeline_.pts_[indices_[i]]; }
  int64_t pts(size_t i) override { return timeline_.pts_[indices_[i]]; }
  int32_t frameIndex(size_t i) const { return indices_[i]; }

 private:
  const Timeline& timeline_;
  std::vector<int32_t> indices_;
};

int64_t Timeline::packetTime(const AVPacket& packet) {
  return packet.pts != AV_NOPTS_VALUE ? packet.pts : packet.dts;
}

void Timeline::addPacket(const AVPacket& packet) {
  const int64_t time = packetTime(packet);
  if (time == AV_NOPTS_VALUE) {
    return;
  }
  if (firstPacketTime_ == INT64_MIN) {
    firstPacketTime_ = time;
    firstPacketPosition_ = packet.pos;
  }
  if (packet.pts != AV_NOPTS_VALUE && packet.dts != AV_NOPTS_VALUE) {
    maxReorderDelay_ = std::max(maxReorderDelay_, packet.pts - packet.dts);
  }
  packets_.push_back(Packet{time, packet.dts, packet.duration, packet.pts == AV_NOPTS_VALUE,
                            (packet.flags & AV_PKT_FLAG_KEY) != 0, (packet.flags & AV_PKT_FLAG_DISCARD) != 0});
}

void Timeline::finish(int64_t fallbackDuration, int reorderDelay) {
  // Display times, in decode order; an anchor without a pts is shown when
  // the next anchor is decoded.
  std::vector<int64_t> shown(packets_.size());
  int64_t nextAnchorDts = kStreamStart;
  if (!packets_.empty()) {
    const Packet& last = packets_.back();
    nextAnchorDts = last.time + (last.duration > 0 ? last.duration : std::max<int64_t>(fallbackDuration, 1));
  }
  const bool delayedAnchors = reorderDelay == 1;
  const bool noPts = std::all_of(packets_.begin(), packets_.end(), [](const Packet& packet) { return packet.ptsMissing; });
  timedByDecoderOutput_ = reorderDelay > 1 && noPts;
  if (timedByDecoderOutput_) {
    showAsDecoderOutputs(shown, static_cast<size_t>(reorderDelay), fallbackDuration);
  }
  for (size_t i = packets_.size(); i-- > 0 && !timedByDecoderOutput_;) {
    const Packet& packet = packets_[i];
    shown[i] = packet.time;
    if (!delayedAnchors || packet.dts == AV_NOPTS_VALUE) {
      continue;
    }
    if (packet.ptsMissing) {
      shown[i] = nextAnchorDts;
    }
    if (packet.ptsMissing || packet.time > packet.dts) {
      nextAnchorDts = packet.dts;
    }
  }

  std::vector<size_t> order;
  for (size_t i = 0; i < packets_.size(); ++i) {
    const Packet& packet = packets_[i];
    if (packet.key) {
      allKeys_.push_back(Keyframe{shown[i], packet.time});
    }
    if (!packet.discard) {
      order.push_back(i);
    }
  }
  if (order.empty()) {
    throw Error(ErrorCode::CorruptInput, "the video stream has no frames");
  }
  std::stable_sort(order.begin(), order.end(), [&shown](size_t a, size_t b) { return shown[a] < shown[b]; });
  for (size_t i : order) {
    pts_.push_back(shown[i]);
    packetTimes_.push_back(packets_[i].time);
    key_.push_back(packets_[i].key);
    durations_.push_back(packets_[i].duration);
  }
  std::stable_sort(allKeys_.begin(), allKeys_.end(),
                   [](const Keyframe& a, const Keyframe& b) { return a.pts < b.pts; });
  packets_.clear();
  packets_.shrink_to_fit();

  const int64_t previous = pts_.size() > 1 ? pts_[pts_.size() - 2] : kStreamStart;
  end_ = endOf(pts_.back(), durations_.back(), previous, fallbackDuration);
}

void Timeline::showAsDecoderOutputs(std::vector<int64_t>& shown, size_t delay, int64_t fallbackDuration) const {
  // Frame i of display order takes packet i + delay's time; the ones the
  // drain gives up take a frame's duration more each. A keyframe is shown
  // at its decode position, which is all the times need to place it.
  for (size_t i = 0; i < packets_.size(); ++i) {
    if (i + delay < packets_.size()) {
      shown[i] = packets_[i + delay].time;
      continue;
    }
    if (i == 0) {
      shown[i] = packets_[0].time;
      continue;
    }
    const int64_t duration = packets_[i - 1].duration;
    const int64_t gap = duration > 0 ? duration : i >= 2 ? shown[i - 1] - shown[i - 2] : fallbackDuration;
    shown[i] = shown[i - 1] + std::max<int64_t>(gap, 1);
  }
}

int64_t Timeline::endOf(int64_t lastPts, int64_t lastDuration, int64_t previousPts, int64_t fallbackDuration) {
  if (lastDuration <= 0) {
    lastDuration = previousPts != kStreamStart ? lastPts - previousPts : fallbackDuration;
  }
  return lastPts + std::max<int64_t>(lastDuration, 1);
}

double Timeline::frameTime(int64_t pts, int64_t origin, AVRational timeBase) {
  return std::round(static_cast<double>(pts - origin) * timeBase.num / timeBase.den * 1000) / 1000;
}

bool Timeline::variableFrameRate() const {
  if (pts_.size() < 3) {
    return false;
  }
  int64_t lo = INT64_MAX;
  int64_t hi = INT64_MIN;
  for (size_t i = 1; i < pts_.size(); ++i) {
    const int64_t gap = pts_[i] - pts_[i - 1];
    lo = std::min(lo, gap);
    hi = std::max(hi, gap);
  }
  // A time base coarser than the frame rate (30 fps in milliseconds) makes
  // gaps of 33 and 34 ticks: that is rounding, not a variable rate.
  return hi - lo > std::max<int64_t>(1, lo / 100);
}

std::vector<double> Timeline::keyframeTimes() const {
  std::vector<double> times;
  for (size_t i = 0; i < pts_.size(); ++i) {
    if (key_[i]) {
      times.push_back(frameTime(pts_[i], origin(), timeBase_));
    }
  }
  return times;
}

int64_t Timeline::decodeStartFor(int64_t pts) const {
  auto it = std::upper_bound(allKeys_.begin(), allKeys_.end(), pts,
                             [](int64_t value, const Keyframe& key) { return value < key.pts; });
  return it == allKeys_.begin() ? kStreamStart : (it - 1)->packet;
}

int64_t Timeline::keyBefore(int64_t keyPacket) const {
  for (size_t i = 1; i < allKeys_.size(); ++i) {
    if (allKeys_[i].packet == keyPacket) {
      return allKeys_[i - 1].packet;
    }
  }
  return kStreamStart;
}

int64_t Timeline::shownAfter(int64_t pts) const {
  auto it = std::upper_bound(pts_.begin(), pts_.end(), pts);
  return it == pts_.end() ? kStreamStart : *it;
}

Target Timeline::targetFor(int32_t index) const {
  const int64_t pts = pts_[index];
  return Target{pts, index, frameTime(pts, origin(), timeBase_), key_[index] ? packetTimes_[index] : decodeStartFor(pts)};
}

std::vector<Target> Timeline::plan(SamplingMode mode, const std::vector<TargetTime>& times, const Window& window) const {
  std::vector<Target> targets;
  switch (mode) {
    case SamplingMode::Exact:
      for (size_t k = 0; k < times.size(); ++k) {
        // A target is >= 0: the first frame, at the origin, is shown by then.
        const auto shown = std::upper_bound(pts_.begin(), pts_.end(), latestPtsAt(times[k], origin(), timeBase_));
        targets.push_back(targetFor(static_cast<int32_t>(std::max<ptrdiff_t>(shown - pts_.begin() - 1, 0))));
        targets.back().time = static_cast<int32_t>(k);
      }
      return targets;
    case SamplingMode::Keyframe: {
      DisplayedKeyframes keys(*this);
      for (const KeyframePick& pick : pickKeyframes(keys, timeBase_, origin(), times, window)) {
        targets.push_back(targetFor(keys.frameIndex(pick.key)));
        targets.back().time = pick.time;
      }
      return targets;
    }
  }
  throw Error(ErrorCode::Internal, "unknown sampling mode");
}

int64_t Timeline::latestPtsAt(const TargetTime& t, int64_t origin, AVRational timeBase) {
  const Wide latest = static_cast<Wide>(origin) + ticksOf(t.num, t.den, timeBase).floor;
  return latest > INT64_MAX ? INT64_MAX : static_cast<int64_t>(latest);
}

std::vector<KeyframePick> Timeline::pickKeyframes(KeyframeSource& keys, AVRational timeBase, int64_t origin,
                                            const std::vector<TargetTime>& times, const Window& window) {
  if (keys.size() == 0) {
    throw Error(ErrorCode::CorruptInput, "the video stream has no keyframes");
  }
  const Ticks windowStart = ticksOf(window.start.num, window.start.den, timeBase);
  const Ticks windowEnd = ticksOf(window.end.num, window.end.den, timeBase);
  auto inWindow = [&](size_t i) {
    const Wide ticks = static_cast<Wide>(keys.pts(i)) - origin;
    return !window.bounded || (!before(ticks, windowStart) && before(ticks, windowEnd));
  };
  std::vector<KeyframePick> chosen;
  std::unordered_set<size_t> taken;
  for (size_t k = 0; k < times.size(); ++k) {
    const TargetTime& t = times[k];
    const Ticks at = ticksOf(t.num, t.den, timeBase);
    // `after`, the first keyframe shown after t: every keyframe whose lower
    // bound is past t is, and of the others the last ones may be too.
    size_t lo = 0;
    size_t hi = keys.size();
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (atOrBefore(static_cast<Wide>(keys.lowerBound(mid)) - origin, at)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    size_t after = lo;
    while (after > 0 && !atOrBefore(static_cast<Wide>(keys.pts(after - 1)) - origin, at)) {
      --after;
    }
    size_t pick;
    if (after == 0) {
      pick = 0;
    } else if (after == keys.size()) {
      pick = after - 1;
    } else if (inWindow(after - 1) != inWindow(after)) {
      // The one shown in the window, where the other is not.
      pick = inWindow(after - 1) ? after - 1 : after;
    } else {
      // The nearer, the earlier on a tie: t - rel(a) <= rel(b) - t, that is
      // 2t <= rel(a) + rel(b). The later one's lower bound often settles it
      // without reading that keyframe.
      const Ticks twice = ticksOf(2 * static_cast<Wide>(t.num), t.den, timeBase);
      auto nearerEarlier = [&](int64_t laterPts) {
        const Wide sum = static_cast<Wide>(keys.pts(after - 1)) - origin + (static_cast<Wide>(laterPts) - origin);
        return twice.floor < sum || (twice.floor == sum && twice.whole);
      };
      pick = nearerEarlier(keys.lowerBound(after)) || nearerEarlier(keys.pts(after)) ? after - 1 : after;
    }
    if (taken.insert(pick).second) {
      chosen.push_back(KeyframePick{pick, static_cast<int32_t>(k)});
    }
  }
  return chosen;
}

}  // namespace vsnap
