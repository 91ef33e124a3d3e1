#include "herd/io/hdf5_file.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "herd/core/version.hpp"

namespace herd {
namespace {

// ------------------------------------------------------------------------------------------
// Handles and errors

void quiet_hdf5() {
  // The library prints its error stack to stderr by default; herd reports errors itself.
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

herr_t innermost(unsigned n, const H5E_error2_t* e, void* out) {
  if (n == 0) *static_cast<std::string*>(out) = e->desc ? e->desc : "";
  return 0;
}

// The text between `key = '` and the next quote of an HDF5 I/O error, "" if absent.
std::string quoted_field(const std::string& desc, const std::string& key) {
  const size_t at = desc.find(key + " = '");
  if (at == std::string::npos) return "";
  const size_t from = at + key.size() + 4, to = desc.find('\'', from);
  return to == std::string::npos ? "" : desc.substr(from, to - from);
}

[[noreturn]] void fail(const std::string& what) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  // A failed system call (a full disk, a lost mount): one line with the file and the cause,
  // not the driver's dump of buffers and offsets.
  const std::string file = quoted_field(detail, "filename"), cause = quoted_field(detail, "error message");
  if (!cause.empty()) throw std::runtime_error(what + (file.empty() ? "" : " to " + file) + ": " + cause);
  throw std::runtime_error(what + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

// Owns an HDF5 identifier of any kind.
class Id {
 public:
  Id() = default;
  Id(hid_t id, const std::string& what) : id_(id) {
    if (id_ < 0) fail(what);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  ~Id() {
    if (id_ >= 0) H5Idec_ref(id_);
  }
  hid_t get() const { return id_; }
  hid_t release() {
    const hid_t r = id_;
    id_ = -1;
    return r;
  }
  operator hid_t() const { return id_; }  // NOLINT: reads like the C API it wraps

 private:
  hid_t id_ = -1;
};

void check(herr_t status, const std::string& what) {
  if (status < 0) fail(what);
}

Id creation_order_gcpl() {
  Id p(H5Pcreate(H5P_GROUP_CREATE), "group property list");
  // netCDF-4 lists variables, groups and attributes in creation order.
  check(H5Pset_link_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "link creation order");
  check(H5Pset_attr_creation_order(p, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "attribute creation order");
  return p;
}

Id create_file(const std::string& path) {
  quiet_hdf5();
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), "file property list");
  check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "link creation order");
  check(H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "attribute creation order");
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), "file access property list");
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "close degree");
  return Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl), "cannot create " + path);
}

Id open_file(const std::string& path) {
  quiet_hdf5();
  if (!std::filesystem::exists(path)) throw std::runtime_error(path + ": no such file");
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), "file access property list");
  check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "close degree");
  return Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), path + ": not a readable HDF5 file");
}

// Flushes a closed file's bytes to disk and moves it into place (rename is atomic).
void publish(const std::string& tmp, const std::string& path) {
  if (FILE* f = std::fopen(tmp.c_str(), "rb")) {
    fsync(fileno(f));
    std::fclose(f);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw std::runtime_error("cannot move " + tmp + " to " + path + ": " + ec.message());
  }
}

// ------------------------------------------------------------------------------------------
// Attributes

// Text as netCDF writes it: a fixed-length string (NC_CHAR) in a scalar dataspace.
void put_text_attr(hid_t obj, const std::string& name, const std::string& value) {
  Id type(H5Tcopy(H5T_C_S1), "string type");
  check(H5Tset_size(type, std::max<size_t>(value.size(), 1)), "string size");
  Id space(H5Screate(H5S_SCALAR), "scalar space");
  Id attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attribute " + name);
  std::string buf = value;
  buf.resize(std::max<size_t>(value.size(), 1), '\0');
  check(H5Awrite(attr, type, buf.data()), "attribute " + name);
}

void put_real_attr(hid_t obj, const std::string& name, double value) {
  Id space(H5Screate(H5S_SCALAR), "scalar space");
  Id attr(H5Acreate2(obj, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), "attribute " + name);
  check(H5Awrite(attr, H5T_NATIVE_DOUBLE, &value), "attribute " + name);
}

void put_int_attr(hid_t obj, const std::string& name, long long value) {
  Id space(H5Screate(H5S_SCALAR), "scalar space");
  Id attr(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), "attribute " + name);
  check(H5Awrite(attr, H5T_NATIVE_LLONG, &value), "attribute " + name);
}

Id vlen_utf8() {
  Id type(H5Tcopy(H5T_C_S1), "string type");
  check(H5Tset_size(type, H5T_VARIABLE), "variable-length string");
  check(H5Tset_cset(type, H5T_CSET_UTF8), "UTF-8 strings");
  return type;
}

void put_string_list_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  Id type = vlen_utf8();
  const hsize_t n = values.size();
  Id space(n == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, &n, nullptr), "attribute space");
  Id attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attribute " + name);
  if (n == 0) return;
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check(H5Awrite(attr, type, ptrs.data()), "attribute " + name);
}

void put_attrs(hid_t obj, const ModelOutput& m) {
  put_text_attr(obj, "status", m.status.text());
  for (const auto& [k, v] : m.text_attrs) put_text_attr(obj, k, v);
  for (const auto& [k, v] : m.real_attrs) put_real_attr(obj, k, v);
  for (const auto& [k, v] : m.int_attrs) put_int_attr(obj, k, v);
}

// ------------------------------------------------------------------------------------------
// Datasets

void write_coord(hid_t group, const Coord& c, std::vector<std::pair<std::string, Id>>& scales) {
  const hsize_t n = c.size();
  Id space(H5Screate_simple(1, &n, nullptr), "coordinate space");
  if (c.is_text()) {
    Id type = vlen_utf8();
    Id ds(H5Dcreate2(group, c.name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          "coordinate " + c.name);
    std::vector<const char*> ptrs;
    for (const auto& v : c.labels) ptrs.push_back(v.c_str());
    if (n > 0) check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "coordinate " + c.name);
    check(H5DSset_scale(ds, c.name.c_str()), "dimension scale " + c.name);
    scales.emplace_back(c.name, std::move(ds));
    return;
  }
  Id ds(H5Dcreate2(group, c.name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        "coordinate " + c.name);
  if (n > 0) check(H5Dwrite(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.ints.data()), "coordinate " + c.name);
  if (!c.units.empty()) {
    put_text_attr(ds, "units", c.units);
    put_text_attr(ds, "calendar", "proleptic_gregorian");
  }
  check(H5DSset_scale(ds, c.name.c_str()), "dimension scale " + c.name);
  scales.emplace_back(c.name, std::move(ds));
}

// Chunks of one chain's draws (capped near 1 MiB), shuffled and deflated: draws of a
// parameter are similar numbers, and readers usually take a variable whole or a chain at a time.
Id variable_dcpl(const std::vector<hsize_t>& shape, size_t elem_bytes) {
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), "dataset property list");
  check(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "fill time");
  hsize_t total = 1;
  for (hsize_t s : shape) total *= s;
  if (total * elem_bytes < 16384 || shape.size() < 2 || total == 0) return dcpl;
  std::vector<hsize_t> chunk = shape;
  chunk[0] = 1;
  auto bytes = [&]() {
    hsize_t b = elem_bytes;
    for (hsize_t s : chunk) b *= s;
    return b;
  };
  while (bytes() > (1u << 20) && chunk[1] > 1) chunk[1] = (chunk[1] + 1) / 2;
  check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunk shape");
  check(H5Pset_shuffle(dcpl), "shuffle filter");
  check(H5Pset_deflate(dcpl, 1), "deflate filter");
  return dcpl;
}

void write_variable(hid_t group, const DataGroup& g, const Variable& v,
                    const std::vector<std::pair<std::string, Id>>& scales) {
  std::vector<hsize_t> shape;
  for (const auto& d : v.dims) shape.push_back(g.coord(d)->size());
  if (v.values.size() != g.extent(v.dims))
    throw std::logic_error("variable " + g.name + "/" + v.name + " has " + std::to_string(v.values.size()) +
                           " values for its dimensions' " + std::to_string(g.extent(v.dims)));
  Id space(shape.empty() ? H5Screate(H5S_SCALAR)
                         : H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
           "variable space");
  hid_t file_type = H5T_IEEE_F64LE;
  size_t bytes = 8;
  if (v.type == VarType::kFloat32) file_type = H5T_IEEE_F32LE, bytes = 4;
  if (v.type == VarType::kInt32) file_type = H5T_STD_I32LE, bytes = 4;
  if (v.type == VarType::kBool) file_type = H5T_STD_I8LE, bytes = 1;
  Id dcpl = variable_dcpl(shape, bytes);
  Id ds(H5Dcreate2(group, v.name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
        "variable " + g.name + "/" + v.name);
  if (!v.values.empty()) {
    if (v.type == VarType::kFloat64 || v.type == VarType::kFloat32) {  // HDF5 narrows double to the file's float
      check(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.values.data()), "writing " + v.name);
    } else {
      std::vector<int> ints(v.values.size());
      for (size_t i = 0; i < ints.size(); ++i) ints[i] = static_cast<int>(v.values[i]);
      check(H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints.data()), "writing " + v.name);
    }
  }
  for (size_t i = 0; i < v.dims.size(); ++i) {
    auto it = std::find_if(scales.begin(), scales.end(), [&](const auto& s) { return s.first == v.dims[i]; });
    check(H5DSattach_scale(ds, it->second, static_cast<unsigned>(i)), "attaching dimension " + v.dims[i]);
  }
  // xarray turns int8 with dtype = "bool" back into booleans.
  if (v.type == VarType::kBool) put_text_attr(ds, "dtype", "bool");
  for (const auto& [k, a] : v.attrs) put_text_attr(ds, k, a);
}

void write_model_group(hid_t file, const ModelOutput& m) {
  Id gcpl = creation_order_gcpl();
  Id g(H5Gcreate2(file, m.name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), "model group " + m.name);
  put_attrs(g, m);
  for (const auto& dg : m.groups) {
    Id sub(H5Gcreate2(g, dg.name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), "group " + m.name + "/" + dg.name);
    put_text_attr(sub, "inference_library", "herd");
    put_text_attr(sub, "inference_library_version", kVersion);
    std::vector<std::pair<std::string, Id>> scales;
    for (const auto& c : dg.coords) write_coord(sub, c, scales);
    for (const auto& v : dg.vars) write_variable(sub, dg, v, scales);
  }
}

void put_root_attrs(hid_t file, const std::vector<std::string>& names) {
  put_string_list_attr(file, "models", names);
  put_text_attr(file, "herd_version", kVersion);
}

std::string temporary_beside(const std::string& path) { return path + ".tmp-" + std::to_string(getpid()); }

// ------------------------------------------------------------------------------------------
// Reading

struct Names {
  std::vector<std::string> v;
};

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<Names*>(out)->v.emplace_back(name);
  return 0;
}

std::vector<std::string> links_of(hid_t group) {
  Names n;
  // Creation order where it is tracked (herd's files), else by name.
  if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect_link, &n) < 0) {
    H5Eclear2(H5E_DEFAULT);
    n.v.clear();
    check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &n), "listing a group");
  }
  return n.v;
}

herr_t collect_attr(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<Names*>(out)->v.emplace_back(name);
  return 0;
}

std::vector<std::string> attrs_of(hid_t obj) {
  Names n;
  if (H5Aiterate2(obj, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect_attr, &n) < 0) {
    H5Eclear2(H5E_DEFAULT);
    n.v.clear();
    check(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_attr, &n), "listing attributes");
  }
  return n.v;
}

void reclaim_strings(hid_t type, hid_t space, std::vector<char*>& ptrs) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(type, space, H5P_DEFAULT, ptrs.data());
#else
  H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
#endif
}

// A text attribute (fixed or variable length, scalar); false if it is not one.
bool read_text_attr(hid_t attr, std::string& out) {
  Id type(H5Aget_type(attr), "attribute type");
  if (H5Tget_class(type) != H5T_STRING) return false;
  Id space(H5Aget_space(attr), "attribute space");
  if (H5Sget_simple_extent_npoints(space) != 1) return false;
  if (H5Tis_variable_str(type) > 0) {
    Id mem = vlen_utf8();
    std::vector<char*> p(1, nullptr);
    check(H5Aread(attr, mem, p.data()), "reading an attribute");
    out = p[0] ? p[0] : "";
    reclaim_strings(mem, space, p);
    return true;
  }
  const size_t n = H5Tget_size(type);
  std::string buf(n, '\0');
  check(H5Aread(attr, type, buf.data()), "reading an attribute");
  out = buf.substr(0, buf.find('\0'));
  return true;
}

void read_model_attrs(hid_t g, ModelOutput& m) {
  for (const auto& name : attrs_of(g)) {
    Id attr(H5Aopen(g, name.c_str(), H5P_DEFAULT), "attribute " + name);
    Id type(H5Aget_type(attr), "attribute type");
    const H5T_class_t cls = H5Tget_class(type);
    std::string text;
    if (cls == H5T_STRING && read_text_attr(attr, text)) {
      if (name == "status")
        m.status = FitStatus::parse(text);
      else
        m.text_attrs[name] = text;
    } else if (cls == H5T_FLOAT) {
      double v = 0;
      check(H5Aread(attr, H5T_NATIVE_DOUBLE, &v), "attribute " + name);
      m.real_attrs[name] = v;
    } else if (cls == H5T_INTEGER) {
      long long v = 0;
      check(H5Aread(attr, H5T_NATIVE_LLONG, &v), "attribute " + name);
      m.int_attrs[name] = v;
    }
  }
}

herr_t scale_name(hid_t, unsigned, hid_t scale, void* out) {
  char buf[512] = {0};
  if (H5DSget_scale_name(scale, buf, sizeof buf) < 0) return -1;
  *static_cast<std::string*>(out) = buf;
  return 1;  // the first scale of this dimension is its coordinate
}

void read_group(hid_t sub, DataGroup& dg, const ReadOptions& opt) {
  for (const auto& name : links_of(sub)) {
    Id ds(H5Dopen2(sub, name.c_str(), H5P_DEFAULT), "dataset " + name);
    Id type(H5Dget_type(ds), "dataset type");
    Id space(H5Dget_space(ds), "dataset space");
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> shape(static_cast<size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(space, shape.data(), nullptr);
    hsize_t total = 1;
    for (hsize_t s : shape) total *= s;
    if (H5DSis_scale(ds) > 0) {
      Coord c;
      c.name = name;
      if (H5Tget_class(type) == H5T_STRING) {
        Id mem = vlen_utf8();
        std::vector<char*> p(total, nullptr);
        if (total > 0) check(H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()), "coordinate " + name);
        for (char* s : p) c.labels.emplace_back(s ? s : "");
        if (total > 0) reclaim_strings(mem, space, p);
      } else {
        c.ints.resize(total);
        if (total > 0) check(H5Dread(ds, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, c.ints.data()), "coordinate " + name);
        if (H5Aexists(ds, "units") > 0) {
          Id a(H5Aopen(ds, "units", H5P_DEFAULT), "units");
          read_text_attr(a, c.units);
        }
      }
      dg.coords.push_back(std::move(c));
      continue;
    }
    if (std::find(opt.skip.begin(), opt.skip.end(), name) != opt.skip.end()) continue;
    Variable v;
    v.name = name;
    for (unsigned i = 0; i < static_cast<unsigned>(std::max(rank, 0)); ++i) {
      std::string dim;
      int idx = 0;
      if (H5DSiterate_scales(ds, i, &idx, scale_name, &dim) < 0 || dim.empty())
        fail("variable " + dg.name + "/" + name + ": dimension " + std::to_string(i) + " has no coordinate");
      v.dims.push_back(dim);
    }
    const H5T_class_t cls = H5Tget_class(type);
    if (cls == H5T_INTEGER) v.type = H5Tget_size(type) == 1 ? VarType::kBool : VarType::kInt32;
    if (cls == H5T_FLOAT && H5Tget_size(type) == 4) v.type = VarType::kFloat32;
    v.values.resize(total);
    if (total > 0) check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.values.data()), "reading " + name);
    for (const auto& an : attrs_of(ds)) {
      if (an == "DIMENSION_LIST" || an == "dtype") continue;
      Id a(H5Aopen(ds, an.c_str(), H5P_DEFAULT), "attribute " + an);
      std::string text;
      if (read_text_attr(a, text)) v.attrs[an] = text;
    }
    dg.vars.push_back(std::move(v));
  }
}

}  // namespace

void hdf5_no_cleanup_at_exit() { H5dont_atexit(); }

ModelFileWriter::ModelFileWriter(std::string path) : path_(std::move(path)), tmp_(temporary_beside(path_)) {
  file_ = create_file(tmp_).release();
}

ModelFileWriter::~ModelFileWriter() {
  if (file_ < 0) return;
  H5Fclose(file_);
  std::error_code ec;
  std::filesystem::remove(tmp_, ec);
}

void ModelFileWriter::add(const ModelOutput& model) {
  write_model_group(file_, model);
  names_.push_back(model.name);
}

void ModelFileWriter::commit() {
  put_root_attrs(file_, names_);
  const hid_t f = file_;
  file_ = -1;
  if (H5Fclose(f) < 0) {
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
    fail("closing " + tmp_);
  }
  publish(tmp_, path_);
}

void write_index_file(const std::string& path, const std::vector<ModelLink>& links) {
  const std::string tmp = temporary_beside(path);
  try {
    {
      Id file = create_file(tmp);
      std::vector<std::string> names;
      for (const auto& l : links) {
        check(H5Lcreate_external(l.file.c_str(), ("/" + l.name).c_str(), file, l.name.c_str(), H5P_DEFAULT,
                                 H5P_DEFAULT),
              "link to " + l.file);
        names.push_back(l.name);
      }
      put_root_attrs(file, names);
      put_text_attr(file, "herd_layout", "index");
    }
    publish(tmp, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

std::vector<std::string> list_models(const std::string& path) {
  Id file = open_file(path);
  return links_of(file);
}

bool is_index_file(const std::string& path) {
  Id file = open_file(path);
  for (const auto& name : links_of(file)) {
    H5L_info_t info;
    check(H5Lget_info(file, name.c_str(), &info, H5P_DEFAULT), "link " + name);
    if (info.type == H5L_TYPE_EXTERNAL) return true;
  }
  return false;
}

void add_groups(const std::string& path, const std::vector<std::pair<std::string, DataGroup>>& groups) {
  if (is_index_file(path))
    throw std::runtime_error(path + " is the index of an unfinished (or MPI) run; finish it with --resume, or "
                             "write the analysis elsewhere with --out");
  // Edit a copy and move it into place, so a crash leaves the original whole.
  const std::string tmp = temporary_beside(path);
  std::filesystem::copy_file(path, tmp, std::filesystem::copy_options::overwrite_existing);
  try {
    {
      quiet_hdf5();
      Id fapl(H5Pcreate(H5P_FILE_ACCESS), "file access property list");
      check(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "close degree");
      Id file(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, fapl), path + ": cannot open for writing");
      Id gcpl = creation_order_gcpl();
      for (const auto& [model, dg] : groups) {
        if (H5Lexists(file, model.c_str(), H5P_DEFAULT) <= 0) throw std::runtime_error(path + ": no model " + model);
        Id g(H5Gopen2(file, model.c_str(), H5P_DEFAULT), path + ": cannot open model " + model);
        if (H5Lexists(g, dg.name.c_str(), H5P_DEFAULT) > 0)
          check(H5Ldelete(g, dg.name.c_str(), H5P_DEFAULT), "replacing " + model + "/" + dg.name);
        Id sub(H5Gcreate2(g, dg.name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), "group " + model + "/" + dg.name);
        put_text_attr(sub, "inference_library", "herd");
        put_text_attr(sub, "inference_library_version", kVersion);
        std::vector<std::pair<std::string, Id>> scales;
        for (const auto& c : dg.coords) write_coord(sub, c, scales);
        for (const auto& v : dg.vars) write_variable(sub, dg, v, scales);
      }
    }
    publish(tmp, path);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

ModelOutput read_model(const std::string& path, const std::string& model, const ReadOptions& options) {
  Id file = open_file(path);
  // External links resolve against the index file's folder, wherever herd runs from.
  Id lapl(H5Pcreate(H5P_LINK_ACCESS), "link access property list");
  const std::string dir = std::filesystem::absolute(path).parent_path().string() + "/";
  check(H5Pset_elink_prefix(lapl, dir.c_str()), "external link prefix");
  if (H5Lexists(file, model.c_str(), H5P_DEFAULT) <= 0) throw std::runtime_error(path + ": no model " + model);
  Id g(H5Gopen2(file, model.c_str(), lapl), path + ": cannot open model " + model);
  ModelOutput m;
  m.name = model;
  read_model_attrs(g, m);
  if (options.attrs_only) return m;
  for (const auto& name : links_of(g)) {
    Id sub(H5Gopen2(g, name.c_str(), H5P_DEFAULT), "group " + model + "/" + name);
    DataGroup dg;
    dg.name = name;
    read_group(sub, dg, options);
    m.groups.push_back(std::move(dg));
  }
  return m;
}

}  // namespace herd
