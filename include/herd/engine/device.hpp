#pragma once
// What CUDA can be used from this build and machine. A build without CUDA answers
// "not built"; asking it to run on a GPU is an error that says so (no silent fallback).
#include <string>

namespace herd {

/// True when herd was built with HERD_CUDA=ON.
bool cuda_built();

/// Number of CUDA devices visible; 0 when none (or the driver is missing). Throws
/// std::runtime_error("herd was built without CUDA ...") in a build without CUDA.
int cuda_device_count();

/// One line per visible device, e.g. "0: NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)".
std::string cuda_device_report();

}  // namespace herd
