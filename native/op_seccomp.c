/* The command's seccomp filter: the last op before execve. The program is
 * classic BPF built by src/facilities/seccomp/; values.c has checked its shape and its
 * architecture guard, the kernel checks the rest. no_new_privs is already set. */
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "ops_run.h"
#include "sys.h"

int op_seccomp(const struct plan_op *op) {
  struct sock_fprog prog;
  prog.len = (unsigned short)(op->arg[0].len / sizeof(struct sock_filter));
  prog.filter = (struct sock_filter *)(void *)op->arg[0].s;
  long r = SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
  return r < 0 ? (int)r : 0;
}
