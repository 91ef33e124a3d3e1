#!/usr/bin/env bash
# Gradient throughput (one thread) for the two reference shapes, float and double; writes
# bench/results/gradient-cpu.json. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DHERD_BUILD_BENCH=ON -DHERD_BUILD_TESTS=OFF > /dev/null
cmake --build build/bench -j "$(nproc)" --target bench_gradient
build/bench/bench/bench_gradient --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out=bench/results/gradient-cpu.json --benchmark_out_format=json
