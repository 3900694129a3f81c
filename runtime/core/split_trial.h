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
// Otherwise the next runs alternate serial and split until each mode has
// kTrials timings, and the mode with the lower median is kept for the
// session's life. The bits do not depend on it (no sum's order depends on
// the split), only the time.
#pragma once

#include <cstdint>

namespace edgegen {

class SplitTrial {
 public:
  static constexpr uint64_t kLongRunNs = 50000000;  // 50 ms
  static constexpr int kTrials = 3;

  // Trials only for a graph that splits some op over more than one thread.
  void enable(bool graph_splits) { state_ = graph_splits ? State::kTrying : State::kSplit; }

  // The mode of the next run.
  bool next_serial() const {
    if (state_ == State::kSerial) return true;
    if (state_ != State::kTrying) return false;
    return runs_ % 2 == 1;  // split, serial, split, serial, ...
  }
  bool deciding() const { return state_ == State::kTrying; }

  // The time of a run made in next_serial()'s mode.
  void record(uint64_t nanoseconds) {
    if (state_ != State::kTrying) return;
    if (runs_ == 0 && nanoseconds >= kLongRunNs) {
      state_ = State::kSplit;
      return;
    }
    const uint32_t ns = nanoseconds > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(nanoseconds);
    if (runs_ % 2 == 1) serial_[runs_ / 2] = ns;
    else split_[runs_ / 2] = ns;
    if (++runs_ < 2 * kTrials) return;
    state_ = median(serial_) < median(split_) ? State::kSerial : State::kSplit;
  }

 private:
  enum class State : uint8_t { kSplit, kTrying, kSerial };

  static uint32_t median(const uint32_t (&t)[kTrials]) {
    const uint32_t a = t[0], b = t[1], c = t[2];
    return a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
  }

  State state_ = State::kSplit;
  uint8_t runs_ = 0;
  uint32_t split_[kTrials] = {}, serial_[kTrials] = {};
};

}  // namespace edgegen
