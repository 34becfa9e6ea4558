/* What xsig's own files may see of the system headers, declared once, on
 * purpose. xsig_int.h includes this before anything else, and every file of
 * src/common and src/posix includes xsig_int.h (or posix_int.h, which
 * includes it) before any system header, so every file sees the same names.
 * The build system defines no feature-test macro of its own for POSIX; a
 * build that adds -D_POSIX_C_SOURCE=200809L gets the same result (CI compiles
 * every file that way, with -std=c11 -Werror).
 *
 * The base everywhere: POSIX.1-2008 with the XSI option, for SA_ONSTACK (the
 * handler runs on a thread's alternate signal stack when it has one) and
 * killpg (xsig_send_group). Then, per system, what lies beyond it: */
#ifndef XSIG_FEATURES_H
#define XSIG_FEATURES_H
#if !defined(_WIN32)

#if defined(__FreeBSD__) || defined(__DragonFly__)
/* Any standards macro hides pipe2, MAP_ANON and minherit(INHERIT_ZERO) there,
 * and no macro brings them back. The default environment (no macro at all)
 * is POSIX.1-2008 with XSI and the BSD names, which is what xsig needs. */
#if defined(_POSIX_C_SOURCE) || defined(_XOPEN_SOURCE)
#error "build xsig on FreeBSD without _POSIX_C_SOURCE/_XOPEN_SOURCE (see xsig_features.h)"
#endif
#else
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#endif

#if defined(__linux__)
/* glibc and musl: pipe2 (close-on-exec pipes without a window), REG_RIP and
 * the other register names of <ucontext.h> (the fast wait), syscall() (I/O
 * that is no cancellation point), MAP_ANONYMOUS and madvise(MADV_WIPEONFORK)
 * (the page that fork children find empty), SOCK_CLOEXEC (sd_notify). glibc
 * shows the first two only with _GNU_SOURCE. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#elif defined(__APPLE__)
/* With _POSIX_C_SOURCE, macOS hides MAP_ANON and NSIG until this. */
#define _DARWIN_C_SOURCE
#elif defined(__NetBSD__)
#define _NETBSD_SOURCE /* pipe2, MAP_ANON, minherit */
#elif defined(__OpenBSD__)
#define _BSD_SOURCE /* pipe2, MAP_ANON, minherit */
#endif
/* Anything else gets POSIX.1-2008 with XSI and nothing more: the code takes
 * pipe() + fcntl() there and keeps no wiped page (ci/test-ports.sh builds
 * and runs that path on Linux with __linux__ undefined). */

/* glibc: a system header included before this one fixed the names already. */
#if defined(__linux__) && defined(__GLIBC__) && !defined(__USE_GNU)
#error "xsig_features.h came after a system header: include xsig_int.h first"
#endif
#endif
#endif
