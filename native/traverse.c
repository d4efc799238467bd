/* The lookup helper of a mapped init (traverse.h). */
#define _GNU_SOURCE
#include "traverse.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "clone3.h"
#include "plan.h"
#include "sys.h"
#include "view.h"

#define HELPER_STACK (64 * 1024)

struct request {
  traverse_fn fn;
  int dir;
  const char *rel;
};

static int req_w = -1, resp_r = -1;
/* The helper thread's tid, cleared by the kernel (and a futex woken) when it exits. */
static volatile int helper_tid;
static int req_r = -1, resp_w = -1;

/* A thread of the init (its own credentials, the init's memory, fds and
 * signal handlers): invisible to a scan of /proc, gone with the init. It ends
 * with exit(2), never exit_group(2), which would end the init too. */
static int helper_main(void *unused) {
  (void)unused;
  for (;;) {
    struct request q;
    long n = SYS3(SYS_read, req_r, &q, sizeof q);
    if (n == -EINTR) continue;
    if (n != (long)sizeof q) break;
    long r = q.fn(q.dir, q.rel);
    SYS3(SYS_write, resp_w, &r, sizeof r);
  }
  SYS1(SYS_exit, 0);
  return 0; /* not reached */
}

int traverse_start(void) {
  if (req_w >= 0) return 0;
  int a[2], b[2];
  long r = SYS2(SYS_pipe2, a, O_CLOEXEC);
  if (r < 0) return (int)r;
  r = SYS2(SYS_pipe2, b, O_CLOEXEC);
  if (r < 0) {
    SYS1(SYS_close, a[0]);
    SYS1(SYS_close, a[1]);
    return (int)r;
  }
  long stack = sys6(SYS_mmap, 0, HELPER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack < 0 && stack > -4096) r = stack;
  req_r = a[0];
  req_w = a[1];
  resp_r = b[0];
  resp_w = b[1];
  if (r >= 0) {
    struct clone_args ca;
    __builtin_memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_VM | CLONE_FILES | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
               CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    ca.parent_tid = (uint64_t)(uintptr_t)&helper_tid;
    ca.child_tid = (uint64_t)(uintptr_t)&helper_tid;
    ca.exit_signal = 0;
    ca.stack = (uint64_t)stack;
    ca.stack_size = HELPER_STACK;
    r = clone3_run(&ca, sizeof ca, helper_main, 0);
  }
  if (r < 0) {
    traverse_stop();
    return (int)r;
  }
  return 0;
}

long traverse_call(traverse_fn fn, int dir, const char *rel) {
  if (req_w < 0) return -EACCES;
  struct request q = {fn, dir, rel};
  if (SYS3(SYS_write, req_w, &q, sizeof q) != (long)sizeof q) return -EACCES;
  long r = -EACCES, n;
  do n = SYS3(SYS_read, resp_r, &r, sizeof r);
  while (n == -EINTR);
  return n == (long)sizeof r ? r : -EACCES;
}

void traverse_stop(void) {
  /* The fd table is shared: closing the request pipe here ends the helper's read. */
  int fds[4] = {req_w, resp_r, req_r, resp_w};
  for (int i = 0; i < 4; i++)
    if (fds[i] >= 0) SYS1(SYS_close, fds[i]);
  req_w = resp_r = req_r = resp_w = -1;
  /* Wait for it to be gone: it must not outlive the sandbox phase. */
  for (int t; (t = helper_tid) != 0;) SYS4(SYS_futex, &helper_tid, 0 /* FUTEX_WAIT */, t, 0);
}

static int cwd_fd = -1;

#define KEPT_MAX 64
static struct {
  const char *path;
  int fd;
} kept[KEPT_MAX];
static unsigned nkept;

static void keep(const char *path) {
  if (nkept >= KEPT_MAX) return;
  long fd = view_open(path, 0);
  if (fd < 0) return;
  kept[nkept].path = path;
  kept[nkept].fd = (int)fd;
  nkept++;
}

void traverse_keep_cwd(const unsigned char *plan, unsigned len, unsigned off) {
  if (req_w < 0) return;
  struct plan_op op;
  while (plan_next(plan, len, &off, &op)) {
    if (op.code == OP_CHDIR) {
      long fd = view_open(op.arg[0].s, 0);
      if (fd >= 0) cwd_fd = (int)fd;
    } else if (op.code == OP_LANDLOCK) {
      /* Its write and device paths: the rules are made in the command's process. */
      for (int a = 2; a <= 3; a++) {
        const char *cur = op.arg[a].s;
        for (uint32_t i = 0; i < op.arg[a].count; i++) keep(plan_strv_next(&cur));
      }
    }
  }
}

int traverse_cwd_fd(void) { return cwd_fd; }

long traverse_kept(const char *path) {
  for (unsigned i = 0; i < nkept; i++) {
    const char *a = kept[i].path, *b = path;
    while (*a && *a == *b) a++, b++;
    if (!*a && !*b) return SYS3(SYS_fcntl, kept[i].fd, F_DUPFD_CLOEXEC, 0);
  }
  return -EACCES;
}
