#!/usr/bin/env bash
# Quick start on a fresh Debian machine: installs dependencies, builds herd, and runs it on
# the examples on the CPU: the resolved config and priors of the seed model, and the
# gradient check of every example.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${HERD_JOBS:-$(nproc)}

bash scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DHERD_BUILD_TESTS=OFF
cmake --build build/release -j "$jobs" --target herd
herd=build/release/herd

"$herd" --version
"$herd" describe configs/examples/dtc_paid_social_tuned.toml
for config in configs/examples/*.toml; do
  "$herd" check-gradient "$config" --points 5
done
