// The CPU-only build: the CUDA entry points exist and say plainly that they are absent.
#include <stdexcept>

#include "herd/engine/device.hpp"
#include "herd/engine/wave.hpp"

namespace herd {

bool cuda_built() { return false; }

int cuda_device_count() {
  throw std::runtime_error("herd was built without CUDA (configure with -DHERD_CUDA=ON on a machine with nvcc)");
}

std::string cuda_device_report() { return "built without CUDA"; }

CudaGradient cuda_log_density_grad(const std::vector<const Model*>&, bool, int, const std::vector<double>&, int, int) {
  cuda_device_count();  // throws: built without CUDA
  return {};
}

double cuda_peak_flops(bool) { return cuda_device_count(); }

std::string cuda_device_name() { return "built without CUDA"; }

long long cuda_free_memory() { return cuda_device_count(); }

std::unique_ptr<WaveBackend> make_cuda_wave_backend(const WaveLayout&, bool, int) {
  cuda_device_count();  // throws: built without CUDA
  return nullptr;
}

}  // namespace herd
