/* Raw system calls for code that runs between clone and execve.
 *
 * These never touch errno (which lives in the thread-local storage of the
 * Bun thread that called clone, shared with the child until it execs) and
 * never take a libc lock. A call returns the kernel's value: >= 0 on success,
 * -errno on failure. */
#ifndef ISOLATE_SYS_H
#define ISOLATE_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
}
#else
#error "isolate: unsupported architecture (x86_64 and aarch64 only)"
#endif

#define SYS0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* Numbers that older libc headers may lack. */
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Fresh zeroed pages: the only allocation code after clone may make. */
static inline void *sys_alloc(unsigned long len) {
  long m = sys6(SYS_mmap, 0, (long)len, 0x1 | 0x2 /* PROT_READ|PROT_WRITE */,
                0x02 | 0x20 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
  return (m < 0 && m > -4096) ? (void *)0 : (void *)m;
}

static inline __attribute__((noreturn)) void sys_exit(int code) {
  for (;;) SYS1(SYS_exit_group, code);
}

#endif
