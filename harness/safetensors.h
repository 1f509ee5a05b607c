// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data,
// offsets counted from the first byte after the header.
//
// A file is memory-mapped read-only and its whole header is validated when it is opened, so a
// broken file fails at once with an InputError naming the file and the tensor, never later
// halfway through a load. Tensors of every safetensors dtype are accepted in the header (real
// checkpoints hold integer tensors that we ignore); only F32, BF16 and F16 can be read, as f32.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/common/dtype.h"

namespace moetune {

// The element types a safetensors file may hold, in its spelling: a file's vocabulary, wider
// than the weight dtypes the kernels read (DType, kernels/common/dtype.h).
enum class TensorDtype {
  kBool,
  kU8,
  kI8,
  kF8E4M3,
  kF8E5M2,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64
};

std::string_view tensor_dtype_name(TensorDtype dtype);  // the safetensors spelling: "BF16"
int64_t tensor_dtype_size(TensorDtype dtype);           // bytes per element

// Exact widening conversion: every f16 value (subnormals, infinities, NaN payloads included) is
// representable in f32. bf16's is the kernels' bf16_to_f32 (kernels/common/dtype.h).
float f16_to_f32(uint16_t bits);

struct TensorInfo {
  std::string name;
  TensorDtype dtype = TensorDtype::kF32;
  std::vector<int64_t> shape;
  int64_t elements = 0;
  uint64_t begin = 0, end = 0;  // data_offsets, relative to the start of the data section
};

// "[8, 64]"
std::string shape_string(const std::vector<int64_t>& shape);

class SafetensorsFile {
 public:
  // Maps `path` and validates its header; throws InputError naming the file (and the tensor)
  // on anything malformed.
  explicit SafetensorsFile(std::string path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // sorted by name
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  // Throws InputError naming the file and the tensor when absent.
  const TensorInfo& at(std::string_view name) const;
  // at(name), and its shape must be `shape`: an InputError says what was expected.
  const TensorInfo& at(std::string_view name, const std::vector<int64_t>& shape) const;

  // Elements [first, first + count) of a tensor, converted to f32 into `out`. An InputError
  // when the dtype is not F32, BF16 or F16.
  void read_f32(const TensorInfo& t, int64_t first, int64_t count, float* out) const;
  std::vector<float> read_f32(const TensorInfo& t) const;

 private:
  void close() noexcept;

  std::string path_;
  const unsigned char* map_ = nullptr;  // the whole file
  uint64_t size_ = 0;
  uint64_t data_start_ = 0;  // 8 + header length
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct F32Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // row-major, product(shape) values
};

// Writes F32 tensors (sorted by name, as the Python library does) and optional metadata to
// `path` atomically: a temporary file in the same directory, then rename, so a reader never
// sees half a file and a failure leaves nothing behind. InputError when the file cannot be
// written (the path is the user's) or a tensor's data does not match its shape.
void write_safetensors(const std::string& path, const std::map<std::string, F32Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace moetune
