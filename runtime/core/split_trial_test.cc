// SplitTrial: which mode each run uses, and what it keeps.
#include <doctest/doctest.h>

#include "core/split_trial.h"

namespace edgegen {
namespace {

// Runs until decided, the serial runs taking `serial_ns` and the split
// ones `split_ns`; returns how many runs were serial.
int run_trials(SplitTrial& trial, uint64_t split_ns, uint64_t serial_ns) {
  int serial_runs = 0;
  for (int run = 0; run < 2 * SplitTrial::kTrials + 1 && trial.deciding(); ++run) {
    const bool serial = trial.next_serial();
    serial_runs += serial;
    trial.record(serial ? serial_ns : split_ns);
  }
  return serial_runs;
}

TEST_CASE("SplitTrial: a small graph keeps the faster mode after three timings of each") {
  SplitTrial serial_wins;
  serial_wins.enable(true);
  CHECK_FALSE(serial_wins.next_serial());  // the first runs split, as prepared
  CHECK(run_trials(serial_wins, 20000, 14000) == SplitTrial::kTrials);  // then as many serial
  CHECK_FALSE(serial_wins.deciding());
  CHECK(serial_wins.next_serial());
  serial_wins.record(1);  // decided: later timings change nothing
  CHECK(serial_wins.next_serial());

  SplitTrial split_wins;
  split_wins.enable(true);
  run_trials(split_wins, 15000, 17000);
  CHECK_FALSE(split_wins.deciding());
  CHECK_FALSE(split_wins.next_serial());
}

TEST_CASE("SplitTrial: medians, not one stalled run, decide; a long first run keeps the threads") {
  SplitTrial trial;
  trial.enable(true);
  // A cold first run (ignored), five split runs still warming, one stalled,
  // then five serial ones.
  const uint64_t times[] = {400000, 66000, 9000000, 47000, 44000, 42000, 58000, 57000, 57500, 59000, 57000};
  for (uint64_t t : times) {
    CHECK(trial.deciding());
    trial.record(t);
  }
  CHECK_FALSE(trial.deciding());
  CHECK_FALSE(trial.next_serial());  // split median 47000 < serial 57500

  SplitTrial long_graph;
  long_graph.enable(true);
  long_graph.record(SplitTrial::kLongRunNs);
  CHECK_FALSE(long_graph.deciding());
  CHECK_FALSE(long_graph.next_serial());

  SplitTrial nothing_split;
  nothing_split.enable(false);  // one thread, or no op splits: no trials
  CHECK_FALSE(nothing_split.deciding());
  CHECK_FALSE(nothing_split.next_serial());
}

}  // namespace
}  // namespace edgegen
