#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs
# each for a fixed time.
#   fuzz/run.sh                     every fuzzer 20 s (what scripts/test.sh runs)
#   fuzz/run.sh 3600                every fuzzer an hour
#   fuzz/run.sh 36000 fuzz_model    only the model fuzzer, ten hours
# Crashes, timeouts and out-of-memory inputs go to fuzz/findings/<fuzzer>/;
# the run fails if there is any. Each fuzzer's corpus grows in
# build-fuzz/corpus/<fuzzer>/ (kept between runs) from its seeds
# (build-fuzz/seeds/, made here from the examples, cli/testdata and ONNX's
# test models, and fuzz/seeds/) and the inputs of fuzz/regressions/<fuzzer>/,
# which every run replays. Logs and executions: build-fuzz/logs/.
#
# Environment: EDGEGEN (an edgegen binary to convert the seed models with;
# default build/edgegen, else one built in build-fuzz/), FUZZ_JOBS (build
# parallelism and how many fuzzers run at once, each on one core; default
# nproc), FUZZ_NO_BUILD=1 (run what is built).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
all_fuzzers=(fuzz_model fuzz_npy fuzz_rows fuzz_png fuzz_manifest fuzz_onnx)
fuzzers=("$@")
((${#fuzzers[@]})) || fuzzers=("${all_fuzzers[@]}")
build=build-fuzz
jobs=${FUZZ_JOBS:-$(nproc)}

# -O2 without NDEBUG: the runtime's debug assertions stay on.
if [[ -z ${FUZZ_NO_BUILD:-} ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O2 -g1" -DCMAKE_CXX_FLAGS_DEBUG="-O2 -g1" \
    -DEDGEGEN_FUZZ=ON -DEDGEGEN_BUILD_TESTS=OFF -DEDGEGEN_WITH_XNNPACK=OFF >/dev/null
  cmake --build "$build" -j"$jobs" --target "${fuzzers[@]}"
fi

# ---------------------------------------------------------------------------
# Seeds, made once (delete build-fuzz/seeds to remake them).
seeds=$build/seeds
if [[ ! -f $seeds/.done ]]; then
  rm -rf "$seeds"
  mkdir -p "$seeds"/{fuzz_model,fuzz_npy,fuzz_rows,fuzz_png,fuzz_manifest,fuzz_onnx}
  edgegen=${EDGEGEN:-build/edgegen}
  if [[ ! -x $edgegen ]]; then
    cmake --build "$build" -j"$jobs" --target edgegen
    edgegen=$build/edgegen
  fi
  # Models: the small example pipelines, and ONNX's node tests converted
  # (each a graph of one operator; those the converter refuses are skipped).
  for manifest in examples/energy_gaussian/manifest.json examples/anomaly_tabular/made_manifest.json \
                  examples/anomaly_tabular/flow_manifest.json tests/flow_layers/*/manifest.json \
                  examples/digits_vae/manifest.json examples/digits_gan/manifest.json; do
    name=$(echo "${manifest%.json}" | tr / _)
    "$edgegen" convert "$manifest" -o "$seeds/fuzz_model/$name.egm" --batch 1 >/dev/null 2>&1 || true
  done
  # The hand-made manifests of fuzz/seeds/ (decoder, VAE and diffusion
  # programs over tiny graphs), converted next to the graphs they name.
  graph_dir=$(mktemp -d)
  cp examples/energy_gaussian/*.onnx examples/anomaly_tabular/made.onnx tests/flow_layers/glow/*.onnx \
     fuzz/seeds/graphs/*.onnx fuzz/seeds/fuzz_manifest/*.json "$graph_dir/"
  for manifest in "$graph_dir"/*.json; do
    name=manifest_$(basename "${manifest%.json}")
    "$edgegen" convert "$manifest" -o "$seeds/fuzz_model/$name.egm" --batch 2 >/dev/null 2>&1 || true
  done
  rm -rf "$graph_dir"
  # A QDQ graph whose Add, Concat and Sigmoid become int8 operators.
  "$edgegen" convert fuzz/seeds/graphs/int8_block.onnx -o "$seeds/fuzz_model/int8_block.egm" >/dev/null 2>&1 || true
  onnx_tests=/usr/share/libonnx-testdata/data/node
  if [[ -d $onnx_tests ]]; then
    count=0
    for test in "$onnx_tests"/*/; do
      name=$(basename "$test")
      # Every tenth node test as an ONNX seed too (the importer's seeds).
      if (( count++ % 10 == 0 )); then cp "$test/model.onnx" "$seeds/fuzz_onnx/$name.onnx"; fi
    done
    # ~950 short conversions, `jobs` at a time.
    find "$onnx_tests" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort |
      xargs -P "$jobs" -I{} "$edgegen" convert "$onnx_tests/{}/model.onnx" -o "$seeds/fuzz_model/{}.egm" \
      >/dev/null 2>&1 || true
  fi
  cp examples/energy_gaussian/*.onnx tests/flow_layers/glow/*.onnx fuzz/seeds/graphs/*.onnx "$seeds/fuzz_onnx/"
  cp cli/testdata/*.npy "$seeds/fuzz_npy/"
  # Row-reader inputs start with a control byte (see fuzz_rows.cc): .npy
  # files with bit 0 set and their row width in bits 3..6.
  for npy in cli/testdata/float32_2x3.npy cli/testdata/int32_2x2.npy cli/testdata/uint8_2x2.npy \
             cli/testdata/float64_3.npy; do
    case $npy in *2x3*) width=3 ;; *2x2*) width=2 ;; *) width=3 ;; esac
    { printf "\\$(printf %03o $(( 1 | (width - 1) << 3 )))"; cat "$npy"; } >"$seeds/fuzz_rows/$(basename "$npy")"
  done
  for example in examples/*/manifest.json examples/*/*_manifest.json tests/flow_layers/*/manifest.json; do
    cp "$example" "$seeds/fuzz_manifest/$(echo "${example%.json}" | tr / _).json"
  done
  # The largest models are cut by -max_len; only what fits is a seed.
  find "$seeds/fuzz_model" -size +128k -delete
  touch "$seeds/.done"
fi

# ---------------------------------------------------------------------------
# Per fuzzer: the longest input, and a dictionary when there is one.
max_len() {
  case $1 in
    # Structure, not weights: inputs of 100s of KiB (the example VAE) ran at
    # a fifth of the speed, and the tiny hand-made pipelines cover the same code.
    fuzz_model) echo 131072 ;;
    fuzz_onnx) echo 65536 ;;
    fuzz_png) echo 16384 ;;
    *) echo 8192 ;;
  esac
}

# allocator_may_return_null + max_allocation_size_mb: a corrupt model that
# claims a huge arena must get the runtime's out-of-memory status, as on a
# device; -malloc_limit_mb above that cap, so libFuzzer never reports the
# attempt itself. handle_abort: our oracles abort() with a message.
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=1024:detect_leaks=1:handle_abort=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p "$build/logs"

# One fuzzer for `seconds`; its status (ok / FOUND) goes to its .status file.
# libFuzzer runs one process on one core, so FUZZ_JOBS of them run at once.
run_fuzzer() {
  local fuzzer=$1 corpus=$build/corpus/$1 findings=fuzz/findings/$1 log=$build/logs/$1.log status=ok
  mkdir -p "$corpus" "$findings" "fuzz/regressions/$fuzzer"
  local dict=() extra_seeds=()
  [[ -f fuzz/dictionaries/$fuzzer.dict ]] && dict=(-dict="fuzz/dictionaries/$fuzzer.dict")
  [[ -d fuzz/seeds/$fuzzer ]] && extra_seeds=("fuzz/seeds/$fuzzer")
  "$build/fuzzers/$fuzzer" "$corpus" "$seeds/$fuzzer" "${extra_seeds[@]}" "fuzz/regressions/$fuzzer" \
    "${dict[@]}" -max_total_time="$seconds" -max_len="$(max_len "$fuzzer")" -timeout=30 \
    -rss_limit_mb=2560 -malloc_limit_mb=1536 -artifact_prefix="$findings/" -print_final_stats=1 \
    >"$log" 2>&1 || status=FOUND
  echo "$status" >"$build/logs/$fuzzer.status"
}
running=0
for fuzzer in "${fuzzers[@]}"; do
  rm -f "$build/logs/$fuzzer.status"
  if ((running >= jobs)); then wait -n; ((running--)); fi
  run_fuzzer "$fuzzer" &
  ((++running))
done
wait

failed=()
printf '%-14s %12s %10s %8s  %s\n' fuzzer executions exec/s corpus result
for fuzzer in "${fuzzers[@]}"; do
  log=$build/logs/$fuzzer.log
  status=$(cat "$build/logs/$fuzzer.status" 2>/dev/null || echo FOUND)
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  printf '%-14s %12s %10s %8s  %s\n' "$fuzzer" "${executions:-?}" "${rate:-?}" \
    "$(find "$build/corpus/$fuzzer" -type f | wc -l)" "$status"
  # One line per run, for the README's totals.
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$fuzzer" "$seconds" "${executions:-0}" "$status" \
    >>"$build/logs/executions.tsv"
  if [[ $status != ok ]]; then
    failed+=("$fuzzer")
    grep -m 3 -E "ERROR|SUMMARY|fuzz_[a-z]+:|Test unit written" "$log" || tail -n 20 "$log"
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]} (inputs in fuzz/findings/, logs in $build/logs/)"
  exit 1
fi
