/* isolate-nsexec: the supervisor's way into a sandbox's network namespace,
 * to load its netfilter rules (nft) and read them back, before and after
 * the sandbox runs. A static binary without libc, embedded in isolate and
 * run from a sealed memfd like the init (src/facilities/net/pasta.ts starts it).
 *
 *   isolate-nsexec MODE CAP PROGRAM [ARG]...
 *
 *   MODE  letters: u  join the user namespace open at fd 3 (the sandbox's),
 *                     then the network namespace at fd 4
 *                  n  (without u) join the network namespace at fd 3
 *                  p  set net.ipv4.ip_unprivileged_port_start to 0 there, so
 *                     the sandbox's unprivileged root may bind ports < 1024
 *   CAP   a capability number to keep as ambient across the exec of PROGRAM,
 *         or "-" for none
 *
 * Why not nsenter: after setns(CLONE_NEWUSER) a process holds every
 * capability in that namespace, but exec clears them unless it runs as the
 * namespace's root or they are ambient; nsenter cannot make them ambient.
 * Joining a user namespace needs a single-threaded process that shares no
 * fs_struct, hence a fresh process rather than the shim (which lives in Bun).
 *
 * Every descriptor above 2 is closed before the exec. Any failure writes
 * one line to stderr and exits 125. */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/prctl.h>
#include <linux/sched.h>

#include "sys.h"

size_t strlen(const char *s);

static void say(const char *s) { SYS3(SYS_write, 2, s, strlen(s)); }

static __attribute__((noreturn)) void fail(const char *what, long err) {
  char num[24];
  int i = (int)sizeof num - 1;
  unsigned long e = err < 0 ? (unsigned long)-err : (unsigned long)err;
  num[i] = 0;
  do num[--i] = (char)('0' + e % 10);
  while ((e /= 10) && i > 0);
  say("isolate-nsexec: ");
  say(what);
  say(": errno ");
  say(num + i);
  say("\n");
  sys_exit(125);
}

static int has(const char *s, char c) {
  for (; *s; s++)
    if (*s == c) return 1;
  return 0;
}

void nsexec_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  long r;
  if (argc < 4) {
    say("usage: isolate-nsexec MODE CAP PROGRAM [ARG]...\n");
    sys_exit(125);
  }
  const char *mode = argv[1];
  int netfd = 3;
  if (has(mode, 'u')) {
    r = SYS2(SYS_setns, 3, CLONE_NEWUSER);
    if (r < 0) fail("join the sandbox's user namespace", r);
    netfd = 4;
  }
  r = SYS2(SYS_setns, netfd, CLONE_NEWNET);
  if (r < 0) fail("join the sandbox's network namespace", r);

  if (has(mode, 'p')) {
    /* /proc/sys/net shows the opener's network namespace: the sandbox's now. */
    r = SYS4(SYS_openat, AT_FDCWD, "/proc/sys/net/ipv4/ip_unprivileged_port_start", O_WRONLY | O_CLOEXEC, 0);
    if (r < 0) fail("open ip_unprivileged_port_start", r);
    long w = SYS3(SYS_write, r, "0\n", 2);
    if (w < 0) fail("set ip_unprivileged_port_start", w);
    SYS1(SYS_close, r);
  }

  const char *c = argv[2];
  if (!(c[0] == '-' && c[1] == 0)) {
    long cap = 0;
    for (; *c; c++) {
      if (*c < '0' || *c > '9' || cap > 63) fail("bad capability number", 22);
      cap = cap * 10 + (*c - '0');
    }
    if (cap > 63) fail("bad capability number", 22);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    r = SYS2(SYS_capget, &hdr, data);
    if (r < 0) fail("capget", r);
    data[cap / 32].inheritable |= 1u << (cap % 32);
    r = SYS2(SYS_capset, &hdr, data);
    if (r < 0) fail("make the capability inheritable", r);
    r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
    if (r < 0) fail("make the capability ambient", r);
  }

  r = SYS3(SYS_close_range, 3, ~0U, 0);
  if (r < 0) fail("close descriptors", r);
  r = SYS3(SYS_execve, argv[3], argv + 3, envp);
  fail("exec", r);
}
