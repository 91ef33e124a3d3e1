#pragma once
// Kernels over the shared HERD_HD model math. No model code lives here: the kernel body is
// the same log_density_grad the CPU tests exercise.
#include "herd/model/log_density.hpp"

namespace herd::cuda {

/// One thread per point: lp[i] and grad[i * dim ..] at theta[i * dim ..]; scratch holds
/// scratch_size(m) Reals per thread. The model view's pointers are device pointers.
template <class Real>
__global__ void log_density_grad_kernel(ModelView<Real> m, int n, const Real* theta, Real* grad, Real* lp,
                                        Real* scratch) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long long d = m.dim, s = scratch_size(m);
  lp[i] = log_density_grad(m, theta + i * d, grad + i * d, scratch + i * s);
}

}  // namespace herd::cuda
