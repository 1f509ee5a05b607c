#include "harness/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "harness/error.h"

namespace moetune {
namespace {

// The reference implementation refuses headers above 100 MB; a larger length is a corrupt or
// hostile file, and we would otherwise hand the JSON parser gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct TensorDtypeEntry {
  TensorDtype dtype;
  std::string_view name;
  int64_t size;
};

constexpr TensorDtypeEntry kTensorDtypes[] = {
    {TensorDtype::kBool, "BOOL", 1},      {TensorDtype::kU8, "U8", 1},
    {TensorDtype::kI8, "I8", 1},          {TensorDtype::kF8E4M3, "F8_E4M3", 1},
    {TensorDtype::kF8E5M2, "F8_E5M2", 1}, {TensorDtype::kI16, "I16", 2},
    {TensorDtype::kU16, "U16", 2},        {TensorDtype::kF16, "F16", 2},
    {TensorDtype::kBF16, "BF16", 2},      {TensorDtype::kI32, "I32", 4},
    {TensorDtype::kU32, "U32", 4},        {TensorDtype::kF32, "F32", 4},
    {TensorDtype::kF64, "F64", 8},        {TensorDtype::kI64, "I64", 8},
    {TensorDtype::kU64, "U64", 8},
};

const TensorDtypeEntry* find_tensor_dtype(std::string_view name) {
  for (const auto& d : kTensorDtypes)
    if (d.name == name) return &d;
  return nullptr;
}

const TensorDtypeEntry& entry(TensorDtype dtype) {
  for (const auto& d : kTensorDtypes)
    if (d.dtype == dtype) return d;
  return kTensorDtypes[0];  // unreachable: every enumerator is in the table
}

std::string errno_text() { return std::strerror(errno); }

std::string tensor_where(const std::string& name) { return "tensor " + name; }

// A non-negative integer that fits in int64 (JSON numbers may be negative, fractional or huge).
bool as_count(const nlohmann::json& j, uint64_t& out) {
  if (j.is_number_unsigned()) {
    out = j.get<uint64_t>();
    return out <= static_cast<uint64_t>(INT64_MAX);
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

TensorInfo parse_entry(const std::string& path, const std::string& name, const nlohmann::json& j,
                       uint64_t data_bytes) {
  const std::string where = tensor_where(name);
  if (!j.is_object())
    throw InputError(path, where, "expected an object {dtype, shape, data_offsets}");
  TensorInfo t;
  t.name = name;

  const auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string())
    throw InputError(path, where, "missing \"dtype\" (expected a string such as \"BF16\")");
  const TensorDtypeEntry* d = find_tensor_dtype(dt->get_ref<const std::string&>());
  if (!d)
    throw InputError(path, where,
                     "unknown dtype \"" + dt->get<std::string>() +
                         "\" (expected a safetensors dtype: F32, BF16, F16, I64, ...)");
  t.dtype = d->dtype;

  const auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array())
    throw InputError(path, where, "missing \"shape\" (expected a list of sizes)");
  uint64_t elements = 1;
  for (const auto& dim : *sh) {
    uint64_t n = 0;
    if (!as_count(dim, n))
      throw InputError(path, where, "shape " + sh->dump() + ": sizes must be integers >= 0");
    if (__builtin_mul_overflow(elements, n, &elements) ||
        elements > static_cast<uint64_t>(INT64_MAX))
      throw InputError(path, where, "shape " + sh->dump() + " has too many elements");
    t.shape.push_back(static_cast<int64_t>(n));
  }
  t.elements = static_cast<int64_t>(elements);

  const auto off = j.find("data_offsets");
  if (off == j.end() || !off->is_array() || off->size() != 2 || !as_count((*off)[0], t.begin) ||
      !as_count((*off)[1], t.end))
    throw InputError(path, where, "expected \"data_offsets\": [begin, end], two integers >= 0");
  if (t.end < t.begin)
    throw InputError(path, where,
                     "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                         "]: end is before begin");
  if (t.end > data_bytes)
    throw InputError(path, where,
                     "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                         "] out of range: the data section holds " + std::to_string(data_bytes) +
                         " bytes");
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(elements, static_cast<uint64_t>(d->size), &bytes) ||
      bytes != t.end - t.begin)
    throw InputError(path, where,
                     "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                         "] span " + std::to_string(t.end - t.begin) + " bytes, but shape " +
                         shape_string(t.shape) + " of " + std::string(d->name) + " needs " +
                         std::to_string(elements) + " x " + std::to_string(d->size) + " bytes");
  return t;
}

}  // namespace

std::string_view tensor_dtype_name(TensorDtype dtype) { return entry(dtype).name; }
int64_t tensor_dtype_size(TensorDtype dtype) { return entry(dtype).size; }

float f16_to_f32(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exponent = (bits >> 10) & 0x1fu;
  uint32_t mantissa = bits & 0x3ffu;
  uint32_t u;
  if (exponent == 0x1f) {
    u = sign | 0x7f800000u | (mantissa << 13);  // inf, or NaN keeping its payload
  } else if (exponent != 0) {
    u = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    u = sign;  // ±0
  } else {
    // A subnormal f16 is mantissa x 2^-24; it is a normal f32. Shift the leading one up to the
    // implicit bit position, lowering the exponent once per shift.
    int e = -14;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    u = sign | (static_cast<uint32_t>(e + 127) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

SafetensorsFile::SafetensorsFile(std::string path) : path_(std::move(path)) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path_, "", "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    throw InputError(path_, "", "cannot stat: " + why);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(path_, "", "not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw InputError(path_, "header",
                     "file is " + std::to_string(size_) +
                         " bytes, too short for the 8-byte header length of a safetensors file");
  }
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  const std::string why = errno_text();
  ::close(fd);  // the mapping keeps the file alive
  if (p == MAP_FAILED) throw InputError(path_, "", "cannot map: " + why);
  map_ = static_cast<const unsigned char*>(p);

  try {
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_[i];
    if (header_len > kMaxHeaderBytes)
      throw InputError(path_, "header",
                       "header length " + std::to_string(header_len) + " exceeds the " +
                           std::to_string(kMaxHeaderBytes) + "-byte limit (corrupt file?)");
    if (header_len > size_ - 8)
      throw InputError(path_, "header",
                       "header length " + std::to_string(header_len) +
                           " runs past the end of the " + std::to_string(size_) +
                           "-byte file (truncated?)");
    data_start_ = 8 + header_len;
    const uint64_t data_bytes = size_ - data_start_;

    const auto* h = reinterpret_cast<const char*>(map_ + 8);
    const nlohmann::json header = nlohmann::json::parse(h, h + header_len, nullptr, false);
    if (header.is_discarded()) throw InputError(path_, "header", "the header is not valid JSON");
    if (!header.is_object())
      throw InputError(path_, "header", "the header is not a JSON object of tensors");

    for (const auto& [name, value] : header.items()) {
      if (name == "__metadata__") {
        if (!value.is_object())
          throw InputError(path_, "__metadata__", "expected an object of string values");
        for (const auto& [k, v] : value.items()) {
          if (!v.is_string())
            throw InputError(path_, "__metadata__ key " + k, "expected a string value");
          metadata_[k] = v.get<std::string>();
        }
        continue;
      }
      tensors_.push_back(parse_entry(path_, name, value, data_bytes));
    }
    std::sort(tensors_.begin(), tensors_.end(),
              [](const TensorInfo& a, const TensorInfo& b) { return a.name < b.name; });

    // Tensors must not share bytes: a writer that overlapped them would make one tensor's
    // values depend on another's. Empty tensors occupy nothing and cannot overlap.
    std::vector<const TensorInfo*> by_offset;
    for (const auto& t : tensors_)
      if (t.end > t.begin) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
      return a->begin != b->begin ? a->begin < b->begin : a->name < b->name;
    });
    for (size_t i = 1; i < by_offset.size(); ++i)
      if (by_offset[i]->begin < by_offset[i - 1]->end)
        throw InputError(path_, tensor_where(by_offset[i]->name),
                         "data_offsets [" + std::to_string(by_offset[i]->begin) + ", " +
                             std::to_string(by_offset[i]->end) + "] overlap those of tensor " +
                             by_offset[i - 1]->name + " [" +
                             std::to_string(by_offset[i - 1]->begin) + ", " +
                             std::to_string(by_offset[i - 1]->end) + "]");
  } catch (...) {
    close();
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() { close(); }

void SafetensorsFile::close() noexcept {
  if (map_) ::munmap(const_cast<unsigned char*>(map_), size_);
  map_ = nullptr;
  size_ = 0;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept
    : path_(std::move(o.path_)),
      map_(o.map_),
      size_(o.size_),
      data_start_(o.data_start_),
      tensors_(std::move(o.tensors_)),
      metadata_(std::move(o.metadata_)) {
  o.map_ = nullptr;
  o.size_ = 0;
}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
  if (this != &o) {
    close();
    path_ = std::move(o.path_);
    map_ = o.map_;
    size_ = o.size_;
    data_start_ = o.data_start_;
    tensors_ = std::move(o.tensors_);
    metadata_ = std::move(o.metadata_);
    o.map_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorInfo& t, std::string_view n) { return std::string_view(t.name) < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorInfo& SafetensorsFile::at(std::string_view name) const {
  const TensorInfo* t = find(name);
  if (!t) throw InputError(path_, tensor_where(std::string(name)), "no such tensor in the file");
  return *t;
}

const TensorInfo& SafetensorsFile::at(std::string_view name,
                                      const std::vector<int64_t>& shape) const {
  const TensorInfo& t = at(name);
  if (t.shape != shape)
    throw InputError(path_, tensor_where(t.name),
                     "shape " + shape_string(t.shape) + ", expected " + shape_string(shape));
  return t;
}

void SafetensorsFile::read_f32(const TensorInfo& t, int64_t first, int64_t count,
                               float* out) const {
  if (first < 0 || count < 0 || first > t.elements || count > t.elements - first)
    throw std::out_of_range("SafetensorsFile::read_f32: elements [" + std::to_string(first) +
                            ", +" + std::to_string(count) + ") outside tensor " + t.name);
  const unsigned char* src =
      map_ + data_start_ + t.begin + static_cast<uint64_t>(first) * tensor_dtype_size(t.dtype);
  // The data section has no alignment guarantee (the header length is arbitrary), so every
  // element is read with memcpy rather than through a cast pointer.
  switch (t.dtype) {
    case TensorDtype::kF32:
      // An empty tensor's destination may be null (an empty vector's data()), which memcpy may
      // not be given even for zero bytes (UBSan: nonnull-attribute).
      if (count > 0) std::memcpy(out, src, static_cast<size_t>(count) * sizeof(float));
      return;
    case TensorDtype::kBF16:
      for (int64_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        out[i] = bf16_to_f32(b);
      }
      return;
    case TensorDtype::kF16:
      for (int64_t i = 0; i < count; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        out[i] = f16_to_f32(b);
      }
      return;
    default:
      throw InputError(path_, tensor_where(t.name),
                       "dtype " + std::string(tensor_dtype_name(t.dtype)) +
                           " cannot be read as floats (expected F32, BF16 or F16)");
  }
}

std::vector<float> SafetensorsFile::read_f32(const TensorInfo& t) const {
  std::vector<float> v(static_cast<size_t>(t.elements));
  read_f32(t, 0, t.elements, v.data());
  return v;
}

void write_safetensors(const std::string& path, const std::map<std::string, F32Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    int64_t elements = 1;
    for (const int64_t d : t.shape) elements *= d;
    if (elements < 0 || static_cast<size_t>(elements) != t.data.size())
      throw InputError(path, tensor_where(name),
                       "shape " + shape_string(t.shape) + " needs " + std::to_string(elements) +
                           " values, got " + std::to_string(t.data.size()));
    const uint64_t bytes = t.data.size() * sizeof(float);
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces to a multiple of 8 so the data starts aligned, as the Python library does.
  text.append((8 - text.size() % 8) % 8, ' ');

  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string tmp = (slash == std::string::npos ? std::string() : dir + "/") + "." +
                    path.substr(slash == std::string::npos ? 0 : slash + 1) + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw InputError(path, "", "cannot create a file in " + dir + ": " + errno_text());
  // mkstemp creates 0600; an output file should be readable like any other (umask is process
  // wide and cannot be read without a race, so use the common default).
  ::fchmod(fd, 0644);
  FILE* f = ::fdopen(fd, "wb");
  if (!f) {
    const std::string why = errno_text();
    ::close(fd);
    ::unlink(tmp.c_str());
    throw InputError(path, "", "cannot write: " + why);
  }
  uint64_t len = text.size();
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(len >> (8 * i));
  bool ok = std::fwrite(len_bytes, 1, 8, f) == 8 &&
            std::fwrite(text.data(), 1, text.size(), f) == text.size();
  for (const auto& entry : tensors) {
    const auto& data = entry.second.data;
    if (ok && !data.empty())
      ok = std::fwrite(data.data(), sizeof(float), data.size(), f) == data.size();
  }
  ok = std::fflush(f) == 0 && ok;
  const std::string why = errno_text();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = ok ? errno_text() : why;
    ::unlink(tmp.c_str());
    throw InputError(path, "", "cannot write: " + reason);
  }
}

}  // namespace moetune
