#include "harness/alloc_counter.h"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace moetune {
namespace {

// Relaxed: the counts are read after the calls they measure have returned (the reader
// synchronises with the worker threads by joining them), so no ordering is needed here.
std::atomic<int64_t> g_allocs{0};
std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_frees{0};

void* counted_alloc(std::size_t size, std::size_t align) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  if (size == 0) size = 1;  // operator new must return a distinct pointer for size 0
  void* p = nullptr;
  if (align <= alignof(std::max_align_t)) {
    p = std::malloc(size);
  } else if (posix_memalign(&p, align, size) != 0) {
    p = nullptr;
  }
  return p;
}

void* counted_new(std::size_t size, std::size_t align) {
  // operator new loops on the new-handler until it succeeds or there is none ([new.delete.single]).
  for (;;) {
    if (void* p = counted_alloc(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void* counted_new_nothrow(std::size_t size, std::size_t align) noexcept {
  try {
    return counted_new(size, align);
  } catch (...) {
    return nullptr;
  }
}

void counted_free(void* p) noexcept {
  if (!p) return;
  g_frees.fetch_add(1, std::memory_order_relaxed);
  std::free(p);
}

}  // namespace

void AllocCounter::mark() {
  allocs0_ = total_allocs();
  bytes0_ = total_bytes();
  frees0_ = total_frees();
}

int64_t AllocCounter::allocs() const { return total_allocs() - allocs0_; }
int64_t AllocCounter::bytes() const { return total_bytes() - bytes0_; }
int64_t AllocCounter::frees() const { return total_frees() - frees0_; }

int64_t AllocCounter::total_allocs() { return g_allocs.load(std::memory_order_relaxed); }
int64_t AllocCounter::total_bytes() { return g_bytes.load(std::memory_order_relaxed); }
int64_t AllocCounter::total_frees() { return g_frees.load(std::memory_order_relaxed); }

}  // namespace moetune

// The replaceable global allocation functions ([replacement.functions]). Every form is
// replaced, so that each delete frees with the allocator its new used.
using moetune::counted_free;
using moetune::counted_new;
using moetune::counted_new_nothrow;

void* operator new(std::size_t size) { return counted_new(size, 0); }
void* operator new[](std::size_t size) { return counted_new(size, 0); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, 0);
}
void* operator new(std::size_t size, std::align_val_t align) {
  return counted_new(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return counted_new(size, static_cast<std::size_t>(align));
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, static_cast<std::size_t>(align));
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return counted_new_nothrow(size, static_cast<std::size_t>(align));
}

void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_free(p);
}
