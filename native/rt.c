/* The init's whole runtime: an entry point and the memory functions the
 * compiler may call. The init links no libc. RT_ENTRY names the C entry
 * (the init's by default; the network helper, nsexec.c, builds with its own). */
#include <stddef.h>

#ifndef RT_ENTRY
#define RT_ENTRY "init_main"
#endif

__asm__(
#if defined(__x86_64__)
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  mov %rsp, %rdi\n"
    "  and $-16, %rsp\n"
    "  call " RT_ENTRY "\n"
    "  ud2\n"
#elif defined(__aarch64__)
    ".text\n"
    ".global _start\n"
    "_start:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, sp\n"
    "  bl " RT_ENTRY "\n"
    "  brk #0\n"
#endif
);

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if (dp < sp)
    while (n--) *dp++ = *sp++;
  else
    while (n--) dp[n] = sp[n];
  return d;
}

void *memset(void *d, int c, size_t n) {
  unsigned char *dp = d;
  while (n--) *dp++ = (unsigned char)c;
  return d;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}
