/* clone3 on a caller-given stack, running fn(arg) in the child.
 *
 * The child starts on the new stack with every register of the parent
 * but rax/x0 and sp; fn must end with execve or exit and never return into
 * the parent's frames. Used with CLONE_VM | CLONE_VFORK: the child borrows the
 * caller's memory until it execs, so the caller is never copied. */
#ifndef ISOLATE_CLONE3_H
#define ISOLATE_CLONE3_H

#include <linux/sched.h>
#include <stddef.h>

#include "sys.h"

typedef int (*clone_fn)(void *);

static inline long clone3_run(struct clone_args *ca, size_t size, clone_fn fn, void *arg) {
#if defined(__x86_64__)
  long ret;
  register clone_fn r12 __asm__("r12") = fn;
  register void *r13 __asm__("r13") = arg;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "mov %%eax, %%edi\n\t"
      "mov %[exit], %%eax\n\t"
      "syscall\n\t"
      "ud2\n"
      "1:\n\t"
      : "=a"(ret)
      : "0"((long)SYS_clone3), "D"(ca), "S"(size), "r"(r12), "r"(r13), [exit] "i"(SYS_exit_group)
      : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = SYS_clone3;
  register long x0 __asm__("x0") = (long)ca;
  register long x1 __asm__("x1") = (long)size;
  register clone_fn x19 __asm__("x19") = fn;
  register void *x20 __asm__("x20") = arg;
  __asm__ volatile(
      "svc 0\n\t"
      "cbnz x0, 1f\n\t"
      "mov x29, #0\n\t"
      "mov x30, #0\n\t"
      "mov x0, x20\n\t"
      "blr x19\n\t"
      "mov x8, %[exit]\n\t"
      "svc 0\n\t"
      "brk #0\n"
      "1:\n\t"
      : "+r"(x0)
      : "r"(x8), "r"(x1), "r"(x19), "r"(x20), [exit] "i"(SYS_exit_group)
      : "memory");
  return x0;
#endif
}

#endif
