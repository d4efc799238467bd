/* Host probes for `isolate check`: which namespaces this user can create,
 * whether overlayfs mounts inside a user namespace, and the kernel features
 * the sandbox relies on. Each namespace probe runs in a short-lived child
 * (clone3 with CLONE_VM | CLONE_VFORK, as isolate_spawn does) that makes no
 * libc call, and takes its namespaces with it when it exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone3.h"
#include "sys.h"

#define EXPORT __attribute__((visibility("default")))
#define PROBE_STACK (64 * 1024)

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

struct probe_ctx {
  int (*fn)(struct probe_ctx *);
  long err;   /* what the child found: 0 or -errno */
  int stage;  /* where it stopped (overlay probe) */
  uint64_t unshare_flags;
  long uid, gid;
  /* prepared by the parent: the child only makes system calls */
  char uid_map[64], gid_map[64];
  char tmp[256], lower[280], upper[280], work[280], merged[280], opts[1024];
};

static int child_entry(void *p) {
  struct probe_ctx *c = p;
  c->err = c->fn(c);
  sys_exit(0);
}

/* Run c->fn in a child with extra clone flags; returns -errno if the clone itself fails. */
static long run_child(struct probe_ctx *c, uint64_t clone_flags) {
  void *stack = mmap(NULL, PROBE_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -errno;
  int pidfd = -1;
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = clone_flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD;
  ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
  ca.stack = (uint64_t)(uintptr_t)stack;
  ca.stack_size = PROBE_STACK;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = clone3_run(&ca, sizeof ca, child_entry, c);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  munmap(stack, PROBE_STACK);
  if (pid < 0) return pid;
  siginfo_t si;
  while (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | __WALL, NULL) < 0 && errno == EINTR) {
  }
  close(pidfd);
  return 0;
}

/* Optionally become another user (uid >= 0), then ask for the namespaces. */
static int try_unshare(struct probe_ctx *c) {
  if (c->uid >= 0) {
    long r = SYS2(SYS_setgroups, 0, 0);
    if (r < 0) return (int)r;
    r = SYS3(SYS_setresgid, c->gid, c->gid, c->gid);
    if (r < 0) return (int)r;
    r = SYS3(SYS_setresuid, c->uid, c->uid, c->uid);
    if (r < 0) return (int)r;
  }
  return (int)SYS1(SYS_unshare, c->unshare_flags);
}

/* Can namespaces `flags` be created (with CLONE_NEWUSER in flags: inside a
 * new user namespace)? As this process (uid < 0), or as uid:gid (root only:
 * the answer for an unprivileged user). Returns 0 or -errno. */
EXPORT int isolate_probe_ns(uint64_t flags, int32_t uid, int32_t gid) {
  struct probe_ctx c;
  memset(&c, 0, sizeof c);
  c.fn = try_unshare;
  c.uid = uid;
  c.gid = gid;
  c.unshare_flags = flags;
  long r = run_child(&c, 0);
  return (int)(r < 0 ? r : c.err);
}

static long write_file(const char *path, const char *text) {
  long fd = SYS3(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long n = 0;
  while (text[n]) n++;
  long w = SYS3(SYS_write, fd, text, n);
  SYS1(SYS_close, fd);
  return w < 0 ? w : 0;
}

enum overlay_stage { OV_MAPS = 1, OV_PRIVATE, OV_TMPFS, OV_DIRS, OV_OVERLAY };

static int overlay_in_userns(struct probe_ctx *c) {
  long r;
  c->stage = OV_MAPS;
  write_file("/proc/self/setgroups", "deny");
  if ((r = write_file("/proc/self/uid_map", c->uid_map)) < 0) return (int)r;
  if ((r = write_file("/proc/self/gid_map", c->gid_map)) < 0) return (int)r;
  c->stage = OV_PRIVATE;
  if ((r = SYS5(SYS_mount, "none", "/", 0, MS_REC | MS_PRIVATE, 0)) < 0) return (int)r;
  c->stage = OV_TMPFS;
  if ((r = SYS5(SYS_mount, "tmpfs", c->tmp, "tmpfs", 0, "mode=0755")) < 0) return (int)r;
  c->stage = OV_DIRS;
  const char *dirs[] = {c->lower, c->upper, c->work, c->merged};
  for (int i = 0; i < 4; i++)
    if ((r = SYS3(SYS_mkdirat, AT_FDCWD, dirs[i], 0755)) < 0) return (int)r;
  c->stage = OV_OVERLAY;
  if ((r = SYS5(SYS_mount, "overlay", c->merged, "overlay", 0, c->opts)) < 0) return (int)r;
  c->stage = 0;
  return 0;
}

/* Does overlayfs mount inside a new user namespace (on a tmpfs over `dir`,
 * in a mount namespace that dies with the child)? out[0] = stage that
 * failed (0 = none), out[1] = -errno. Returns 0 when it mounts. */
EXPORT int isolate_probe_overlay(const char *dir, int32_t *out) {
  struct probe_ctx c;
  memset(&c, 0, sizeof c);
  c.fn = overlay_in_userns;
  if (strlen(dir) > 200) return -ENAMETOOLONG;
  snprintf(c.uid_map, sizeof c.uid_map, "0 %u 1", (unsigned)geteuid());
  snprintf(c.gid_map, sizeof c.gid_map, "0 %u 1", (unsigned)getegid());
  snprintf(c.tmp, sizeof c.tmp, "%s", dir);
  snprintf(c.lower, sizeof c.lower, "%s/l", dir);
  snprintf(c.upper, sizeof c.upper, "%s/u", dir);
  snprintf(c.work, sizeof c.work, "%s/w", dir);
  snprintf(c.merged, sizeof c.merged, "%s/m", dir);
  snprintf(c.opts, sizeof c.opts, "lowerdir=%s,upperdir=%s,workdir=%s", c.lower, c.upper, c.work);
  long r = run_child(&c, CLONE_NEWUSER | CLONE_NEWNS);
  if (r < 0) {
    out[0] = -1;
    out[1] = (int32_t)r;
    return (int)r;
  }
  out[0] = c.stage;
  out[1] = (int32_t)c.err;
  return (int)c.err;
}

/* Kernel features, each >= 0 when present or -errno:
 *   out[0] clone3 (1), out[1] pidfd_open (1), out[2] seccomp filters with
 *   SECCOMP_RET_KILL_PROCESS (1), out[3] Landlock ABI version, out[4] this
 *   process's seccomp mode (0 none, 2 filtered). */
EXPORT void isolate_probe_features(int32_t *out) {
  /* clone3 with a too-small size: EINVAL where it exists. */
  long r = syscall(SYS_clone3, NULL, 0);
  out[0] = r < 0 && errno == ENOSYS ? -ENOSYS : 1;
  long fd = syscall(SYS_pidfd_open, getpid(), 0);
  out[1] = fd < 0 ? -errno : 1;
  if (fd >= 0) close((int)fd);
  uint32_t action = SECCOMP_RET_KILL_PROCESS;
  r = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
  out[2] = r < 0 ? -errno : 1;
  r = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  out[3] = r < 0 ? -errno : (int32_t)r;
  r = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  out[4] = r < 0 ? -errno : (int32_t)r;
}
