/* The shim: the shared object Bun loads through bun:ffi.
 *
 * isolate_spawn() checks the plan, then clones with CLONE_VM | CLONE_VFORK:
 * the child borrows Bun's memory on a small private stack, arranges its file
 * descriptors, and execs the sandbox init (a static binary held in a memfd).
 * The caller's thread is paused for that short span only; nothing of Bun is
 * copied, and no JS runs in the child. Everything in child_main() is raw
 * system calls: the child shares Bun's thread-local errno and heap. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone3.h"
#include "plan.h"
#include "record.h"
#include "sys.h"

#define EXPORT __attribute__((visibility("default")))
#define ABI_VERSION 3
#define CHILD_STACK (64 * 1024)

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

struct child_ctx {
  int src[8]; /* stdin, stdout, stderr, plan, sync, record, init exe, [enter: target pidfd] */
  int nsrc;   /* 7, or 8 to enter a running sandbox (named sandboxes) */
  int raise_caps;
  /* "ISOLATE_SUPERVISOR=PID": tells the host whose sandbox an init is. In its
   * environment, which only the host can read (the init is not dumpable
   * before the command exists), never in its argv: /proc/1/cmdline inside
   * shows no host pid. */
  char owner[32];
};

static __attribute__((noreturn)) void child_fail(int fd, int stage, long err) {
  record_send(fd, REC_ERROR, -1, stage, (int32_t)-err, 0, 0);
  sys_exit(125);
}

static int child_main(void *p) {
  struct child_ctx *c = p;
  long r;

  SYS5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  /* A session of its own: the kernel shares CPU time among sessions
   * (autogroups) before among their processes, so left in the caller's, the
   * sandbox would compete with all of the caller's processes at once (a burst
   * of runs from one shell: a hundred supervisors). The command, forked by an
   * init that may be SCHED_FIFO, is a normal task that waits its turn in that
   * crowd until its own setsid; a SIGTERM at its deadline could not end it
   * before. Signals from the caller's terminal reach the sandbox through its
   * supervisor only (as they reach the command, which has a session of its own). */
  r = SYS0(SYS_setsid);
  if (r < 0) child_fail(c->src[5], STAGE_SESSION, r);

  /* Lift every source above the targets, then put each in place. */
  int tmp[8];
  for (int i = 0; i < c->nsrc; i++) {
    r = SYS3(SYS_fcntl, c->src[i], F_DUPFD_CLOEXEC, 64);
    if (r < 0) child_fail(c->src[5], STAGE_FDS, r);
    tmp[i] = (int)r;
  }
  for (int i = 0; i < c->nsrc; i++) {
    r = SYS3(SYS_dup3, tmp[i], i, i == FD_INIT_EXE ? O_CLOEXEC : 0);
    if (r < 0) child_fail(tmp[5], STAGE_FDS, r);
  }
  r = SYS3(SYS_close_range, (unsigned)c->nsrc, ~0U, 0);
  if (r < 0) child_fail(FD_RECORD, STAGE_FDS, r);

  /* In a new user namespace the ids are not mapped yet, so exec would clear
   * the capabilities the init needs for setup. Carry them as ambient ones;
   * the command drops them all before its own exec. */
  if (c->raise_caps) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    r = SYS2(SYS_capget, &hdr, data);
    if (r < 0) child_fail(FD_RECORD, STAGE_CAPS, r);
    data[0].inheritable = data[0].permitted;
    data[1].inheritable = data[1].permitted;
    r = SYS2(SYS_capset, &hdr, data);
    if (r < 0) child_fail(FD_RECORD, STAGE_CAPS, r);
    /* Every capability the kernel knows: raising one past the last is EINVAL. */
    for (int cap = 0; cap < 64; cap++) {
      r = SYS5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
      if (r == -EINVAL && cap > 0) break;
      if (r < 0) child_fail(FD_RECORD, STAGE_CAPS, r);
    }
  }

  char name[] = "isolate-init";
  char enter[] = "isolate-enter";
  char *argv[] = {c->nsrc > FD_TARGET ? enter : name, NULL};
  char *envp[] = {c->owner, NULL};
  r = SYS5(SYS_execveat, FD_INIT_EXE, "", argv, envp, AT_EMPTY_PATH);
  child_fail(FD_RECORD, STAGE_EXEC_INIT, r);
}

EXPORT int isolate_abi(void) { return ABI_VERSION; }

/* Returns 0 or a plan_error; where[0] gets the offset of the bad byte. */
EXPORT int isolate_plan_check(const uint8_t *plan, uint32_t len, uint32_t *where) {
  return plan_check(plan, len, where);
}

static int write_all(int fd, const uint8_t *p, uint64_t n) {
  while (n) {
    ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    p += w;
    n -= (uint64_t)w;
  }
  return 0;
}

/* A sealed memfd holding data: the shape the init exe and each plan take.
 * Returns the fd (close-on-exec) or -errno. */
EXPORT int isolate_memfd(const char *name, const uint8_t *data, uint64_t len, int exec) {
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  int fd = memfd_create(name, flags | (exec ? MFD_EXEC : 0));
  if (fd < 0 && errno == EINVAL && exec) fd = memfd_create(name, flags);
  if (fd < 0) return -errno;
  int rc = write_all(fd, data, len);
  if (!rc && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) rc = -errno;
  if (rc) {
    close(fd);
    return rc;
  }
  return fd;
}

/* Small file operations, so the supervisor needs no node:fs on its hot path.
 * Each returns >= 0 or -errno. */
EXPORT int isolate_close(int fd) { return close(fd) < 0 ? -errno : 0; }

EXPORT int isolate_fd_ok(int fd) { return fcntl(fd, F_GETFD) < 0 ? -errno : 0; }

EXPORT int isolate_open(const char *path, int flags) {
  int fd = open(path, flags | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

EXPORT int isolate_write(int fd, const uint8_t *data, uint64_t len) { return write_all(fd, data, len); }

EXPORT int64_t isolate_read_file(const char *path, uint8_t *buf, uint64_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  uint64_t got = 0;
  while (got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (n == 0) break;
    got += (uint64_t)n;
  }
  close(fd);
  return (int64_t)got;
}

/* One write(2) call: what /proc/PID/uid_map and cgroup files require. */
EXPORT int isolate_write_file(const char *path, const uint8_t *data, uint64_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, data, len);
  int e = n < 0 ? errno : (uint64_t)n == len ? 0 : EIO;
  close(fd);
  return -e;
}

/* The run report's file, opened before the sandbox starts (a sandbox may
 * write the directory it lands in). No symlink is followed in any component
 * (openat2 RESOLVE_NO_SYMLINKS; where openat2 is refused with ENOSYS, at least
 * not the last one: O_NOFOLLOW), no directory is created, and nothing is
 * truncated until the fd is known to be a regular file with one link (not a
 * FIFO a sandbox planted: O_NONBLOCK makes that ENXIO instead of a hang; not a
 * hard link to someone else's file). Created with mode 0644 less the umask.
 * Returns the fd (close-on-exec) or -errno; -EFTYPE_REPORT / -ENLINK_REPORT
 * for the two refusals. */
#define EFTYPE_REPORT 4096
#define ENLINK_REPORT 4097
#define ENOTINHERITED_REPORT 4098
EXPORT int isolate_open_report(const char *path) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
  how.mode = 0644;
  how.resolve = RESOLVE_NO_SYMLINKS;
  long fd;
  do fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0 && errno == ENOSYS) fd = open(path, (int)how.flags, 0644);
  if (fd < 0) return -errno;
  struct stat st;
  int rc = 0;
  if (fstat((int)fd, &st) < 0) rc = -errno;
  else if (!S_ISREG(st.st_mode)) rc = -EFTYPE_REPORT;
  else if (st.st_nlink > 1) rc = -ENLINK_REPORT;
  else if (ftruncate((int)fd, 0) < 0) rc = -errno;
  else if (fcntl((int)fd, F_SETFL, 0) < 0) rc = -errno; /* blocking writes again */
  if (rc) {
    close((int)fd);
    return rc;
  }
  return (int)fd;
}

/* Take an inherited fd for the report: 0, and the fd is close-on-exec from
 * now on (nothing isolate starts inherits it), or -EBADF (not open), -EACCES
 * (not open for writing), -ENOTINHERITED_REPORT (close-on-exec already: one of the
 * runtime's own descriptors, not one the caller passed). */
EXPORT int isolate_take_fd(int fd) {
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0) return -errno;
  if (fdfl & FD_CLOEXEC) return -ENOTINHERITED_REPORT;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -errno;
  if ((fl & O_ACCMODE) == O_RDONLY || (fl & O_PATH)) return -EACCES;
  if (fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -errno;
  return 0;
}

EXPORT int isolate_pipe(int32_t *fds) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -errno;
  fds[0] = p[0];
  fds[1] = p[1];
  return 0;
}

/* Spawn the sandbox init.
 *   stdio[3]   fds to become the sandbox's 0, 1, 2
 *   cgroup_fd  a cgroup v2 directory to start in (CLONE_INTO_CGROUP), or -1
 *   out[4]     gets pid, pidfd, sync write end, record read end
 * Returns 0 or -errno. The init waits for one byte on the sync fd (GO,
 * isolate_go) before running the plan; closing it unwritten makes the init exit. */

/* Named sandboxes, `exec --join`: the first child joins the chosen
 * namespaces of a running sandbox (setns on its init's pidfd), then clones
 * the init with the rest as new ones, as a child of the caller
 * (CLONE_PARENT), and exits. Raw system calls only, as in child_main. */
struct join_ctx {
  struct child_ctx *child;
  struct clone_args *ca;
  int join_fd;
  uint64_t join_flags;
  long pid; /* the init's, or -errno */
  int joined; /* setns succeeded */
};

static int joiner_main(void *p) {
  struct join_ctx *j = p;
  long r = SYS2(SYS_setns, j->join_fd, (long)j->join_flags);
  if (r < 0) {
    j->pid = r;
    sys_exit(0);
  }
  j->joined = 1;
  j->pid = clone3_run(j->ca, sizeof *j->ca, child_main, j->child);
  sys_exit(0);
}

static int spawn_init(const uint8_t *plan, uint32_t len, int init_fd, const int32_t *stdio, int cgroup_fd,
                      int target, int join_fd, uint64_t join_flags, int32_t *out) {
  uint32_t where;
  if (plan_check(plan, len, &where)) return -EINVAL;
  uint32_t off = 0;
  struct plan_op op;
  plan_next(plan, len, &off, &op); /* the first op is always clone */
  /* To enter a sandbox, the clone flags name the namespaces the init joins
   * (setns, after its exec): the clone itself creates none. */
  uint64_t ns_flags = target >= 0 ? 0 : op.arg[0].u;
  /* cgroup and time namespaces are the init's to unshare, once it is placed (values.c). */
  if (ns_flags & (CLONE_NEWCGROUP | CLONE_NEWTIME)) return -EINVAL;

  int rc = 0, plan_fd = -1, sync[2] = {-1, -1}, rec[2] = {-1, -1}, pidfd = -1;
  void *stack = MAP_FAILED, *stack2 = MAP_FAILED;

  plan_fd = isolate_memfd("isolate-plan", plan, len, 0);
  if (plan_fd < 0) return plan_fd;
  if (join_fd >= 0) {
    stack2 = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack2 == MAP_FAILED) {
      rc = -errno;
      goto out;
    }
  }
  /* The sync channel is a socket so that GO can carry mount fds (isolate_go). */
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0 || pipe2(rec, O_CLOEXEC) < 0) {
    rc = -errno;
    goto out;
  }
  stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    rc = -errno;
    goto out;
  }

  struct child_ctx ctx = {
      .src = {stdio[0], stdio[1], stdio[2], plan_fd, sync[0], rec[1], init_fd, target},
      .nsrc = target >= 0 ? 8 : 7,
      .raise_caps = ((ns_flags | join_flags) & CLONE_NEWUSER) != 0,
  };
  snprintf(ctx.owner, sizeof ctx.owner, "ISOLATE_SUPERVISOR=%d", (int)getpid());
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = ns_flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_CLEAR_SIGHAND;
  ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
  ca.exit_signal = 0;
  ca.stack = (uint64_t)(uintptr_t)stack;
  ca.stack_size = CHILD_STACK;
  if (cgroup_fd >= 0) {
    ca.flags |= CLONE_INTO_CGROUP;
    ca.cgroup = (uint64_t)cgroup_fd;
  }

  /* No signal handler of Bun's may run on the child's stack: block them all
   * across clone. The child keeps them blocked until it execs the init. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid;
  if (join_fd < 0) {
    pid = clone3_run(&ca, sizeof ca, child_main, &ctx);
  } else {
    /* The init is cloned by the joiner, on its own stack, as our child. */
    ca.flags |= CLONE_PARENT;
    ca.stack = (uint64_t)(uintptr_t)stack2;
    struct join_ctx j = {&ctx, &ca, join_fd, join_flags, -EINVAL, 0};
    struct clone_args ja;
    memset(&ja, 0, sizeof ja);
    /* CLONE_FILES: the init's pidfd (CLONE_PIDFD of the inner clone) lands in our table. */
    ja.flags = CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_CLEAR_SIGHAND;
    ja.exit_signal = 0;
    ja.stack = (uint64_t)(uintptr_t)stack;
    ja.stack_size = CHILD_STACK;
    long joiner = clone3_run(&ja, sizeof ja, joiner_main, &j);
    if (joiner > 0) {
      siginfo_t si;
      while (waitid(P_PID, (id_t)joiner, &si, WEXITED | __WALL) < 0 && errno == EINTR) {
      }
      pid = j.pid;
      /* Tell a refused join (out[4] = 1) from a refused clone. */
      out[4] = j.joined ? 0 : 1;
    } else {
      pid = joiner;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);

  if (pid < 0) {
    rc = (int)pid;
    goto out;
  }
  out[0] = (int32_t)pid;
  out[1] = pidfd;
  out[2] = sync[1];
  out[3] = rec[0];
  sync[1] = -1;
  rec[0] = -1;

out:
  if (stack != MAP_FAILED) munmap(stack, CHILD_STACK);
  if (stack2 != MAP_FAILED) munmap(stack2, CHILD_STACK);
  if (plan_fd >= 0) close(plan_fd);
  for (int i = 0; i < 2; i++) {
    if (sync[i] >= 0) close(sync[i]);
    if (rec[i] >= 0) close(rec[i]);
  }
  return rc;
}

EXPORT int isolate_spawn(const uint8_t *plan, uint32_t len, int init_fd, const int32_t *stdio, int cgroup_fd,
                         int32_t *out) {
  return spawn_init(plan, len, init_fd, stdio, cgroup_fd, -1, -1, 0, out);
}

/* Named sandboxes, `exec --join`: as isolate_spawn, but first join the
 * namespaces join_flags names of the process join_fd (a pidfd) is; the
 * plan's clone flags must not name them. out[5]: out[4] is 1 when the join
 * itself was refused. */
EXPORT int isolate_spawn_join(const uint8_t *plan, uint32_t len, int init_fd, const int32_t *stdio, int cgroup_fd,
                              int join_fd, uint64_t join_flags, int32_t *out) {
  if (join_fd < 0 || !join_flags) return -EINVAL;
  out[4] = 0;
  return spawn_init(plan, len, init_fd, stdio, cgroup_fd, -1, join_fd, join_flags, out);
}

/* Named sandboxes (`isolate enter`): spawn an init in enter mode. It creates
 * no namespace; after its exec it joins every namespace the plan's clone op
 * names with one setns(target, flags) (target: a pidfd of the sandbox's
 * init), runs the plan's sandbox ops (its own ids and confinement only), and
 * forks the command, which runs the command ops and execs. Same protocol and
 * out[] as isolate_spawn. */
EXPORT int isolate_enter(const uint8_t *plan, uint32_t len, int init_fd, const int32_t *stdio, int cgroup_fd,
                         int target, int32_t *out) {
  if (target < 0) return -EBADF;
  return spawn_init(plan, len, init_fd, stdio, cgroup_fd, target, -1, 0, out);
}

/* Named sandboxes: a pidfd (close-on-exec) or -errno. */
EXPORT int isolate_pidfd_open(int pid) {
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) return -errno;
  if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) {
    int e = errno;
    close((int)fd);
    return -e;
  }
  return (int)fd;
}

/* Named sandboxes: flock(2) on fd (op: LOCK_SH 1, LOCK_EX 2, | LOCK_NB 4, LOCK_UN 8): 0 or -errno. */
EXPORT int isolate_flock(int fd, int op) {
  for (;;) {
    if (flock(fd, op) == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

/* Named sandboxes: a new session for the detached monitor: the sid or -errno. */
EXPORT int isolate_setsid(void) {
  pid_t s = setsid();
  return s < 0 ? -errno : (int)s;
}

/* Named sandboxes: the detached monitor points its stdout and stderr at its log. 0 or -errno. */
EXPORT int isolate_dup2(int fd, int to) { return dup3(fd, to, 0) < 0 ? -errno : 0; }

/* Reap (or, with nohang, poll) the init. out[6]: si_code, si_status,
 * user µs, system µs, max RSS KiB, pid (0 when nohang found it running).
 * The rusage covers the init and every descendant it reaped. */
EXPORT int isolate_wait(int pidfd, int nohang, int64_t *out) {
  siginfo_t si;
  struct rusage ru;
  memset(&si, 0, sizeof si);
  memset(&ru, 0, sizeof ru);
  for (;;) {
    long r = syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | __WALL | (nohang ? WNOHANG : 0), &ru);
    if (r == 0) break;
    if (errno != EINTR) return -errno;
  }
  out[0] = si.si_code;
  out[1] = si.si_status;
  out[2] = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
  out[3] = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
  out[4] = ru.ru_maxrss;
  out[5] = si.si_pid;
  return 0;
}

/* Make the init a real-time task (its children are not: SCHED_RESET_ON_FORK),
 * so that it acts at a limit at once however busy the CPUs are. It only ever
 * sleeps, runs the setup ops, and signals. 0 or -errno (EPERM without
 * CAP_SYS_NICE, or in a cgroup without real-time runtime). */
EXPORT int isolate_sched_init(int pid) {
  struct sched_param sp = {.sched_priority = 1};
  return sched_setscheduler(pid, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) < 0 ? -errno : 0;
}

EXPORT int isolate_signal(int pidfd, int sig) {
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) return -errno;
  return 0;
}

/* GO: release the init, passing it n fds (the idmapped mounts of its view,
 * in the order its bind ops take them). 0 or -errno. */
EXPORT int isolate_go(int sync_fd, const int32_t *fds, uint32_t n) {
  char go = 1;
  struct iovec iov = {&go, 1};
  struct msghdr msg;
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * 64)];
  } ctl;
  if (n > 64) return -E2BIG;
  memset(&msg, 0, sizeof msg);
  memset(&ctl, 0, sizeof ctl);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n) {
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
  }
  for (;;) {
    if (sendmsg(sync_fd, &msg, MSG_NOSIGNAL) == 1) return 0;
    if (errno != EINTR) return -errno;
  }
}

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MS_PRIVATE
#define MS_PRIVATE (1 << 18)
#endif

/* A detached clone of the tree at path (every submount), idmapped through the
 * user namespace userns_fd, with attrs (MOUNT_ATTR_*) set too, and private. The path is
 * resolved without following any symlink. With plain_ok (1: always, 2: when
 * it is not a directory), a filesystem that cannot be idmapped gets the
 * attrs alone (*stage 4); 3: never idmapped, a plain private clone. Returns the mount fd
 * (close-on-exec), or -errno with *stage: 1 open, 2 clone, 3 idmap. */
EXPORT int isolate_idmap_tree(const char *path, int userns_fd, uint64_t attrs, int plain_ok, int32_t *stage) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  *stage = 1;
  int at = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (at < 0) return -errno;
  if (plain_ok == 2) {
    /* Only for what is not a directory: nothing can be created in it. */
    struct stat st;
    plain_ok = fstatat(at, "", &st, AT_EMPTY_PATH) == 0 && !S_ISDIR(st.st_mode);
  }
  *stage = 2;
  int tree = (int)syscall(SYS_open_tree, at, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  int e = errno;
  close(at);
  if (tree < 0) return -e;
  *stage = 3;
  struct mount_attr a;
  memset(&a, 0, sizeof a);
  a.attr_set = attrs | MOUNT_ATTR_IDMAP;
  a.userns_fd = (uint64_t)userns_fd;
  /* A clone joins its source's peer group: nothing may propagate to or from the host. */
  a.propagation = MS_PRIVATE;
  long r = plain_ok == 3 ? -1 : syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a);
  if (plain_ok == 3) errno = EINVAL;
  if (r < 0 && errno == EINVAL && plain_ok) {
    /* A filesystem without idmapped mounts, where that is allowed (a
     * read-only bind: its files then show as nobody's, which gives less). */
    a.attr_set = attrs;
    a.userns_fd = 0;
    r = syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a);
    if (r == 0) {
      *stage = 4;
      return tree;
    }
  }
  if (r < 0) {
    e = errno;
    close(tree);
    return -e;
  }
  *stage = 0;
  return tree;
}
