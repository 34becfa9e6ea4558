/* A counting malloc interposer. The executable's own malloc family takes
 * precedence over the C library's for every object in the process, libxsig
 * included, so a count read around the delivery path shows any allocation
 * made on it, wherever it comes from. */
#include "bench.h"
#include <errno.h>
#include <stdatomic.h>

static _Atomic uint64_t allocs;

#if defined(__GLIBC__)
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

static void count(void) {
  atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
}

void *malloc(size_t n) {
  count();
  return __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
  count();
  return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n) {
  count();
  return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
  if (align % sizeof(void *) || (align & (align - 1))) return EINVAL;
  count();
  void *p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void free(void *p) {
  __libc_free(p);
}

uint64_t bench_allocs(void) {
  return atomic_load_explicit(&allocs, memory_order_relaxed);
}
#else
/* No portable way to reach the real allocator: report "unknown". */
uint64_t bench_allocs(void) {
  return UINT64_MAX;
}
#endif
