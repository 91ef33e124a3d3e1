#pragma once
// What CUDA can be used from this build and machine. A build without CUDA answers
// "not built"; asking it to run on a GPU is an error that says so (no silent fallback).
#include <string>
#include <vector>

namespace herd {

class Model;

/// True when herd was built with HERD_CUDA=ON.
bool cuda_built();

/// Number of CUDA devices visible; 0 when none (or the driver is missing). Throws
/// std::runtime_error("herd was built without CUDA ...") in a build without CUDA.
int cuda_device_count();

/// Vector (non-tensor-core) peak FLOP/s of the current device from its SM count and clock.
double cuda_peak_flops(bool single_precision);

/// The current device's name ("none" without one).
std::string cuda_device_name();

/// Free memory on the current device in bytes (CUDA builds only).
long long cuda_free_memory();

/// Log densities and gradients from the GPU (tests and benchmarks).
struct CudaGradient {
  std::vector<double> lp, grad;   // [model][point], [model][point][largest dim]
  double seconds_per_repeat = 0;  // one launch over every point, by CUDA events
};

/// Evaluates every model at `points` points each, theta laid out [model][point][largest dim],
/// once and then `repeats` more times for timing; `lanes` threads per point (1 or 32, a warp).
CudaGradient cuda_log_density_grad(const std::vector<const Model*>& models, bool single_precision, int points,
                                   const std::vector<double>& theta, int repeats, int lanes = 32);

/// One line per visible device, e.g. "0: NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)".
std::string cuda_device_report();

}  // namespace herd
