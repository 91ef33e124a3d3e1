#!/usr/bin/env bash
# The test command (README): installs dependencies, builds the CPU configuration with
# warnings as errors and runs every test, then configures and builds with HERD_CUDA=ON
# (compile and link only: no GPU is needed, GPU tests skip where there is none).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${HERD_JOBS:-$(nproc)}

bash scripts/setup.sh

# The CPU build carries MPI (as a cluster would build it); a process not started by mpirun
# never touches MPI, so every other test runs it as a single process.
cmake -S . -B build/cpu -DCMAKE_BUILD_TYPE=Release -DHERD_WERROR=ON -DHERD_BUILD_BENCH=ON -DHERD_MPI=ON
cmake --build build/cpu -j "$jobs"
# sbc_full (the 200-replication adstock+Hill SBC, ~30 min) runs by hand: ctest -L sbc_full
ctest --test-dir build/cpu --output-on-failure -j "$jobs" -LE sbc_full

if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake -S . -B build/cuda -DCMAKE_BUILD_TYPE=Release -DHERD_WERROR=ON -DHERD_CUDA=ON -DHERD_BUILD_TESTS=ON
  cmake --build build/cuda -j "$jobs"
  # A CUDA build must still pass the CPU tests on a machine without a GPU.
  ctest --test-dir build/cuda --output-on-failure -j "$jobs" -LE "sbc|study"
else
  echo "test.sh: no nvcc on this machine; skipped the HERD_CUDA=ON build"
fi
