#include "herd/io/output_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "herd/core/error.hpp"
#include "herd/engine/sampler.hpp"

namespace fs = std::filesystem;

namespace herd {
namespace {

// A file name for a model's part: readable, safe on any filesystem, unique per model name.
std::string part_name(const std::string& model) {
  std::string s;
  for (char c : model) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
  if (s.size() > 80) s.resize(80);
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(model_id(model)));
  return s + "." + hash + ".h5";
}

StoredModel stored_from(const std::string& file, const std::string& name) {
  ReadOptions o;
  o.attrs_only = true;
  const ModelOutput m = read_model(file, name, o);
  auto it = m.text_attrs.find("config");
  auto sec = m.real_attrs.find("wall_seconds");
  StoredModel s{name, m.status.text(), it == m.text_attrs.end() ? "" : it->second, file,
                sec == m.real_attrs.end() ? 0.0 : sec->second, {}};
  for (const char* key : {"data_hash", "output_options"}) {
    const auto a = m.text_attrs.find(key);
    if (a != m.text_attrs.end()) s.attrs[key] = a->second;
  }
  return s;
}

}  // namespace

OutputStore::OutputStore(std::string path)
    : path_(std::move(path)), parts_(path_ + ".parts"), shards_(path_ + ".shards") {
  const fs::path p(path_);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  if (p.filename().empty()) throw InputError(located(path_, 0, 0, "the output path names a folder, not a file"));
  if (!fs::is_directory(dir))
    throw InputError(located(path_, 0, 0, "the output folder " + dir.string() + " does not exist"));
  if (fs::is_directory(p)) throw InputError(located(path_, 0, 0, "the output path is a folder"));
  // Probe with a real file: permission bits do not tell (root, read-only mounts, ACLs).
  const fs::path probe = dir / (".herd-probe-" + std::to_string(getpid()));
  {
    std::ofstream f(probe);
    if (!f) throw InputError(located(path_, 0, 0, "cannot write in the output folder " + dir.string()));
  }
  std::error_code ec;
  fs::remove(probe, ec);
}

std::vector<StoredModel> OutputStore::scan(const std::string& dir) const {
  std::vector<StoredModel> out;
  if (!fs::is_directory(dir)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".h5") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::vector<std::string> names;
    try {
      names = list_models(f.string());
    } catch (const std::exception&) {
      continue;  // parts and shards are renamed into place whole; anything else is not one
    }
    for (const auto& n : names) out.push_back(stored_from(f.string(), n));
  }
  return out;
}

std::vector<StoredModel> OutputStore::stored() const {
  std::vector<StoredModel> out;
  auto add = [&](std::vector<StoredModel> found) {
    for (auto& m : found)
      if (std::none_of(out.begin(), out.end(), [&](const StoredModel& s) { return s.name == m.name; }))
        out.push_back(std::move(m));
  };
  if (fs::exists(path_)) {
    try {
      // An index links into the parts and shards, which are scanned below.
      if (!is_index_file(path_)) {
        std::vector<StoredModel> here;
        for (const auto& n : list_models(path_)) here.push_back(stored_from(path_, n));
        add(std::move(here));
      }
    } catch (const std::exception& e) {
      throw InputError(located(path_, 0, 0, std::string("cannot resume from this file: ") + e.what()));
    }
  }
  add(scan(shards_));
  add(scan(parts_));
  return out;
}

void OutputStore::begin(bool resume) {
  const std::lock_guard<std::mutex> lock(mutex_);
  models_.clear();
  written_.clear();
  index_ = true;
  std::error_code ec;
  // Temporaries of a killed run beside the output (OUT.h5.tmp-<pid>) and in its folders.
  const fs::path p = fs::absolute(path_);
  const std::string stale = p.filename().string() + ".tmp-";
  for (const auto& e : fs::directory_iterator(p.parent_path(), ec))
    if (e.path().filename().string().rfind(stale, 0) == 0) fs::remove(e.path(), ec);
  for (const auto& dir : {parts_, shards_})
    if (fs::is_directory(dir))
      for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) fs::remove(e.path(), ec);
  if (!resume) {
    fs::remove_all(parts_, ec);
    fs::remove_all(shards_, ec);
    fs::remove(path_, ec);
  } else {
    if (fs::exists(path_) && !is_index_file(path_)) {
      // A finished file: kept whole as a shard, so the index can link into it.
      fs::create_directories(shards_);
      int k = 0;
      fs::path dest;
      do dest = fs::path(shards_) / ("previous-" + std::to_string(k++) + ".h5");
      while (fs::exists(dest));
      fs::rename(path_, dest);
    }
    models_ = stored();
  }
  fs::create_directories(parts_);
  write_index_locked();
}

void OutputStore::join() {
  const std::lock_guard<std::mutex> lock(mutex_);
  models_.clear();
  written_.clear();
  index_ = false;
  fs::create_directories(parts_);
}

void OutputStore::write_index_locked() {
  std::vector<ModelLink> links;
  const fs::path dir = fs::absolute(path_).parent_path();
  for (const auto& m : models_) links.push_back({m.name, fs::absolute(m.file).lexically_relative(dir).string()});
  write_index_file(path_, links);
}

void OutputStore::write(const ModelOutput& model) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const std::string file = (fs::path(parts_) / part_name(model.name)).string();
  {
    ModelFileWriter w(file);
    w.add(model);
    w.commit();
  }
  models_.erase(std::remove_if(models_.begin(), models_.end(), [&](const StoredModel& s) { return s.name == model.name; }),
                models_.end());
  auto sec = model.real_attrs.find("wall_seconds");
  models_.push_back({model.name, model.status.text(), "", file, sec == model.real_attrs.end() ? 0.0 : sec->second, {}});
  written_.push_back(models_.back());
  if (index_) write_index_locked();
}

namespace {

std::vector<const StoredModel*> in_order(const std::vector<StoredModel>& models, const std::vector<std::string>& order) {
  std::vector<const StoredModel*> out;
  for (const auto& name : order)
    for (const auto& m : models)
      if (m.name == name) out.push_back(&m);
  for (const auto& m : models)
    if (std::find(order.begin(), order.end(), m.name) == order.end()) out.push_back(&m);
  return out;
}

// Read back and rewritten, not H5Ocopy'd: a copied group keeps object references into the
// source file in its DIMENSION_LIST attributes, and netCDF readers then fail on it.
void gather(const std::string& path, const std::vector<const StoredModel*>& models) {
  ModelFileWriter w(path);
  for (const StoredModel* m : models) w.add(read_model(m->file, m->name));
  w.commit();
}

}  // namespace

void OutputStore::finish(const std::vector<std::string>& order) {
  const std::lock_guard<std::mutex> lock(mutex_);
  gather(path_, in_order(models_, order));
  std::error_code ec;
  fs::remove_all(parts_, ec);
  fs::remove_all(shards_, ec);
  models_.clear();
}

std::string OutputStore::write_shard(const std::string& name, const std::vector<std::string>& order) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (written_.empty()) return "";
  fs::create_directories(shards_);
  const std::string shard = (fs::path(shards_) / name).string();
  gather(shard, in_order(written_, order));
  return shard;
}

void OutputStore::finish_index(const std::vector<std::string>& order, const std::string& kept_name) {
  const std::lock_guard<std::mutex> lock(mutex_);
  // Every rank's shard is in place: the shards hold this run's models and those kept from
  // earlier finished runs. Parts no shard holds (a killed earlier run's) go into one more.
  std::vector<StoredModel> all = scan(shards_);
  std::vector<StoredModel> loose;
  for (auto& m : scan(parts_))
    if (std::none_of(all.begin(), all.end(), [&](const StoredModel& s) { return s.name == m.name; }))
      loose.push_back(std::move(m));
  if (!loose.empty()) {
    fs::create_directories(shards_);
    std::vector<const StoredModel*> ptrs;
    for (const auto& m : loose) ptrs.push_back(&m);
    gather((fs::path(shards_) / kept_name).string(), ptrs);
    all = scan(shards_);
  }
  std::vector<StoredModel> ordered;
  for (const StoredModel* m : in_order(all, order)) ordered.push_back(*m);
  models_ = std::move(ordered);
  write_index_locked();
  // Only now, with the index pointing at the shards, can the parts go.
  std::error_code ec;
  fs::remove_all(parts_, ec);
}

}  // namespace herd
