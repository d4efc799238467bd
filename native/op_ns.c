/* Namespace-wide setup the init does once: propagation, late namespaces, hostname. */
#include <sys/mount.h>

#include "ops_run.h"
#include "sys.h"

int op_mount_private(const struct plan_op *op __attribute__((unused))) { return (int)SYS5(SYS_mount, "none", "/", 0, MS_REC | MS_PRIVATE, 0); }

int op_unshare(const struct plan_op *op) { return (int)SYS1(SYS_unshare, op->arg[0].u); }

int op_hostname(const struct plan_op *op) { return (int)SYS2(SYS_sethostname, op->arg[0].s, op->arg[0].len); }
