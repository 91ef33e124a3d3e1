#!/usr/bin/env bash
# Dependencies of the peer benchmarks only (the tests do not need them): R and rstan from
# Debian's packages. Idempotent like setup.sh.
set -euo pipefail
packages=(r-base-core r-cran-rstan r-cran-jsonlite)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "setup-bench: all packages present"; exit 0; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
