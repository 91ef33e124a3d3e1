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

double cuda_peak_flops(bool single_precision) {
  if (cuda_device_count() == 0) return 0;
  int dev = 0, sms = 0, khz = 0, major = 0;
  HERD_CUDA_CHECK(cudaGetDevice(&dev));
  HERD_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  HERD_CUDA_CHECK(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, dev));
  HERD_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
  // FMA lanes per SM on Hopper (sm_90): 128 FP32 and 64 FP64; an FMA counts as two flops.
  const double lanes = single_precision ? 128 : (major >= 8 ? 64 : 32);
  return 2.0 * lanes * sms * khz * 1e3;
}

std::string cuda_device_name() {
  if (cuda_device_count() == 0) return "none";
  int dev = 0;
  HERD_CUDA_CHECK(cudaGetDevice(&dev));
  cudaDeviceProp p{};
  HERD_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
  return p.name;
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
