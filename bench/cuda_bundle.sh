#!/usr/bin/env bash
# Packs the CUDA build's GPU test and benchmark binaries with the shared libraries they need
# beyond the C runtime into .devcarry/ (git-ignored), for a GPU machine that has the CUDA
# driver but none of herd's Debian dependencies. bench/run_cuda.sh runs them there.
#   bash bench/cuda_bundle.sh [build/cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/cuda}
rm -rf .devcarry
mkdir -p .devcarry/bin .devcarry/lib
for b in tests/test_cuda tests/test_wave bench/bench_cuda herd; do
  cp "$build/$b" .devcarry/bin/
  strip .devcarry/bin/"$(basename "$b")"
  ldd "$build/$b" | awk '/=> \//{print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libgcc_s.so*|libstdc++.so*|ld-linux*) ;;
      *) cp -L "$lib" .devcarry/lib/ ;;
    esac
  done
done
grep -qx '/.devcarry/' .git/info/exclude 2>/dev/null || echo '/.devcarry/' >> .git/info/exclude
du -sh .devcarry
