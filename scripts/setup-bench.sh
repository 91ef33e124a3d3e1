#!/usr/bin/env bash
# Dependencies of the peer benchmarks only (the tests do not need them): R and rstan from
# Debian's packages. Idempotent like setup.sh.
set -euo pipefail
packages=(r-base-core r-cran-rstan r-cran-jsonlite libboost-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian's r-cran-bh carries no headers (it uses libboost-dev's), but rstan 2.21 refuses to
# compile unless BH/include exists: point it at the system headers.
bh=/usr/lib/R/site-library/BH
if [ -d "$bh" ] && [ ! -e "$bh/include" ]; then $SUDO ln -s /usr/include "$bh/include"; fi
echo "setup-bench: ready"
