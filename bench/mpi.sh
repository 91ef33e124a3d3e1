#!/usr/bin/env bash
# Throughput of one process vs two MPI ranks on the same CPU batch: 16 adstock + Hill models
# (the national example under 16 seeds, 4 chains x (300 + 300)), all cores either way (one
# process of N threads, or N/2 threads for each of 2 ranks). Needs a HERD_MPI build.
#   bash bench/mpi.sh build/cpu/herd bench/results/mpi-cpu.json
set -euo pipefail
cd "$(dirname "$0")/.."
herd=${1:-build/cpu/herd}
out=${2:-bench/results/mpi-cpu.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/run.toml" <<TOML
[[sweeps]]
config = "$PWD/configs/examples/national_media.toml"
"sampler.seed" = [$(seq -s ', ' 1 16)]
TOML
args=(--warmup 300 --draws 300 --no-contributions --quiet)
seconds() { local t0; t0=$(date +%s.%N); "$@" > /dev/null; python3 -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$t0"; }
one=$(seconds "$herd" fit "$work/run.toml" --out "$work/one.h5" "${args[@]}")
two=$(seconds mpirun --allow-run-as-root --oversubscribe --mca btl self,vader -n 2 "$herd" fit "$work/run.toml" \
        --out "$work/two.h5" "${args[@]}")
python3 - "$one" "$two" "$out" "$(nproc)" <<'PY'
import json, sys
one, two, out, cores = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows = {"benchmark": "mpi", "models": 16, "shape": "adstock_hill_T156_C8_L8", "chains": 4, "warmup": 300,
        "draws": 300, "cores": cores,
        "one_process": {"seconds": one, "models_per_minute": 16 * 60 / one},
        "two_ranks": {"seconds": two, "models_per_minute": 16 * 60 / two},
        "ratio_two_over_one": one / two}
json.dump(rows, open(out, "w"), indent=2)
print(f"1 process: {one:.1f} s ({16 * 60 / one:.2f} models/min); 2 ranks: {two:.1f} s "
      f"({16 * 60 / two:.2f} models/min); ratio {one / two:.3f}")
PY
