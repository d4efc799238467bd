/* Namespace-wide setup the init does once: propagation, late namespaces, hostname. */
#include <sys/mount.h>

#include "ops_run.h"
#include "sys.h"

int op_mount_private(void) { return (int)SYS5(SYS_mount, "none", "/", 0, MS_REC | MS_PRIVATE, 0); }

int op_unshare(const struct plan_op *op) { return (int)SYS1(SYS_unshare, op->arg[0].u); }

int op_hostname(const struct plan_op *op) { return (int)SYS2(SYS_sethostname, op->arg[0].s, op->arg[0].len); }

int op_mount(const struct plan_op *op) {
  const char *src = op->arg[0].len ? op->arg[0].s : 0;
  const char *fstype = op->arg[2].len ? op->arg[2].s : 0;
  const char *data = op->arg[4].len ? op->arg[4].s : 0;
  return (int)SYS5(SYS_mount, src, op->arg[1].s, fstype, op->arg[3].u, data);
}
