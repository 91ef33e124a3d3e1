#!/usr/bin/env bash
# Quick start on a fresh Debian machine: installs dependencies, builds herd, and runs it on
# the examples on the CPU: the resolved config and priors of the seed model, the gradient
# check of every example, and a NUTS fit of the seed model with its summary table.
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
"$herd" fit configs/examples/dtc_paid_social_tuned.toml --draws-csv build/release/dtc_paid_social_tuned_draws.csv
