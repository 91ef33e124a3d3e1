// The CUDA build's device queries. A machine with the toolkit but no GPU or driver reports
// zero devices rather than failing, so CUDA builds run their CPU tests anywhere.
#include <cuda_runtime.h>

#include <sstream>

#include "cuda_check.cuh"
#include "herd/engine/device.hpp"

namespace herd {

bool cuda_built() { return true; }

int cuda_device_count() {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return 0;
  }
  HERD_CUDA_CHECK(err);
  return n;
}

std::string cuda_device_report() {
  const int n = cuda_device_count();
  if (n == 0) return "no CUDA device visible";
  std::ostringstream out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    HERD_CUDA_CHECK(cudaGetDeviceProperties(&p, i));
    out << i << ": " << p.name << " (sm_" << p.major << p.minor << ", "
        << static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0) << " GiB)\n";
  }
  return out.str();
}

}  // namespace herd
