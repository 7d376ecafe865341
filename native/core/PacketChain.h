// PacketChain: the packets a Decoder sent to its codec since decoding last
// started afresh (a seek, or a new codec), in decode order, and which of
// them came back damaged. It answers whether a decoded frame can be
// trusted: a frame is as good as the packets it was decoded from.
//
// Which packets a frame of a GOP depends on, without parsing the codec's
// references: every packet from its keyframe's up to its own in decode
// order, except the leading pictures of an open GOP (decoded after the
// keyframe, shown before it), which reference the GOP before and nothing
// shown from the keyframe on depends on. After a seek straight to such a
// keyframe they are damaged by design; counting them would call every
// open-GOP seek damaged.
//
// Damage of a packet: the codec logged an error while decoding it
// (CodecHooks), refused it (AVERROR_INVALIDDATA), or gave a frame of it
// flagged corrupt or concealed (decode_error_flags). Packets are numbered
// by the Decoder; the numbers only grow, across restarts too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_set>

namespace vsnap {

class PacketChain {
 public:
  // Forgets every packet: the codec starts afresh.
  void restart();
  // A packet about to be sent: its number (for the codec's reordered_opaque),
  // its time (Timeline::packetTime; AV_NOPTS_VALUE when unknown) and key flag.
  void sent(int64_t number, int64_t time, bool key);
  void damaged(int64_t number);
  // Whether the frame of packet `number`, in the GOP of the keyframe whose
  // packet time is `keyTime` (Timeline::kStreamStart: decoded from the
  // stream's first packet), depends on a damaged packet.
  bool dependsOnDamage(int64_t number, int64_t keyTime) const;
  // Drops what no later frame of a GOP from `keyTime` on needs: the packets
  // before the last sent keyframe at or before it. Bounds the chain while
  // one codec decodes a long stretch without a seek.
  void forgetBefore(int64_t keyTime);

 private:
  struct Packet {
    int64_t number;
    int64_t time;
    bool key;
  };
  // Where the GOP of `keyTime` starts among packets_ (0: not among them).
  size_t gopStart(int64_t keyTime, int64_t upTo) const;

  std::deque<Packet> packets_;
  std::unordered_set<int64_t> damaged_;
};

}  // namespace vsnap
