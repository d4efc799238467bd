/* Landlock: the second wall around the command's writes, and the scopes that
 * keep its signals and abstract unix sockets inside the sandbox. Built by
 * src/facilities/landlock/ops.ts, run in the command's process after the view is final
 * (pivot_root) and no_new_privs is set, before the command's ids and
 * capabilities change (so the paths open with the init's reach) and before
 * the seccomp filter.
 *
 *   arg 0 fs      access rights the ruleset handles (denied unless a rule grants them)
 *   arg 1 scope   LANDLOCK_SCOPE_* bits
 *   arg 2 write   paths granted every handled right but IOCTL_DEV
 *   arg 3 device  paths granted every handled right
 *   arg 4 flags   LL_STDIO: also grant the file rights on what fds 0-2 hold open for writing
 *
 * Each path is opened inside the final view without following a symlink. A
 * path that is missing, a symlink or out of the command's reach gets no rule:
 * a missing rule only denies more. A rule on something not a directory gets
 * the file rights only (the kernel refuses the others there). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>

#include "landlock.h"
#include "ops_run.h"
#include "sys.h"
#include "traverse.h"
#include "view.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif

#define LL_RULE_PATH_BENEATH 1

/* The kernel's structs, spelled out: older headers lack the later fields. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct ll_path_beneath {
  uint64_t allowed_access;
  int32_t parent_fd;
} __attribute__((packed));

static int add_rule(int ruleset, int fd, uint64_t rights) {
  long type = view_type(fd);
  if (type < 0) return (int)type;
  if (type != S_IFDIR) rights &= LL_FILE_RIGHTS;
  if (!rights) return 0;
  struct ll_path_beneath pb = {rights, fd};
  long r = SYS4(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
  return r < 0 ? (int)r : 0;
}

static int add_path(int ruleset, const char *path, uint64_t rights) {
  struct open_how how;
  __builtin_memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = SYS4(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd == -ENOSYS) fd = view_host_open(path, 0); /* under an enclosing filter: op_path.c walks it */
  if (fd == -EACCES) fd = traverse_kept(path);     /* a mapped root's, kept by the init (traverse.h) */
  if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP || fd == -EACCES) return 0;
  if (fd < 0) return (int)fd;
  int rc = add_rule(ruleset, (int)fd, rights);
  SYS1(SYS_close, fd);
  return rc;
}

/* The command's own stdio: reopening what it already holds for writing
 * (/dev/stdout, /proc/self/fd/1) stays possible. Pipes and sockets need no
 * rule (the kernel refuses one on them: EBADFD). */
static int add_stdio(int ruleset, uint64_t rights) {
  for (int fd = 0; fd <= 2; fd++) {
    long fl = SYS2(SYS_fcntl, fd, F_GETFL);
    if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || (fl & O_PATH)) continue;
    long type = view_type(fd);
    if (type < 0 || type == S_IFDIR || type == S_IFSOCK) continue;
    int rc = add_rule(ruleset, fd, rights);
    if (rc == -EBADFD) continue;
    if (rc < 0) return rc;
  }
  return 0;
}

int op_landlock(const struct plan_op *op) {
  uint64_t fs = op->arg[0].u;
  struct ll_ruleset_attr attr = {fs, 0, op->arg[1].u};
  long ruleset = SYS3(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
  if (ruleset < 0) return (int)ruleset;
  int rc = 0;
  const char *cur = op->arg[2].s;
  for (uint32_t i = 0; rc == 0 && i < op->arg[2].count; i++)
    rc = add_path((int)ruleset, plan_strv_next(&cur), fs & ~LL_FS_IOCTL_DEV);
  cur = op->arg[3].s;
  for (uint32_t i = 0; rc == 0 && i < op->arg[3].count; i++) rc = add_path((int)ruleset, plan_strv_next(&cur), fs);
  if (rc == 0 && (op->arg[4].u & LL_STDIO)) rc = add_stdio((int)ruleset, fs);
  if (rc == 0) {
    long r = SYS2(SYS_landlock_restrict_self, ruleset, 0);
    if (r < 0) rc = (int)r;
  }
  SYS1(SYS_close, ruleset);
  return rc;
}
