#!/usr/bin/env bash
# Quick start on a fresh Debian machine: installs dependencies, builds herd, fits the example
# batch (configs/examples/example.toml: six models) on the CPU into runs/example.h5, prints
# the batch summary, opens the file with xarray as a user would, then turns the fits into
# decisions: contributions, ROI and response curves with an HTML report per model, a budget
# reallocation, and the pooling sweep ranked by PSIS-LOO.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${HERD_JOBS:-$(nproc)}

bash scripts/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DHERD_BUILD_TESTS=OFF
cmake --build build/release -j "$jobs" --target herd
herd=build/release/herd

"$herd" --version
mkdir -p runs
# --strict: every shipped example must pass its convergence checks (exit 3 on any warn), which
# CI asserts by running this script.
"$herd" fit configs/examples/example.toml --out runs/example.h5 --overwrite --strict  # re-runnable: replaces the last run
"$herd" summarize runs/example.h5 --model dtc_paid_social --csv runs/example_summary.csv
/usr/bin/python3 - <<'PY'
import xarray as xr
post = xr.open_dataset("runs/example.h5", group="dtc_paid_social/posterior")
print(post)
print("\nlinkedin_awareness effect, posterior mean:",
      float(post.beta.sel(channel="linkedin_awareness").mean()))
PY
"$herd" analyze runs/example.h5 --all --out runs/report
"$herd" optimize runs/example.h5 --model national_media --json runs/national_media_budget.json
"$herd" optimize runs/example.h5 --model national_media --target-mroi 0.15   # how much to spend at a marginal ROAS of 0.15
"$herd" compare runs/example.h5 --csv runs/example_loo.csv   # the pooling sweep ranked by PSIS-LOO
