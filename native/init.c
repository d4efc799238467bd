/* isolate-init: pid 1 of every sandbox. A static binary with no libc.
 *
 *   fds at start: 0-2 the sandbox's stdio, 3 the sealed plan, 4 the sync pipe,
 *   5 the record pipe (record.h).
 *
 * It waits for the supervisor's GO byte, runs the sandbox ops, forks the
 * command, which runs the command ops and execs. Then it reaps every process
 * that ends up parented to it, forwards the signals it gets to the command,
 * and when the command ends sends its exact wait status and exits with the
 * matching code, which ends the rest of the pid namespace. */
#include <errno.h>
#include <linux/signalfd.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "init_limits.h"
#include "ops_run.h"
#include "passed.h"
#include "traverse.h"
#include "plan.h"
#include "record.h"
#include "sys.h"

#define ALL_SIGNALS (~0UL)

static __attribute__((noreturn)) void fail(int32_t index, int32_t code, long err, int exit_code) {
  record_send(FD_RECORD, REC_ERROR, index, code, (int32_t)-err, 0, 0);
  sys_exit(exit_code);
}

/* The init's own ids. A change of credentials clears the parent-death
 * signal: arm it again, then leave if the supervisor went in between (the
 * record pipe's read end is gone: POLLERR). */
int op_init_ids(const struct plan_op *op) {
  /* Lookups the new ids may not make (traverse.h); it ends with the sandbox phase. */
  int rc = traverse_start();
  if (rc >= 0) rc = op_set_ids(op);
  if (rc < 0) return rc;
  SYS5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  struct pollfd p = {FD_RECORD, 0, 0};
  struct timespec now = {0, 0};
  if (SYS5(SYS_ppoll, &p, 1, &now, 0, 8) > 0 && (p.revents & POLLERR)) sys_exit(125);
  return 0;
}

/* The command's process: the command ops, then exec. Never returns. */
static __attribute__((noreturn)) void command(const uint8_t *plan, uint32_t len, uint32_t off,
                                              struct plan_op *op) {
  process_reset_signals();
  /* If the init dies (it dies with the supervisor), so does the command,
   * also when there is no pid namespace to end it. */
  SYS5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  long parent = SYS0(SYS_getppid);
  /* Nothing of the init's reaches the command; the record pipe closes on exec,
   * which is how the supervisor learns the exec happened. */
  SYS3(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
  do {
    if (op->code == OP_EXEC) {
      /* A change of ids (setIds) clears the parent-death signal: set it again,
       * and leave if the init already went in between. */
      SYS5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (SYS0(SYS_getppid) != parent) sys_exit(125);
    }
    int rc = op_run(op);
    if (rc < 0) {
      int code = 125;
      if (op->code == OP_EXEC) code = rc == -ENOENT ? 127 : 126;
      fail((int32_t)op->index, op->code, rc, code);
    }
  } while (plan_next(plan, len, &off, op));
  fail(-1, STAGE_FORK, -ENOEXEC, 125); /* a checked plan always ends in exec */
}

/* Who asked for the command's end before it came (record.asked). */
static uint32_t asked;

/* The command's end, with what every process the init reaped used, the
 * limit that ended it, and the wall time since the clone. */
static void send_exit(int status, long child) {
  struct rusage ru;
  __builtin_memset(&ru, 0, sizeof ru);
  SYS2(SYS_getrusage, RUSAGE_CHILDREN, &ru);
  struct record r = {REC_EXIT, -1, 0, 0, status, (int32_t)child, 0, 0, 0, 0, 0, 0};
  r.user_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec;
  r.sys_us = (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
  r.maxrss_kib = (uint64_t)ru.ru_maxrss;
  r.fired = limits_fired();
  r.asked = asked;
  r.wall_us = limits_wall_us();
  SYS3(SYS_write, FD_RECORD, &r, sizeof r);
}

static int exit_code_of(int status);

/* Whether the command has ended (a zombie not yet reaped counts): a signal
 * that comes after its end did not end it. */
static int command_ended(long child) {
  struct {
    int32_t signo, err, code, pad[29];
  } si;
  __builtin_memset(&si, 0, sizeof si);
  long r = sys6(SYS_waitid, P_PID, child, (long)&si, WEXITED | WNOHANG | WNOWAIT | __WALL, 0, 0);
  return r == 0 && si.signo == SIGCHLD;
}

/* Block until the signalfd or a limit's timer is ready; returns that fd
 * (the signalfd first: a command that ended is reaped before a limit acts). */
static int wait_event(int sfd) {
  struct {
    int fd;
    short events, revents;
  } p[3];
  int lfds[2];
  int n = limits_fds(lfds);
  p[0].fd = sfd;
  for (int i = 0; i < n; i++) p[i + 1].fd = lfds[i];
  for (;;) {
    for (int i = 0; i <= n; i++) {
      p[i].events = 1 /* POLLIN */;
      p[i].revents = 0;
    }
    long r = SYS5(SYS_ppoll, p, n + 1, 0, 0, 8);
    if (r <= 0) continue;
    for (int i = 0; i <= n; i++)
      if (p[i].revents) return p[i].fd;
  }
}

/* The supervisor holds the only read end of the record pipe: once it is
 * gone, the write end polls as an error (in a new pid namespace getppid()
 * is 0 either way, so that cannot tell). */
static int supervisor_gone(void) {
  struct pollfd p = {FD_RECORD, 0, 0};
  struct timespec zero = {0, 0};
  return SYS5(SYS_ppoll, &p, 1, &zero, 0, 8) == 1 && (p.revents & POLLERR);
}

/* Without a pid namespace of its own (--share pid) the init is a child
 * subreaper: a process of the command's that loses its parent (setsid, a
 * double fork) becomes the init's child, whatever process group or session it
 * made. This reads the init's children (/proc/thread-self/children) and
 * kills each; a process killed hands its own children to the init, so
 * callers repeat until the init has no child left. */
static int children_fd = -1;

static void kill_children(void) {
  char buf[4096];
  long n = SYS4(SYS_pread64, children_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return;
  /* A full buffer may end inside a number: keep only whole ones (the rest
   * comes in a later round, once these are gone). */
  if (n == (long)sizeof buf - 1)
    while (n > 0 && buf[n - 1] != ' ') n--;
  long pid = 0;
  for (long i = 0; i < n; i++) {
    char c = buf[i];
    if (c >= '0' && c <= '9') {
      pid = pid * 10 + (c - '0');
    } else {
      if (pid > 1) SYS2(SYS_kill, pid, SIGKILL);
      pid = 0;
    }
  }
}

/* SIG_END: kill the whole sandbox, then reap every process so their resource
 * use lands in RUSAGE_CHILDREN, and report the command's end. As pid 1 every
 * process of the namespace is reached; without a pid namespace, the command's
 * process group and every process that became the init's child. */
static __attribute__((noreturn)) void end_sandbox(long child, int pid1) {
  SYS2(SYS_kill, pid1 ? -1 : -child, SIGKILL);
  int status = SIGKILL;
  for (;;) {
    if (!pid1) kill_children();
    int st = 0;
    long w = SYS4(SYS_wait4, -1, &st, __WALL, 0);
    if (w == -EINTR) continue;
    if (w < 0) break;
    if (w == child) status = st;
  }
  send_exit(status, child);
  sys_exit(exit_code_of(status));
}

/* The command has ended: without a pid namespace to end the rest, kill what
 * it left (its process group, then every orphan the init inherited). */
static void end_orphans(long child) {
  SYS2(SYS_kill, -child, SIGKILL);
  for (;;) {
    kill_children();
    long w = SYS4(SYS_wait4, -1, 0, __WALL, 0);
    if (w == -EINTR) continue;
    if (w < 0) break;
  }
}

static int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

/* Named sandboxes: started as "isolate-enter" (native/shim.c isolate_enter),
 * the init joins a running sandbox instead of being its pid 1. */
static int enter_mode(long *sp) {
  if (sp[0] < 1) return 0;
  const char *a = (const char *)sp[1], *e = "isolate-enter";
  while (*a && *a == *e) a++, e++;
  return *a == 0 && *e == 0;
}

void init_main(long *sp) {
  int entering = enter_mode(sp);
  unsigned long all = ALL_SIGNALS;
  SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);

  /* GO (with any mount fds for the view: passed.h), or EOF when the
   * supervisor gave up (or died): then just leave. */
  long r = passed_wait_go(FD_SYNC);
  if (r == 0) sys_exit(125);
  if (r < 0) fail(-1, STAGE_READ_PLAN, r, 125);

  long size = SYS3(SYS_lseek, FD_PLAN, 0, 2 /* SEEK_END */);
  if (size < PLAN_HEADER || size > PLAN_MAX_BYTES) fail(-1, STAGE_READ_PLAN, size < 0 ? size : -EINVAL, 125);
  long m = sys6(SYS_mmap, 0, size, PROT_READ, MAP_PRIVATE, FD_PLAN, 0);
  if (m < 0 && m > -4096) fail(-1, STAGE_READ_PLAN, m, 125);
  SYS1(SYS_close, FD_PLAN);
  const uint8_t *plan = (const uint8_t *)m;
  uint32_t len = (uint32_t)size, where = 0;
  if (plan_check(plan, len, &where)) fail(-1, STAGE_READ_PLAN, -EINVAL, 125);

  struct plan_op op;
  uint32_t off = 0;
  int have = plan_next(plan, len, &off, &op); /* clone: done by the shim */
  if (entering) {
    /* Not the sandbox's pid 1: its own children (the entered command and
     * its orphans) are read from this process's /proc, which the joined
     * mount namespace does not show. */
    children_fd = (int)SYS4(SYS_openat, -100 /* AT_FDCWD */, "/proc/thread-self/children", 02000000, 0);
    if (children_fd < 0) fail(-1, STAGE_SIGNALS, children_fd, 125);
    /* Every namespace of the sandbox at once (Linux 5.8); the command is
     * forked into its pid namespace. The target pidfd is not kept. */
    long j = op.arg[0].u ? SYS2(SYS_setns, FD_TARGET, (long)op.arg[0].u) : 0;
    SYS1(SYS_close, FD_TARGET);
    if (j < 0) fail(-1, STAGE_JOIN, j, 125);
  }
  while ((have = plan_next(plan, len, &off, &op)) && op_table[op.code].phase == PHASE_SANDBOX) {
    if (op.code == OP_PIVOT_ROOT) traverse_keep_cwd(plan, len, off);
    /* Entering, the init joined a pid namespace for its children: it can
     * start no thread (clone3 refuses CLONE_THREAD then), so no lookup
     * helper; it builds no view, and takes its ids directly. */
    int rc = entering && op.code == OP_INIT_IDS ? op_set_ids(&op) : op_run(&op);
    if (rc < 0) fail((int32_t)op.index, op.code, rc, 125);
  }
  /* Open until the sandbox ops are done: ptyOpen passes the pty master back on it. */
  SYS1(SYS_close, FD_SYNC);
  traverse_stop();
  if (!have) fail(-1, STAGE_READ_PLAN, -EINVAL, 125);

  /* Outside a new pid namespace, still collect orphans of the command. */
  int pid1 = SYS0(SYS_getpid) == 1;
  if (!pid1) {
    SYS5(SYS_prctl, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    if (children_fd < 0)
      children_fd = (int)SYS4(SYS_openat, -100 /* AT_FDCWD */, "/proc/thread-self/children", 02000000 /* O_RDONLY | O_CLOEXEC */, 0);
    if (children_fd < 0) fail(-1, STAGE_SIGNALS, children_fd, 125);
  }

  long sfd = SYS4(SYS_signalfd4, -1, &all, 8, SFD_CLOEXEC);
  if (sfd < 0) fail(-1, STAGE_SIGNALS, sfd, 125);

  int rc;
  /* The command must not be able to read or trace the init: not dumpable
   * before the command exists (its own exec makes it dumpable again). */
  SYS5(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  long parent = SYS0(SYS_getppid);

  long child = SYS5(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child < 0) fail(-1, STAGE_FORK, child, 125);
  if (child == 0) command(plan, len, off, &op);
  /* The pty slave (--pty) is the command's alone: the pty hangs up when the command's side closes. */
  pty_release();
  /* The command's wall time starts now (setup is isolate's time, not the command's). */
  rc = limits_start();
  if (rc < 0) {
    SYS2(SYS_kill, child, SIGKILL);
    fail(-1, STAGE_LIMITS, rc, 125);
  }
  record_send(FD_RECORD, REC_STARTED, -1, 0, 0, 0, (int32_t)child);

  /* From here the init needs no more than to signal the sandbox's processes:
   * it drops every capability and takes the command's ids. */
  int32_t confine_index;
  rc = init_confine(&confine_index);
  if (rc < 0) {
    SYS2(SYS_kill, child, SIGKILL);
    fail(confine_index, OP_INIT_CAPS, rc, 125);
  }
  /* A change of ids resets both: set them again, and end the sandbox if the
   * supervisor already went in between. */
  SYS5(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* As pid 1 its death ends the namespace. Without one, the supervisor's
   * death is a request to end the sandbox (the init must kill what the
   * command left: nothing else would). */
  SYS5(SYS_prctl, PR_SET_PDEATHSIG, pid1 ? SIGKILL : SIG_END, 0, 0, 0);
  if (SYS0(SYS_getppid) != parent || supervisor_gone()) end_sandbox(child, pid1);

  for (;;) {
    int fd = wait_event(sfd);
    if (fd != sfd) {
      enum limit_action act = limits_ready(fd);
      if (act == LIMIT_TERM) SYS2(SYS_kill, child, SIGTERM);
      if (act == LIMIT_END) end_sandbox(child, pid1);
      continue;
    }
    struct signalfd_siginfo si;
    r = SYS3(SYS_read, sfd, &si, sizeof si);
    if (r != (long)sizeof si) continue;
    if (si.ssi_signo == SIG_END) {
      if (!command_ended(child)) asked |= ASKED_END;
      end_sandbox(child, pid1);
    }
    if (si.ssi_signo != SIGCHLD) {
      if (!command_ended(child)) asked |= ASKED_SIGNAL;
      SYS2(SYS_kill, child, si.ssi_signo);
      continue;
    }
    for (;;) {
      int status = 0;
      long w = SYS4(SYS_wait4, -1, &status, WNOHANG | __WALL, 0);
      if (w <= 0) break;
      if (w == child) {
        send_exit(status, child);
        /* As pid 1, exiting ends every other process in the namespace. Without
         * a pid namespace, end the command's process group at least. */
        if (!pid1) end_orphans(child);
        sys_exit(exit_code_of(status));
      }
    }
  }
}
