/* The few atomic operations, and the compiler extras, that xsig needs,
 * behind one small interface so that the rest of the code compiles with any
 * C11 compiler and with MSVC. Nothing outside this header may use
 * <stdatomic.h>, the Interlocked family or a compiler builtin.
 *
 * Two implementations with the same functions:
 *  - C11 <stdatomic.h>: GCC, Clang, mingw-w64. The native Linux suite and the
 *    default Windows build run this one.
 *  - Interlocked* and _BitScanForward: MSVC (_MSC_VER), whose C mode has no
 *    usable <stdatomic.h>. Define XSIG_FORCE_MSVC_ATOMICS to use it with
 *    mingw-w64, which has the same intrinsics: CI builds and runs the Windows
 *    suite that way, so the code MSVC would compile is the code that is tested.
 *
 * Orderings: each function is named for the ordering the code needs (no
 * suffix: sequentially consistent; _acq, _rel, _rlx: acquire, release,
 * relaxed). The Interlocked branch gives every one of them at least that
 * ordering: every operation, loads included, is a full-barrier interlocked
 * instruction, which also makes 64-bit loads atomic on 32-bit x86. */
#ifndef XSIG_ATOMIC_H
#define XSIG_ATOMIC_H
#include <stdint.h>

#if defined(_MSC_VER) || defined(XSIG_FORCE_MSVC_ATOMICS)
#define XSIG__MSVC_ATOMICS 1
#endif

#ifdef XSIG__MSVC_ATOMICS
#ifndef _WIN32
#error "XSIG_FORCE_MSVC_ATOMICS needs the Windows Interlocked API"
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h> /* before windows.h, which would pull in winsock 1 */
#include <windows.h>
#include <intrin.h>

typedef volatile LONG xsig__aint;   /* int-sized flags and counts */
typedef volatile LONG xsig__au32;   /* bit masks */
typedef volatile LONG64 xsig__au64; /* delivery counters */
typedef void *volatile xsig__aptr;  /* pointers */
typedef void *volatile xsig__aiptr; /* intptr_t (a descriptor or SOCKET) */

#define XSIG__A(p)   ((LONG volatile *)(uintptr_t)(p)) /* loads take const pointers */
#define XSIG__A64(p) ((LONG64 volatile *)(uintptr_t)(p))
#define XSIG__AP(p)  ((PVOID volatile *)(uintptr_t)(p))

static __inline int xsig__aint_load(const xsig__aint *p) {
  return (int)InterlockedCompareExchange(XSIG__A(p), 0, 0);
}
static __inline void xsig__aint_store(xsig__aint *p, int v) {
  InterlockedExchange(XSIG__A(p), (LONG)v);
}
static __inline int xsig__aint_xchg(xsig__aint *p, int v) {
  return (int)InterlockedExchange(XSIG__A(p), (LONG)v);
}
static __inline int xsig__aint_cas(xsig__aint *p, int *expected, int desired) {
  LONG old = InterlockedCompareExchange(XSIG__A(p), (LONG)desired, (LONG)*expected);
  if (old == (LONG)*expected) return 1;
  *expected = (int)old;
  return 0;
}
static __inline int xsig__aint_add(xsig__aint *p, int v) { /* returns the old value */
  return (int)InterlockedExchangeAdd(XSIG__A(p), (LONG)v);
}
#define xsig__aint_load_acq xsig__aint_load
#define xsig__aint_load_rlx xsig__aint_load

static __inline uint32_t xsig__au32_load_acq(const xsig__au32 *p) {
  return (uint32_t)InterlockedCompareExchange(XSIG__A(p), 0, 0);
}
static __inline void xsig__au32_store(xsig__au32 *p, uint32_t v) {
  InterlockedExchange(XSIG__A(p), (LONG)v);
}
static __inline void xsig__au32_or(xsig__au32 *p, uint32_t v) {
  InterlockedOr(XSIG__A(p), (LONG)v);
}
static __inline void xsig__au32_and(xsig__au32 *p, uint32_t v) {
  InterlockedAnd(XSIG__A(p), (LONG)v);
}

/* Only the compare-exchange: it exists on 32-bit x86 too (cmpxchg8b). */
static __inline uint64_t xsig__au64_load(const xsig__au64 *p) {
  return (uint64_t)InterlockedCompareExchange64(XSIG__A64(p), 0, 0);
}
static __inline int xsig__au64_cas(xsig__au64 *p, uint64_t *expected, uint64_t desired) {
  LONG64 old = InterlockedCompareExchange64(XSIG__A64(p), (LONG64)desired, (LONG64)*expected);
  if (old == (LONG64)*expected) return 1;
  *expected = (uint64_t)old;
  return 0;
}
static __inline void xsig__au64_store(xsig__au64 *p, uint64_t v) {
  uint64_t cur = xsig__au64_load(p);
  while (!xsig__au64_cas(p, &cur, v)) {
  }
}
static __inline uint64_t xsig__au64_add(xsig__au64 *p, uint64_t v) { /* returns the old value */
  uint64_t cur = xsig__au64_load(p);
  while (!xsig__au64_cas(p, &cur, cur + v)) {
  }
  return cur;
}
#define xsig__au64_load_acq  xsig__au64_load
#define xsig__au64_load_rlx  xsig__au64_load
#define xsig__au64_store_rlx xsig__au64_store
#define xsig__au64_cas_weak  xsig__au64_cas

static __inline void *xsig__aptr_load(const xsig__aptr *p) {
  return InterlockedCompareExchangePointer(XSIG__AP(p), NULL, NULL);
}
static __inline void xsig__aptr_store(xsig__aptr *p, void *v) {
  InterlockedExchangePointer(XSIG__AP(p), v);
}
static __inline void *xsig__aptr_xchg(xsig__aptr *p, void *v) {
  return InterlockedExchangePointer(XSIG__AP(p), v);
}
static __inline int xsig__aptr_cas(xsig__aptr *p, void **expected, void *desired) {
  void *old = InterlockedCompareExchangePointer(XSIG__AP(p), desired, *expected);
  if (old == *expected) return 1;
  *expected = old;
  return 0;
}
#define xsig__aptr_load_acq  xsig__aptr_load
#define xsig__aptr_store_rel xsig__aptr_store

static __inline intptr_t xsig__aiptr_load(const xsig__aiptr *p) {
  return (intptr_t)xsig__aptr_load(p);
}
static __inline void xsig__aiptr_store(xsig__aiptr *p, intptr_t v) {
  xsig__aptr_store(p, (void *)v);
}

/* A compiler-only barrier between a thread and its own signal handler. */
#define xsig__signal_fence() _ReadWriteBarrier()

/* Index of the lowest set bit of a non-zero word. */
static __inline int xsig__ctz32(uint32_t m) {
  unsigned long i;
  _BitScanForward(&i, (unsigned long)m);
  return (int)i;
}

#else /* C11 */
#include <stdatomic.h>

#if ATOMIC_LLONG_LOCK_FREE != 2
#error "xsig needs lock-free 64-bit atomics: the signal handler stores through them"
#endif

typedef _Atomic int xsig__aint;
typedef _Atomic uint32_t xsig__au32;
typedef _Atomic uint64_t xsig__au64;
typedef void *_Atomic xsig__aptr;
typedef _Atomic intptr_t xsig__aiptr;

/* C11's loads take non-const pointers in some libraries' <stdatomic.h>. */
#define XSIG__UNCONST(T, p) ((T *)(uintptr_t)(p))

static inline int xsig__aint_load(const xsig__aint *p) {
  return atomic_load(XSIG__UNCONST(xsig__aint, p));
}
static inline int xsig__aint_load_acq(const xsig__aint *p) {
  return atomic_load_explicit(XSIG__UNCONST(xsig__aint, p), memory_order_acquire);
}
static inline int xsig__aint_load_rlx(const xsig__aint *p) {
  return atomic_load_explicit(XSIG__UNCONST(xsig__aint, p), memory_order_relaxed);
}
static inline void xsig__aint_store(xsig__aint *p, int v) {
  atomic_store(p, v);
}
static inline int xsig__aint_xchg(xsig__aint *p, int v) {
  return atomic_exchange(p, v);
}
static inline int xsig__aint_cas(xsig__aint *p, int *expected, int desired) {
  return atomic_compare_exchange_strong(p, expected, desired);
}
static inline int xsig__aint_add(xsig__aint *p, int v) {
  return atomic_fetch_add(p, v);
}

static inline uint32_t xsig__au32_load_acq(const xsig__au32 *p) {
  return atomic_load_explicit(XSIG__UNCONST(xsig__au32, p), memory_order_acquire);
}
static inline void xsig__au32_store(xsig__au32 *p, uint32_t v) {
  atomic_store(p, v);
}
static inline void xsig__au32_or(xsig__au32 *p, uint32_t v) {
  atomic_fetch_or(p, v);
}
static inline void xsig__au32_and(xsig__au32 *p, uint32_t v) {
  atomic_fetch_and(p, v);
}

static inline uint64_t xsig__au64_load(const xsig__au64 *p) {
  return atomic_load(XSIG__UNCONST(xsig__au64, p));
}
static inline uint64_t xsig__au64_load_acq(const xsig__au64 *p) {
  return atomic_load_explicit(XSIG__UNCONST(xsig__au64, p), memory_order_acquire);
}
static inline uint64_t xsig__au64_load_rlx(const xsig__au64 *p) {
  return atomic_load_explicit(XSIG__UNCONST(xsig__au64, p), memory_order_relaxed);
}
static inline void xsig__au64_store(xsig__au64 *p, uint64_t v) {
  atomic_store(p, v);
}
static inline void xsig__au64_store_rlx(xsig__au64 *p, uint64_t v) {
  atomic_store_explicit(p, v, memory_order_relaxed);
}
static inline int xsig__au64_cas_weak(xsig__au64 *p, uint64_t *expected, uint64_t desired) {
  return atomic_compare_exchange_weak(p, expected, desired);
}
static inline uint64_t xsig__au64_add(xsig__au64 *p, uint64_t v) {
  return atomic_fetch_add(p, v);
}

static inline void *xsig__aptr_load(const xsig__aptr *p) {
  return atomic_load(XSIG__UNCONST(xsig__aptr, p));
}
static inline void *xsig__aptr_load_acq(const xsig__aptr *p) {
  return atomic_load_explicit(XSIG__UNCONST(xsig__aptr, p), memory_order_acquire);
}
static inline void xsig__aptr_store(xsig__aptr *p, void *v) {
  atomic_store(p, v);
}
static inline void xsig__aptr_store_rel(xsig__aptr *p, void *v) {
  atomic_store_explicit(p, v, memory_order_release);
}
static inline void *xsig__aptr_xchg(xsig__aptr *p, void *v) {
  return atomic_exchange(p, v);
}
static inline int xsig__aptr_cas(xsig__aptr *p, void **expected, void *desired) {
  return atomic_compare_exchange_strong(p, expected, desired);
}

static inline intptr_t xsig__aiptr_load(const xsig__aiptr *p) {
  return atomic_load(XSIG__UNCONST(xsig__aiptr, p));
}
static inline void xsig__aiptr_store(xsig__aiptr *p, intptr_t v) {
  atomic_store(p, v);
}

#define xsig__signal_fence() atomic_signal_fence(memory_order_seq_cst)

static inline int xsig__ctz32(uint32_t m) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctz(m);
#else
  int i = 0;
  while (!(m & 1u)) {
    m >>= 1;
    i++;
  }
  return i;
#endif
}
#endif

/* This function's frame, for the sanitizer-only code that needs it (GCC and
 * Clang are the only compilers with AddressSanitizer builds of the POSIX
 * backend). */
#if defined(__GNUC__) || defined(__clang__)
#define XSIG__FRAME_ADDRESS() ((char *)__builtin_frame_address(0))
#endif

/* Thread-local storage: MSVC spells it its own way. */
#ifdef _MSC_VER
#define XSIG__THREAD_LOCAL __declspec(thread)
#else
#define XSIG__THREAD_LOCAL _Thread_local
#endif
#endif
