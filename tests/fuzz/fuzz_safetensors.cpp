// libFuzzer target: the safetensors reader (harness/safetensors.h) on arbitrary bytes. Every
// input must open as a file whose tensors can all be read, or throw InputError; a crash, a
// sanitizer report (a read past the mapping), another exception or a hang is a bug.
//
// The reader only opens paths (it mmaps the file), so each input goes through an in-memory file
// (memfd) reached by its /proc path: the reader's own open/fstat/mmap run unchanged and nothing
// touches the disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness/error.h"
#include "harness/safetensors.h"

namespace {

const std::string& memfd_path() {
  static const std::string path = [] {
    const int fd = memfd_create("fuzz.safetensors", MFD_CLOEXEC);
    if (fd < 0) std::abort();  // the harness cannot run at all; not a finding
    return "/proc/self/fd/" + std::to_string(fd);
  }();
  return path;
}

void write_all(const std::string& path, const uint8_t* data, size_t size) {
  // Truncate then write, through a fresh descriptor on the same memfd.
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = memfd_path();
  write_all(path, data, size);
  try {
    const moetune::SafetensorsFile file(path);
    for (const auto& t : file.tensors()) {
      if (file.find(t.name) != &t) __builtin_trap();  // lookup must find every listed tensor
      file.at(t.name, t.shape);
      // Reading every element checks that the validated offsets really lie inside the mapping.
      // Integer dtypes cannot be read as floats (an InputError); skipping them keeps the
      // tensors after one in reach.
      if (t.dtype != moetune::TensorDtype::kF32 && t.dtype != moetune::TensorDtype::kBF16 &&
          t.dtype != moetune::TensorDtype::kF16)
        continue;
      const std::vector<float> values = file.read_f32(t);
      if (values.size() != static_cast<size_t>(t.elements)) __builtin_trap();
    }
  } catch (const moetune::InputError&) {
    // The accepted outcome for a malformed file.
  }
  return 0;
}
