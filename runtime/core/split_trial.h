// Whether a graph runs faster with its larger operators split across the
// worker threads or with every operator on the calling thread, measured on
// the machine it runs on (issue 12: more threads must never be slower).
//
// Splitting one op pays when its work outweighs the hand-off; but in a graph
// of ~20 us every op after a split one also reads data the other core
// wrote, and a small int8 decoder ran 20% slower at 2 threads than at 1.
// And on a machine whose cores are busy with other work, a split op waits
// for a descheduled worker (milliseconds). Per-op thresholds cannot see
// either; a few timed runs can: the graph's first run is split as
// prepared; if it took at least kLongRunNs the threads stay (a graph that
// large gains from them, and a serial trial would cost a whole slow run).
// Otherwise that first run only warms up (page faults, XNNPACK's first
// setup: 10x a warm run), the next kTrials runs are timed split, the
// kTrials after them serial, and the mode with the lower median is kept
// for the session's life. In blocks, not alternating: a split run right
// after a serial one finds the workers asleep and pays their wake-up on
// every op (a DCGAN that gains 1.7x from its threads was kept serial that
// way); and five of each, because the runs after the first are still
// warming (the digits GAN's split runs: 430, 66, 47, 44, 42 us). The bits
// do not depend on it (no sum's order depends on the split), only the
// time.
#pragma once

#include <cstdint>

namespace edgegen {

class SplitTrial {
 public:
  static constexpr uint64_t kLongRunNs = 50000000;  // 50 ms
  static constexpr int kTrials = 5;

  // Trials only for a graph that splits some op over more than one thread.
  void enable(bool graph_splits) { state_ = graph_splits ? State::kTrying : State::kSplit; }

  // The mode of the next run.
  bool next_serial() const {
    if (state_ == State::kSerial) return true;
    if (state_ != State::kTrying) return false;
    return warm_ && runs_ >= kTrials;  // the warm-up and kTrials split runs, then kTrials serial ones
  }
  bool deciding() const { return state_ == State::kTrying; }

  // The time of a run made in next_serial()'s mode.
  void record(uint64_t nanoseconds) {
    if (state_ != State::kTrying) return;
    if (!warm_) {
      warm_ = true;
      if (nanoseconds >= kLongRunNs) state_ = State::kSplit;
      return;
    }
    const uint32_t ns = nanoseconds > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(nanoseconds);
    if (runs_ < kTrials) split_[runs_] = ns;
    else serial_[runs_ - kTrials] = ns;
    if (++runs_ < 2 * kTrials) return;
    state_ = median(serial_) < median(split_) ? State::kSerial : State::kSplit;
  }

 private:
  enum class State : uint8_t { kSplit, kTrying, kSerial };

  static uint32_t median(const uint32_t (&t)[kTrials]) {
    uint32_t sorted[kTrials];
    for (int i = 0; i < kTrials; ++i) {  // insertion sort of five
      int j = i;
      for (; j > 0 && sorted[j - 1] > t[i]; --j) sorted[j] = sorted[j - 1];
      sorted[j] = t[i];
    }
    return sorted[kTrials / 2];
  }

  State state_ = State::kSplit;
  bool warm_ = false;
  uint8_t runs_ = 0;
  uint32_t split_[kTrials] = {}, serial_[kTrials] = {};
};

}  // namespace edgegen
