#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "herd/core/text_table.hpp"
#include "herd/io/summary.hpp"

namespace herd {
namespace {

std::string clock_text(double s) {
  const long long t = static_cast<long long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

}  // namespace

Progress::Progress(int total, bool quiet, std::string who, bool per_model, double every)
    : total_(total), who_(std::move(who)), quiet_(quiet), tty_(!quiet && isatty(fileno(stderr))), per_model_(per_model),
      every_(every) {
  if (!tty_) return;
  // The ETA moves while models run, so the live line is redrawn every second.
  ticker_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) draw_locked();
  });
}

Progress::~Progress() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    if (tty_) clear_locked();
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void Progress::clear_locked() { std::fputs("\r\033[K", stderr); }

void Progress::draw_locked() {
  if (!tty_) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string eta = done_ > 0 ? clock_text(elapsed / done_ * (total_ - done_)) : std::string("--");
  clear_locked();
  std::fputs(fmt::format("{}: {}/{} models done{}, {} chains running, {} divergences, elapsed {}, ETA {}{}", who_, done_,
                         total_, failed_ || warned_ ? fmt::format(" ({} warn, {} failed)", warned_, failed_) : std::string(), chains_running_,
                         divergences_, clock_text(elapsed), eta, running_.empty() ? "" : " | " + running_)
                 .c_str(),
             stderr);
  std::fflush(stderr);
}

void Progress::started(const BatchItem& item) {
  const std::lock_guard<std::mutex> lock(mutex_);
  chains_running_ += item.options.chains;
  last_line_[item.model->spec().name] = std::chrono::steady_clock::now();
  draw_locked();
}

void Progress::progress(const BatchItem& item, const WaveProgress& p) {
  if (quiet_) return;
  const std::string name = item.model->spec().name;
  const std::string where =
      fmt::format("{} {}/{}, step size {}, {} divergences so far", p.sampling ? "sampling" : "warmup",
                  fmt_count(p.iteration), fmt_count(p.total), fmt_num(p.step_size, 3), fmt_count(p.divergences));
  const std::lock_guard<std::mutex> lock(mutex_);
  if (tty_) {
    running_ = name + ": " + where;
    draw_locked();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  auto& last = last_line_[name];
  if (now - last < every_) return;
  last = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::fputs(fmt::format("{}: {}: {} ({} elapsed)\n", who_, name, where, clock_text(elapsed)).c_str(), stderr);
  std::fflush(stderr);
}

void Progress::finished(const BatchItem& item, const ModelOutput& out) {
  const ModelReport r = report(out);
  const std::lock_guard<std::mutex> lock(mutex_);
  chains_running_ -= item.options.chains;
  ++done_;
  last_line_.erase(item.model->spec().name);
  failed_ += out.failed();
  warned_ += !out.ok() && !out.failed();
  divergences_ += r.divergences;
  if (quiet_ || !per_model_) return;
  if (tty_) clear_locked();
  const std::string what =
      out.failed() ? out.status.text()
                   : fmt::format("{} in {} s, {} divergences, max R-hat {}, min bulk-ESS {}{}", out.ok() ? "ok" : "warn",
                                 fmt_num(r.seconds, 3), fmt_count(r.divergences), fmt_fixed(r.max_rhat, 3),
                                 fmt_count(r.min_ess_bulk), out.ok() ? "" : " (" + out.status.reason + ")");
  // One write per line: lines from threads never interleave, and a pipe sees whole lines.
  std::fputs(fmt::format("{}: [{}/{}] {}: {}\n", who_, done_, total_, out.name, what).c_str(), stderr);
  std::fflush(stderr);
  draw_locked();
}

}  // namespace herd
