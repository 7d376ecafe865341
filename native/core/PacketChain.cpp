#include "PacketChain.h"

#include "Timeline.h"

extern "C" {
#include <libavutil/avutil.h>
}

namespace vsnap {

void PacketChain::restart() {
  packets_.clear();
  damaged_.clear();
}

void PacketChain::sent(int64_t number, int64_t time, bool key) { packets_.push_back(Packet{number, time, key}); }

void PacketChain::damaged(int64_t number) { damaged_.insert(number); }

size_t PacketChain::gopStart(int64_t keyTime, int64_t upTo) const {
  size_t start = 0;
  for (size_t i = 0; i < packets_.size() && packets_[i].number <= upTo; ++i) {
    if (packets_[i].key && packets_[i].time == keyTime) {
      start = i;
    }
  }
  return start;
}

bool PacketChain::dependsOnDamage(int64_t number, int64_t keyTime) const {
  if (damaged_.empty()) {
    return false;
  }
  for (size_t i = gopStart(keyTime, number); i < packets_.size() && packets_[i].number <= number; ++i) {
    const Packet& packet = packets_[i];
    const bool leading = keyTime != Timeline::kStreamStart && packet.time != AV_NOPTS_VALUE && packet.time < keyTime;
    if (!leading && damaged_.count(packet.number) != 0) {
      return true;
    }
  }
  return false;
}

void PacketChain::forgetBefore(int64_t keyTime) {
  if (keyTime == Timeline::kStreamStart || packets_.empty()) {
    return;
  }
  const size_t start = gopStart(keyTime, packets_.back().number);
  for (size_t i = 0; i < start; ++i) {
    damaged_.erase(packets_.front().number);
    packets_.pop_front();
  }
}

}  // namespace vsnap
