/* The shim's worker threads: the slow system calls of starting a sandbox,
 * off the JS thread.
 *
 * Cloning the init (the caller waits until it has exec'd), writing identity
 * maps, making a mapped root's idmapped binds (mount calls, which wait for the
 * locks every sandbox setting up its view takes), and placing it in v1
 * cgroups (a write to cgroup.procs that waits for an RCU grace period) take
 * milliseconds each. A library that starts many sandboxes at once would hold
 * its event loop for all of them. Here a job is
 * copied, queued, and done by one of a few threads that never exit; the
 * result goes to the supervisor through a thread-safe callback (bun:ffi
 * queues it on the JS thread's event loop).
 *
 * The threads never exit: a child's parent-death signal belongs to the
 * thread that cloned it, so a thread that ended would kill its sandboxes.
 * They block every signal, so that no handler of Bun's runs on them. No JS
 * runs on them, and the clone itself is the same isolate_spawn() the JS
 * thread calls in the one-shot CLI. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_WORKERS 6

enum { JOB_SPAWN = 1, JOB_WRITES = 2, JOB_WAIT = 3, JOB_IDMAP = 4 };

EXPORT int isolate_spawn(const uint8_t *plan, uint32_t len, int init_fd, const int32_t *stdio, int cgroup_fd, int32_t *out);
EXPORT int isolate_write_file(const char *path, const uint8_t *data, uint64_t len);
EXPORT int isolate_wait(int pidfd, int nohang, int64_t *out);
EXPORT int isolate_idmap_tree(const char *path, int userns_fd, uint64_t attrs, int plain_ok, int32_t *stage);

/* id, rc, then up to five values (exact as doubles: fds, pids, µs). */
typedef void (*done_fn)(int32_t id, int32_t rc, double v0, double v1, double v2, double v3, double v4);

struct job {
  int kind;
  int32_t id;
  int init_fd;
  int cgroup_fd;
  int32_t stdio[3];
  uint32_t len;
  uint8_t data[];
};

/* The queue is a pipe of job pointers (8-byte writes and reads: atomic). A
 * worker waits in read(2), never holding a lock: the JS thread never waits
 * for a worker. The lock is the submitters' alone (JS threads). */
static pthread_mutex_t submit_mu = PTHREAD_MUTEX_INITIALIZER;
static int jobs_rd = -1, jobs_wr = -1;
static int workers;                  /* under submit_mu */
static int idle, queued;             /* atomic (__atomic builtins) */
static done_fn done_cb;
/* Set at exit: the JS side is going away, no callback may reach it. */
static volatile int exiting;

static void at_exit(void) { exiting = 1; }

static void finish(struct job *j, const int64_t *res) {
  if (!exiting)
    done_cb(j->id, (int32_t)res[0], (double)res[1], (double)res[2], (double)res[3], (double)res[4], (double)res[5]);
}

/* WRITES: records of [u32 path length][path, NUL-terminated][u32 data length][data];
 * each is one open(O_WRONLY), one write(2), close. Stops at the first failure. */
static void run_writes(struct job *j, int64_t *res) {
  uint32_t off = 0, index = 0;
  res[0] = 0;
  res[1] = -1;
  while (off < j->len) {
    uint32_t plen, dlen;
    if (j->len - off < 4) goto bad;
    memcpy(&plen, j->data + off, 4);
    off += 4;
    if (plen == 0 || j->len - off < plen || j->data[off + plen - 1] != 0) goto bad;
    const char *path = (const char *)j->data + off;
    off += plen;
    if (j->len - off < 4) goto bad;
    memcpy(&dlen, j->data + off, 4);
    off += 4;
    if (j->len - off < dlen) goto bad;
    int rc = isolate_write_file(path, j->data + off, dlen);
    off += dlen;
    if (rc < 0) {
      res[0] = rc;
      res[1] = index;
      return;
    }
    index++;
  }
  return;
bad:
  res[0] = -EINVAL;
  res[1] = index;
}

static void run_job(struct job *j) {
  int64_t res[7] = {0}; /* isolate_wait() fills six after rc */
  if (j->kind == JOB_SPAWN) {
    int32_t out[4];
    int rc = isolate_spawn(j->data, j->len, j->init_fd, j->stdio, j->cgroup_fd, out);
    res[0] = rc;
    for (int i = 0; i < 4; i++) res[1 + i] = rc == 0 ? out[i] : -1;
  } else if (j->kind == JOB_WAIT) {
    res[0] = isolate_wait(j->cgroup_fd, 0, res + 1);
  } else if (j->kind == JOB_IDMAP) {
    /* data: the path, NUL-terminated; init_fd: the user namespace; stdio: plain_ok, attrs. */
    int32_t stage = 0;
    if (j->len == 0 || j->data[j->len - 1] != 0) res[0] = -EINVAL;
    else res[0] = isolate_idmap_tree((const char *)j->data, j->init_fd, (uint32_t)j->stdio[1], j->stdio[0], &stage);
    res[1] = stage;
  } else {
    run_writes(j, res);
  }
  finish(j, res);
}

/* A worker waits for work as SCHED_BATCH, and does it with the policy it was
 * started with (the JS thread's: the init it clones inherits that one). A
 * woken SCHED_BATCH thread does not preempt the thread that woke it: on a
 * busy machine, queueing a job would otherwise hand the CPU to the worker at
 * once, and the JS thread would wait through the clone (milliseconds) before
 * its event loop went on. Only from SCHED_OTHER (a caller that chose another
 * policy keeps it throughout); moving between the two needs no privilege. */
static void *worker_main(void *arg) {
  (void)arg;
  int policy;
  struct sched_param own, batch_param = {0};
  int batch = pthread_getschedparam(pthread_self(), &policy, &own) == 0 && policy == SCHED_OTHER;
  for (;;) {
    if (batch && pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch_param) != 0) batch = 0;
    __atomic_add_fetch(&idle, 1, __ATOMIC_SEQ_CST);
    struct job *j = NULL;
    ssize_t n;
    do n = read(jobs_rd, &j, sizeof j);
    while (n < 0 && errno == EINTR);
    __atomic_sub_fetch(&idle, 1, __ATOMIC_SEQ_CST);
    /* The write end is never closed, and writes are whole pointers. */
    if (n != (ssize_t)sizeof j || !j) continue;
    __atomic_sub_fetch(&queued, 1, __ATOMIC_SEQ_CST);
    /* Should this fail, the init would be SCHED_BATCH: the job fails instead. */
    int err = batch ? pthread_setschedparam(pthread_self(), SCHED_OTHER, &own) : 0;
    if (err) {
      int64_t res[7] = {-err, -1, -1, -1, -1, -1, -1};
      finish(j, res);
    } else {
      run_job(j);
    }
    free(j);
  }
  return NULL;
}

/* A worker with every signal blocked (the new thread inherits the mask). */
static int start_worker(void) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t t;
  int rc = pthread_create(&t, &attr, worker_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return -rc;
}

/* Where results go: a thread-safe callback of the JS side. Once, before any job. */
EXPORT void isolate_worker_init(done_fn cb) {
  pthread_mutex_lock(&submit_mu);
  if (!done_cb) atexit(at_exit);
  done_cb = cb;
  pthread_mutex_unlock(&submit_mu);
}

/* Queue a job; its result reaches the callback with its id: rc, then for
 * SPAWN pid, pidfd, sync fd, record fd; for WRITES the index of the failed
 * write; for IDMAP (rc: the mount fd) the step isolate_idmap_tree()
 * reached; for WAIT (of the pidfd passed as cgroup_fd: a reap that waits for
 * the init's last exit work, which may include RCU grace periods) what
 * isolate_wait() gives. data is copied; the fds of a job must stay open
 * until its result comes. Returns 0, or -errno when nothing was queued. */
EXPORT int isolate_submit(int kind, const uint8_t *data, uint32_t len, int init_fd, const int32_t *stdio,
                          int cgroup_fd, int32_t id) {
  if ((kind != JOB_SPAWN && kind != JOB_WRITES && kind != JOB_WAIT && kind != JOB_IDMAP) || !done_cb) return -EINVAL;
  struct job *j = malloc(sizeof *j + len);
  if (!j) return -ENOMEM;
  j->kind = kind;
  j->id = id;
  j->init_fd = init_fd;
  j->cgroup_fd = cgroup_fd;
  if (stdio) memcpy(j->stdio, stdio, sizeof j->stdio);
  else j->stdio[0] = j->stdio[1] = j->stdio[2] = -1;
  j->len = len;
  if (len) memcpy(j->data, data, len);

  pthread_mutex_lock(&submit_mu);
  int rc = 0;
  if (jobs_rd < 0) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) rc = -errno;
    else {
      jobs_rd = p[0];
      jobs_wr = p[1];
      /* A full queue (thousands of jobs) is refused, never waited for. */
      fcntl(jobs_wr, F_SETFL, O_NONBLOCK);
    }
  }
  /* A job that no idle worker will take starts one more, up to the cap. */
  if (rc == 0 && __atomic_load_n(&queued, __ATOMIC_SEQ_CST) + 1 > __atomic_load_n(&idle, __ATOMIC_SEQ_CST) &&
      workers < MAX_WORKERS) {
    rc = start_worker();
    if (rc == 0) workers++;
    else if (workers > 0) rc = 0; /* the others will get to it */
  }
  if (rc == 0) {
    __atomic_add_fetch(&queued, 1, __ATOMIC_SEQ_CST);
    ssize_t n = write(jobs_wr, &j, sizeof j);
    if (n != (ssize_t)sizeof j) {
      rc = n < 0 ? -errno : -EIO;
      __atomic_sub_fetch(&queued, 1, __ATOMIC_SEQ_CST);
    }
  }
  pthread_mutex_unlock(&submit_mu);
  if (rc) free(j);
  return rc;
}
