/* The command's identity: supplementary groups, then gid and uid. Inside a
 * user namespace these are the ids seen there (mapped by the supervisor). */
#include "ops_run.h"
#include "sys.h"

/* The gids arrive as little-endian u32s (checked by values.c). */
int op_set_groups(const struct plan_op *op) {
  return (int)SYS2(SYS_setgroups, op->arg[0].len / 4, op->arg[0].s);
}

int op_set_ids(const struct plan_op *op) {
  long uid = (long)op->arg[0].u, gid = (long)op->arg[1].u;
  long r = SYS3(SYS_setresgid, gid, gid, gid);
  if (r < 0) return (int)r;
  r = SYS3(SYS_setresuid, uid, uid, uid);
  return r < 0 ? (int)r : 0;
}
