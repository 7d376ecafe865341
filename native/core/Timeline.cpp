#include "Timeline.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "Error.h"

extern "C" {
#include <libavutil/avutil.h>
}

namespace vsnap {

namespace {

using Wide = __int128;

// Times are compared exactly: both sides scaled to the common denominator
// time_base.den * interval.den.
struct Scale {
  Wide ptsFactor;     // ticks -> common units
  Wide targetFactor;  // k -> common units
};

Scale commonScale(AVRational timeBase, AVRational interval) {
  return Scale{static_cast<Wide>(timeBase.num) * interval.den,
               static_cast<Wide>(interval.num) * timeBase.den};
}

}  // namespace

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
  const bool key = (packet.flags & AV_PKT_FLAG_KEY) != 0;
  if (key) {
    allKeyPts_.push_back(time);
  }
  if ((packet.flags & AV_PKT_FLAG_DISCARD) == 0) {
    pts_.push_back(time);
    key_.push_back(key);
    durations_.push_back(packet.duration);
  }
}

void Timeline::finish(int64_t fallbackDuration) {
  if (pts_.empty()) {
    throw Error(ErrorCode::CorruptInput, "the video stream has no frames");
  }
  std::vector<size_t> order(pts_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [this](size_t a, size_t b) { return pts_[a] < pts_[b]; });
  std::vector<int64_t> pts(order.size());
  std::vector<bool> key(order.size());
  std::vector<int64_t> durations(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    pts[i] = pts_[order[i]];
    key[i] = key_[order[i]];
    durations[i] = durations_[order[i]];
  }
  pts_ = std::move(pts);
  key_ = std::move(key);
  durations_ = std::move(durations);
  std::sort(allKeyPts_.begin(), allKeyPts_.end());

  int64_t lastDuration = durations_.back();
  if (lastDuration <= 0) {
    lastDuration = pts_.size() > 1 ? pts_.back() - pts_[pts_.size() - 2] : fallbackDuration;
  }
  end_ = pts_.back() + std::max<int64_t>(lastDuration, 1);
}

double Timeline::secondsSinceOrigin(int64_t pts) const {
  return static_cast<double>(pts - origin()) * timeBase_.num / timeBase_.den;
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
      times.push_back(std::round(secondsSinceOrigin(pts_[i]) * 1000) / 1000);
    }
  }
  return times;
}

int64_t Timeline::decodeStartFor(int64_t pts) const {
  auto it = std::upper_bound(allKeyPts_.begin(), allKeyPts_.end(), pts);
  return it == allKeyPts_.begin() ? kStreamStart : *(it - 1);
}

Target Timeline::targetFor(int32_t index) const {
  const int64_t pts = pts_[index];
  return Target{pts, index, std::round(secondsSinceOrigin(pts) * 1000) / 1000,
                key_[index] ? pts : decodeStartFor(pts)};
}

std::vector<Target> Timeline::plan(SamplingMode mode, AVRational interval) const {
  const Scale scale = commonScale(timeBase_, interval);
  auto relative = [&](size_t i) { return static_cast<Wide>(pts_[i] - origin()) * scale.ptsFactor; };
  const Wide end = static_cast<Wide>(end_ - origin()) * scale.ptsFactor;

  std::vector<Target> targets;
  switch (mode) {
    case SamplingMode::Exact: {
      size_t i = 0;
      for (Wide k = 0; k * scale.targetFactor < end; ++k) {
        const Wide t = k * scale.targetFactor;
        while (i + 1 < pts_.size() && relative(i + 1) <= t) {
          ++i;
        }
        targets.push_back(targetFor(static_cast<int32_t>(i)));
      }
      return targets;
    }
    case SamplingMode::Keyframe: {
      std::vector<size_t> keys;
      for (size_t i = 0; i < key_.size(); ++i) {
        if (key_[i]) {
          keys.push_back(i);
        }
      }
      if (keys.empty()) {
        throw Error(ErrorCode::CorruptInput, "the video stream has no keyframes");
      }
      size_t after = 0;  // first key whose time is > t
      for (Wide k = 0; k * scale.targetFactor < end; ++k) {
        const Wide t = k * scale.targetFactor;
        while (after < keys.size() && relative(keys[after]) <= t) {
          ++after;
        }
        size_t chosen;
        if (after == 0) {
          chosen = keys[0];
        } else if (after == keys.size()) {
          chosen = keys.back();
        } else {
          const size_t before = keys[after - 1];
          const size_t next = keys[after];
          chosen = t - relative(before) <= relative(next) - t ? before : next;
        }
        if (targets.empty() || targets.back().frameIndex != static_cast<int32_t>(chosen)) {
          targets.push_back(targetFor(static_cast<int32_t>(chosen)));
        }
      }
      return targets;
    }
  }
  throw Error(ErrorCode::Internal, "unknown sampling mode");
}

}  // namespace vsnap
