// The CPU-only build: the CUDA entry points exist and say plainly that they are absent.
#include <stdexcept>

#include "herd/engine/device.hpp"

namespace herd {

bool cuda_built() { return false; }

int cuda_device_count() {
  throw std::runtime_error("herd was built without CUDA (configure with -DHERD_CUDA=ON on a machine with nvcc)");
}

std::string cuda_device_report() { return "built without CUDA"; }

}  // namespace herd
