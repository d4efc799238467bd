/* The init's own enforcement of the wall-clock and CPU-time limits.
 *
 * Wall clock: a timerfd on CLOCK_MONOTONIC, armed when the init starts the
 * command (the sandbox's setup is not the command's time) for the limit. When it fires the init SIGTERMs the command, and re-arms the timer
 * for the kill-after grace, after which it ends the whole sandbox.
 *
 * CPU time: the sandbox's cgroup counter (v1 cpuacct.usage in ns, v2 cpu.stat
 * usage_usec), opened before the sandbox has anything of its own, read on a
 * timerfd: never later than the soonest moment the budget could run out with
 * every usable CPU busy, and at least every LIMIT_CPU_MIN_NS. Past the budget
 * the init ends the whole sandbox at once. */
#include "init_limits.h"

#include <errno.h>
#include <fcntl.h>

#include "sys.h"

#define LIMIT_CPU_MIN_NS 2000000ULL   /* 2 ms */
#define LIMIT_CPU_MAX_NS 100000000ULL /* 100 ms */
#define TFD_TIMER_ABSTIME 1
#define CLOCK_MONOTONIC 1

struct ts64 {
  int64_t sec;
  int64_t nsec;
};
struct its64 {
  struct ts64 interval;
  struct ts64 value;
};

static struct {
  uint64_t origin_ns;
  uint64_t wall_ns, grace_ns, cpu_ns;
  uint64_t cpu_base; /* the counter when the command started */
  uint64_t cpus;
  uint64_t unit;
  int cpu_fd, wall_tfd, cpu_tfd;
  int termed;
  uint32_t fired;
} L = {0, 0, 0, 0, 0, 1, 0, -1, -1, -1, 0, 0};

static uint64_t now_ns(void) {
  struct ts64 t = {0, 0};
  SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
  return (uint64_t)t.sec * 1000000000ULL + (uint64_t)t.nsec;
}

static int arm(int fd, uint64_t ns, int absolute) {
  if (ns == 0) ns = 1; /* 0 would disarm */
  struct its64 it = {{0, 0}, {(int64_t)(ns / 1000000000ULL), (int64_t)(ns % 1000000000ULL)}};
  return (int)SYS4(SYS_timerfd_settime, fd, absolute ? TFD_TIMER_ABSTIME : 0, &it, 0);
}

/* The cgroup's CPU usage in ns, or -errno. */
static int64_t cpu_used_ns(void) {
  char buf[256];
  long n = SYS4(SYS_pread64, L.cpu_fd, buf, sizeof buf - 1, 0);
  if (n < 0) return n;
  buf[n] = 0;
  const char *p = buf;
  if (L.unit == CPU_UNIT_V2_STAT) {
    static const char key[] = "usage_usec ";
    for (;;) {
      int k = 0;
      while (key[k] && p[k] == key[k]) k++;
      if (!key[k]) break;
      while (*p && *p != '\n') p++;
      if (!*p) return -EINVAL;
      p++;
    }
    p += sizeof key - 1;
  }
  if (*p < '0' || *p > '9') return -EINVAL;
  uint64_t v = 0;
  for (; *p >= '0' && *p <= '9'; p++) v = v * 10 + (uint64_t)(*p - '0');
  return (int64_t)(L.unit == CPU_UNIT_V2_STAT ? v * 1000 : v);
}

static uint64_t next_cpu_check(uint64_t used) {
  uint64_t left = used < L.cpu_ns ? L.cpu_ns - used : 0;
  uint64_t at = left / (L.cpus ? L.cpus : 1);
  if (at < LIMIT_CPU_MIN_NS) at = LIMIT_CPU_MIN_NS;
  if (at > LIMIT_CPU_MAX_NS) at = LIMIT_CPU_MAX_NS;
  return at;
}

int op_init_limits(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  L.wall_ns = a[0].u * 1000;
  L.grace_ns = a[1].u * 1000;
  L.cpu_ns = a[2].u * 1000;
  L.cpus = a[3].u;
  L.unit = a[5].u;
  long r;
  if (L.cpu_ns) {
    r = SYS4(SYS_openat, AT_FDCWD, a[4].s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (r < 0) return (int)r;
    L.cpu_fd = (int)r;
    int64_t used = cpu_used_ns();
    if (used < 0) return (int)used;
    r = SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, O_CLOEXEC);
    if (r < 0) return (int)r;
    L.cpu_tfd = (int)r;
  }
  if (L.wall_ns) {
    r = SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, O_CLOEXEC);
    if (r < 0) return (int)r;
    L.wall_tfd = (int)r;
  }
  return 0;
}

int limits_start(void) {
  L.origin_ns = now_ns();
  if (L.wall_tfd >= 0) {
    int r = arm(L.wall_tfd, L.origin_ns + L.wall_ns, 1);
    if (r < 0) return r;
  }
  if (L.cpu_tfd >= 0) {
    /* Like the wall clock, the budget counts from the command's start: the
     * sandbox's setup (the view, the id change) is isolate's time. */
    int64_t used = cpu_used_ns();
    if (used < 0) return (int)used;
    L.cpu_base = (uint64_t)used;
    int r = arm(L.cpu_tfd, next_cpu_check(0), 0);
    if (r < 0) return r;
  }
  return 0;
}

int limits_fds(int *fds) {
  int n = 0;
  if (L.wall_tfd >= 0) fds[n++] = L.wall_tfd;
  if (L.cpu_tfd >= 0) fds[n++] = L.cpu_tfd;
  return n;
}

enum limit_action limits_ready(int fd) {
  uint64_t ticks;
  SYS3(SYS_read, fd, &ticks, sizeof ticks);
  if (fd == L.wall_tfd) {
    if (L.termed || L.grace_ns == 0) {
      L.fired |= LIMIT_FIRED_TIMEOUT;
      return LIMIT_END;
    }
    L.fired |= LIMIT_FIRED_TIMEOUT;
    L.termed = 1;
    /* The grace counts from now: the moment the command was asked to end. */
    if (arm(L.wall_tfd, L.grace_ns, 0) < 0) return LIMIT_END;
    return LIMIT_TERM;
  }
  if (fd == L.cpu_tfd) {
    int64_t now = cpu_used_ns();
    /* A counter that cannot be read any more cannot be enforced: fail closed. */
    uint64_t used = now < 0 ? 0 : (uint64_t)now > L.cpu_base ? (uint64_t)now - L.cpu_base : 0;
    if (now < 0 || used >= L.cpu_ns) {
      L.fired |= LIMIT_FIRED_CPU;
      return LIMIT_END;
    }
    if (arm(L.cpu_tfd, next_cpu_check(used), 0) < 0) {
      L.fired |= LIMIT_FIRED_CPU;
      return LIMIT_END;
    }
  }
  return LIMIT_NONE;
}

uint32_t limits_fired(void) { return L.fired; }

uint64_t limits_wall_us(void) { return (now_ns() - L.origin_ns) / 1000; }
