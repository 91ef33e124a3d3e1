#include "herd/io/output_store.hpp"

#include <unistd.h>

#include <algorithm>
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
  return {name, m.status, it == m.text_attrs.end() ? "" : it->second, file};
}

}  // namespace

OutputStore::OutputStore(std::string path) : path_(std::move(path)), parts_(path_ + ".parts") {
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

std::vector<StoredModel> OutputStore::scan_parts() const {
  std::vector<StoredModel> out;
  if (!fs::is_directory(parts_)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(parts_))
    if (e.is_regular_file() && e.path().extension() == ".h5") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::vector<std::string> names;
    try {
      names = list_models(f.string());
    } catch (const std::exception&) {
      continue;  // parts are renamed into place whole; anything else is not one
    }
    for (const auto& n : names) out.push_back(stored_from(f.string(), n));
  }
  return out;
}

std::vector<StoredModel> OutputStore::stored() const {
  std::vector<StoredModel> out;
  if (fs::exists(path_)) {
    try {
      if (!is_index_file(path_))
        for (const auto& n : list_models(path_)) out.push_back(stored_from(path_, n));
    } catch (const std::exception& e) {
      throw InputError(located(path_, 0, 0, std::string("cannot resume from this file: ") + e.what()));
    }
  }
  for (auto& m : scan_parts())
    if (std::none_of(out.begin(), out.end(), [&](const StoredModel& s) { return s.name == m.name; }))
      out.push_back(std::move(m));
  return out;
}

void OutputStore::begin(bool resume) {
  const std::lock_guard<std::mutex> lock(mutex_);
  models_.clear();
  std::error_code ec;
  // Temporaries of a killed run beside the output (OUT.h5.tmp-<pid>).
  const fs::path p = fs::absolute(path_);
  const std::string stale = p.filename().string() + ".tmp-";
  for (const auto& e : fs::directory_iterator(p.parent_path(), ec))
    if (e.path().filename().string().rfind(stale, 0) == 0) fs::remove(e.path(), ec);
  if (!resume) {
    fs::remove_all(parts_, ec);
    fs::remove(path_, ec);
  } else {
    if (fs::exists(path_) && !is_index_file(path_)) {
      // A finished file: keep it whole as one more part, so the index can link into it.
      fs::create_directories(parts_);
      int k = 0;
      fs::path dest;
      do dest = fs::path(parts_) / ("previous-" + std::to_string(k++) + ".h5");
      while (fs::exists(dest));
      fs::rename(path_, dest);
    }
    for (auto& m : stored())
      if (std::none_of(models_.begin(), models_.end(), [&](const StoredModel& s) { return s.name == m.name; }))
        models_.push_back(std::move(m));
    // Temporaries of a killed run.
    if (fs::is_directory(parts_))
      for (const auto& e : fs::directory_iterator(parts_))
        if (e.path().filename().string().find(".tmp-") != std::string::npos) fs::remove(e.path(), ec);
  }
  fs::create_directories(parts_);
  write_index_locked();
}

void OutputStore::write_index_locked() {
  std::vector<ModelLink> links;
  const std::string parts_name = fs::path(parts_).filename().string();
  for (const auto& m : models_)
    links.push_back({m.name, parts_name + "/" + fs::path(m.file).filename().string()});
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
  models_.push_back({model.name, model.status, "", file});
  write_index_locked();
}

void OutputStore::finish(const std::vector<std::string>& order) {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const StoredModel*> ordered;
  for (const auto& name : order)
    for (const auto& m : models_)
      if (m.name == name) ordered.push_back(&m);
  for (const auto& m : models_)
    if (std::find(order.begin(), order.end(), m.name) == order.end()) ordered.push_back(&m);
  {
    // Read back and rewritten, not H5Ocopy'd: a copied group keeps object references into
    // the source file in its DIMENSION_LIST attributes, and netCDF readers then fail on it.
    ModelFileWriter w(path_);
    for (const StoredModel* m : ordered) w.add(read_model(m->file, m->name));
    w.commit();
  }
  std::error_code ec;
  fs::remove_all(parts_, ec);
  models_.clear();
}

}  // namespace herd
