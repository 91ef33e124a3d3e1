#!/usr/bin/env bash
# Installs every system dependency of herd from Debian's packages. Idempotent: installs only
# what is missing, and runs `apt-get update` only when it has something to install.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git   # toolchain
  libtomlplusplus-dev                    # config files (TOML)
  libcli11-dev                           # command line
  libfmt-dev                             # formatting of tables and messages
  libcsv-dev                             # RFC 4180 CSV parsing
  libeigen3-dev                          # dense linear algebra on the host (metrics, optimizer)
  libgtest-dev libgmock-dev              # tests
  libboost-dev                           # Boost.Math: independent reference densities in tests
  nlohmann-json3-dev                     # reference values (JSON) read by the tests
  libhdf5-dev                            # HDF5 output (netCDF-4 / ArviZ layout)
  libnlopt-dev                           # herd optimize: SLSQP budget allocation
  python3-matplotlib                     # herd analyze --out: report plots
  openmpi-bin libopenmpi-dev             # HERD_MPI: a run over several processes or machines
  libbenchmark-dev                       # bench/
  python3                                # example-data generator, output checks
  python3-numpy python3-xarray python3-h5netcdf python3-netcdf4  # tests: the output opens in xarray
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
