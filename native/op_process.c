/* Per-process hygiene, run in the command's process before execve. */
#include <errno.h>
#include <linux/keyctl.h>
#include <signal.h>

#include "ops_run.h"
#include "sys.h"
#include "traverse.h"

struct ksigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
};

/* Every disposition back to default (exec keeps "ignored" ones: Bun ignores
 * SIGPIPE, and a command must not inherit that), then an empty mask. */
void process_reset_signals(void) {
  struct ksigaction dfl = {SIG_DFL, 0, 0, 0};
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    SYS4(SYS_rt_sigaction, sig, &dfl, 0, 8);
  }
  unsigned long none = 0;
  SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, 8);
}

int op_setsid(const struct plan_op *op __attribute__((unused))) {
  long r = SYS0(SYS_setsid);
  return r < 0 ? (int)r : 0;
}

/* A fresh session keyring. Under an enclosing sandbox whose seccomp filter
 * refuses keyctl altogether (isolate --allow-nested), no keyring is reachable
 * anyway: that is as good, and is told apart from a refused join by a second,
 * harmless keyctl being refused too. */
int op_keyring(const struct plan_op *op __attribute__((unused))) {
  long r = SYS2(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0);
  if (r == -EPERM && SYS3(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0) == -EPERM) return 0;
  return r < 0 ? (int)r : 0;
}

int op_chdir(const struct plan_op *op) {
  long r = SYS1(SYS_chdir, op->arg[0].s);
  /* A mapped root's cwd under a directory of the caller's it cannot search
   * (a 0700 /root): the one the init opened for it (traverse.h). */
  if (r == -EACCES && traverse_cwd_fd() >= 0) r = SYS1(SYS_fchdir, traverse_cwd_fd());
  return (int)r;
}

int op_rlimit(const struct plan_op *op) {
  unsigned long lim[2] = {op->arg[1].u, op->arg[2].u};
  return (int)SYS4(SYS_prlimit64, 0, op->arg[0].u, lim, 0);
}
