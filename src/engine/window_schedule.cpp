#include <algorithm>

#include "herd/hmc/adaptation.hpp"

namespace herd {

WindowSchedule::WindowSchedule(int num_warmup, int init_buffer, int term_buffer, int base_window)
    : num_warmup_(num_warmup), init_buffer_(init_buffer), term_buffer_(term_buffer), base_window_(base_window) {
  if (num_warmup < 20) {
    adapt_ = false;  // as Stan: no variance estimation for fewer than 20 warmup iterations
    return;
  }
  if (init_buffer + base_window + term_buffer > num_warmup) {
    init_buffer_ = static_cast<int>(0.15 * num_warmup);
    term_buffer_ = static_cast<int>(0.1 * num_warmup);
    base_window_ = num_warmup - (init_buffer_ + term_buffer_);
  }
  // Stan's set_window_params forgets to restart the window state in the rescaled branch; the
  // schedule below always starts from the (possibly rescaled) parameters.
  int counter = 0, size = base_window_, next = init_buffer_ + size - 1;
  const int last = num_warmup_ - term_buffer_ - 1;
  for (; counter < num_warmup_; ++counter) {
    if (counter == next && counter != num_warmup_) {
      ends_.push_back(counter);
      if (next == last) break;
      size *= 2;
      next = counter + size;
      if (next != last && next + 2 * size >= num_warmup_ - term_buffer_) next = last;
    }
  }
}

bool WindowSchedule::in_window(int i) const {
  return adapt_ && i >= init_buffer_ && i < num_warmup_ - term_buffer_ && i != num_warmup_;
}

bool WindowSchedule::ends_window(int i) const {
  return adapt_ && std::find(ends_.begin(), ends_.end(), i) != ends_.end();
}

}  // namespace herd
