#pragma once
// Every CUDA runtime call goes through HERD_CUDA_CHECK so a failure names the call, file and line.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define HERD_CUDA_CHECK(call)                                                                    \
  do {                                                                                           \
    const cudaError_t herd_err_ = (call);                                                        \
    if (herd_err_ != cudaSuccess)                                                                \
      throw std::runtime_error(std::string("CUDA error in ") + #call + " at " + __FILE__ + ":" + \
                               std::to_string(__LINE__) + ": " + cudaGetErrorString(herd_err_)); \
  } while (0)
