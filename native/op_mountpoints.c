/* Mount points where the view has none (src/facilities/view/mountpoints.ts).
 *
 * The view's root is the host's / bound read-only: a destination missing
 * there (docker -v style, --bind SRC:/workspace) has nowhere to be made, and
 * nothing may be created on the host. mountPoints DIR rebuilds DIR, a
 * directory the view shows read-only, on a tmpfs of the sandbox's own laid
 * over it: each entry of DIR comes back as it was, a directory or file as a
 * recursive bind of what the view showed there (its submounts and their
 * attributes, read-only ones included, kept), a symlink as a new symlink
 * with the same target (never followed). The missing mount points are then
 * made in that tmpfs by the ops that follow (view_open), and it is sealed
 * read-only with the view: DIR still shows the same entries, read-only.
 *
 * DIR is opened inside the view without following any symlink (op_path.c),
 * its entries relative to that fd with O_NOFOLLOW. A DIR already the
 * sandbox's own needs nothing; a writable one (a bind of a host directory
 * the command may change) is refused with EBUSY: rebuilt, it would turn
 * read-only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/stat.h>
#include <sys/statfs.h>

#include "ops_run.h"
#include "sys.h"
#include "traverse.h"
#include "view.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef ST_RDONLY
#define ST_RDONLY 1
#endif

struct dirent64_k {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

static void close_fd(long fd) {
  if (fd >= 0) SYS1(SYS_close, fd);
}

/* The directory itself, readable (a mapped init may need its helper: traverse.h). */
static long reopen_dir(int dir, const char *rel) {
  return SYS4(SYS_openat, dir, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
}

/* One entry, never through a symlink: a symlink is opened as itself. */
static long entry_at(int dir, const char *name) {
  return SYS4(SYS_openat, dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
}

static long as_caller(traverse_fn fn, int dir, const char *rel) {
  long r = fn(dir, rel);
  return r == -EACCES ? traverse_call(fn, dir, rel) : r;
}

/* NAME of the original directory (fd from) again in the tmpfs (fd to). */
static long copy_entry(int from, int to, const char *name) {
  long e = as_caller(entry_at, from, name);
  if (e < 0) return e;
  long type = view_type((int)e), r = type, tree = -1, point = -1;
  if (type == S_IFLNK) {
    char target[VIEW_PATH_MAX];
    long n = SYS4(SYS_readlinkat, e, "", target, sizeof target - 1);
    r = n;
    if (n >= 0) {
      target[n] = 0;
      r = SYS3(SYS_symlinkat, target, to, name);
    }
  } else if (type >= 0) {
    r = tree = SYS3(SYS_open_tree, e, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (r >= 0)
      r = type == S_IFDIR ? SYS3(SYS_mkdirat, to, name, 0755) : SYS4(SYS_mknodat, to, name, S_IFREG | 0644, 0);
    if (r >= 0) r = point = SYS4(SYS_openat, to, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    if (r >= 0)
      r = SYS5(SYS_move_mount, tree, "", point, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  }
  close_fd(point);
  close_fd(tree);
  close_fd(e);
  return r;
}

static long copy_entries(int listing, int to) {
  char buf[4096] __attribute__((aligned(8)));
  for (;;) {
    long n = SYS3(SYS_getdents64, listing, buf, sizeof buf);
    if (n <= 0) return n;
    for (long at = 0; at < n;) {
      struct dirent64_k *d = (struct dirent64_k *)(buf + at);
      at += d->reclen;
      const char *s = d->name;
      if (s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2]))) continue;
      long r = copy_entry(listing, to, s);
      if (r < 0) return r;
    }
  }
}

static void put_octal(char *p, unsigned v) {
  char tmp[12];
  int n = 0;
  do tmp[n++] = (char)('0' + (v & 7));
  while ((v >>= 3));
  while (n) *p++ = tmp[--n];
  *p = 0;
}

static void put_decimal(char *p, unsigned v) {
  char tmp[12];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10));
  while (n) *p++ = tmp[--n];
  *p = 0;
}

int op_mount_points(const struct plan_op *op) {
  const char *path = op->arg[0].s;
  long dir = view_open(path, 0), listing = -1, fs = -1, mnt = -1;
  long r = dir;
  struct statx st;
  if (r >= 0) r = SYS5(SYS_statx, dir, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID, &st);
  if (r >= 0 && (st.stx_mode & S_IFMT) != S_IFDIR) r = -ENOTDIR;
  if (r >= 0 && view_owned((int)dir)) {
    close_fd(dir);
    return 0; /* the sandbox's own: mount points may be made there already */
  }
  if (r >= 0) {
    struct statfs sf;
    r = SYS2(SYS_fstatfs, dir, &sf);
    if (r >= 0 && !(sf.f_flags & ST_RDONLY)) r = -EBUSY;
  }
  if (r >= 0) r = listing = as_caller(reopen_dir, (int)dir, ".");
  if (r >= 0) r = fs = SYS2(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
  if (r >= 0) {
    char mode[16];
    put_octal(mode, st.stx_mode & 07777);
    r = SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", mode, 0);
  }
  if (r >= 0) r = SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "1m", 0);
  if (r >= 0) {
    /* Its owner, where the namespace maps it (else the init's: only how ls shows it). */
    char id[24];
    put_decimal(id, st.stx_uid);
    SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "uid", id, 0);
    put_decimal(id, st.stx_gid);
    SYS5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "gid", id, 0);
  }
  if (r >= 0) r = SYS5(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0);
  if (r >= 0)
    r = mnt = SYS3(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  /* Over DIR first (a detached tmpfs takes no mounts on older kernels); the
   * listing fd still reads the directory under it. */
  if (r >= 0) r = SYS5(SYS_move_mount, mnt, "", dir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  if (r >= 0) r = copy_entries((int)listing, (int)mnt);
  if (r >= 0) r = view_own((int)mnt);
  /* The view's root itself: later paths resolve from the tmpfs, and
   * pivotRoot enters it (and has one more mount to detach after). */
  if (r >= 0 && !path[1]) {
    long root = SYS3(SYS_fcntl, mnt, F_DUPFD_CLOEXEC, 0);
    r = root;
    if (root >= 0) {
      close_fd(view_root);
      view_root = (int)root;
      view_root_rebuilt = 1;
    }
  }
  if (r >= 0) {
    r = view_seal_later((int)mnt, path);
    if (r >= 0) mnt = -1; /* kept until the seal */
  }
  close_fd(mnt);
  close_fd(fs);
  close_fd(listing);
  close_fd(dir);
  return r < 0 ? (int)r : 0;
}
