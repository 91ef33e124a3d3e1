#!/usr/bin/env bash
# On the GPU machine (device tool), from the repository root with .devcarry/ carried
# (bench/cuda_bundle.sh makes it): the gpu tests, the gradient benchmark, the end-to-end
# benchmark at a short and at the full length; logs and JSON go to $OUT.
#   bash bench/run_cuda.sh
set -uo pipefail
OUT=${OUT:-/tmp/herd_cuda_out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$OUT/device.txt"
export LD_LIBRARY_PATH=$PWD/.devcarry/lib
# The binaries read configs/ through the source path they were built with (HERD_SOURCE_DIR).
src=${HERD_BUILT_AT:-/work/main}
[ -e "$src" ] || { mkdir -p "$(dirname "$src")"; ln -s "$PWD" "$src"; }
B=.devcarry/bin
t0=$(date +%s)
lap() { echo "== $1: $(( $(date +%s) - t0 )) s"; }
timeout 70 $B/test_cuda --gtest_filter=-*ExampleBatch* 2>&1 | tee "$OUT/test_cuda.log" | grep -E "^\[ *(OK|FAILED|SKIPPED|PASSED) |Failure|evaluates to|which exceeds" | head -40; lap "gpu tests"
timeout 45 $B/bench_cuda "$OUT/cuda-gradient.json" gradient 2>&1 | tee "$OUT/bench_gradient.log"; lap gradient
export HERD_WAVE_TRACE=1
timeout 90 $B/bench_cuda "$OUT/cuda-e2e-short.json" e2e 1000 250 250 16 2>&1 | tee "$OUT/bench_e2e_short.log" | grep -v "^\[wave" ; grep "^\[wave" "$OUT/bench_e2e_short.log" | head -3; grep "^\[wave" "$OUT/bench_e2e_short.log" | tail -2; lap "e2e short"
timeout 60 $B/test_cuda --gtest_filter=*ExampleBatch* 2>&1 | tee -a "$OUT/test_cuda.log" | grep -E "^\[ *(OK|FAILED|PASSED) |Failure|: .* vs " | head -20; lap "example batch"
timeout 140 $B/bench_cuda "$OUT/cuda-e2e-full.json" e2e 1000 1000 1000 0 2>&1 | tee "$OUT/bench_e2e_full.log" | grep -v "^\[wave" ; grep "^\[wave" "$OUT/bench_e2e_full.log" | tail -4; lap "e2e full"
