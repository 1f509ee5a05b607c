// 64-byte aligned storage: one cache line, and one AVX-512 register.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

namespace moetune {

inline constexpr std::size_t kCacheLine = 64;

struct AlignedFree {
  void operator()(void* p) const noexcept { std::free(p); }
};

template <typename T>
using AlignedPtr = std::unique_ptr<T[], AlignedFree>;

// Uninitialised; the size is rounded up to whole cache lines so that vector tails may be
// loaded past `count` without leaving the allocation.
template <typename T>
AlignedPtr<T> aligned_alloc_array(std::size_t count) {
  std::size_t bytes = (count * sizeof(T) + kCacheLine - 1) / kCacheLine * kCacheLine;
  if (bytes == 0) bytes = kCacheLine;
  void* p = std::aligned_alloc(kCacheLine, bytes);
  if (!p) throw std::bad_alloc();
  return AlignedPtr<T>(static_cast<T*>(p));
}

// A resizable aligned buffer that only grows: reused across calls, it stops allocating once
// it has seen the largest size.
template <typename T>
class AlignedBuffer {
 public:
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  std::size_t capacity() const { return capacity_; }
  T* reserve(std::size_t count) {
    if (count > capacity_) {
      data_ = aligned_alloc_array<T>(count);
      capacity_ = count;
    }
    return data_.get();
  }

 private:
  AlignedPtr<T> data_;
  std::size_t capacity_ = 0;
};

}  // namespace moetune
