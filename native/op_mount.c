/* The filesystem view, built by the init before the command exists.
 *
 *   mountRoot  a recursive clone of the host's / (or of a rootfs dir), every
 *              submount read-only, nosuid, nodev in one mount_setattr, stacked
 *              over the old root; sources of later ops still resolve in the old root
 *   bind, tmpfs, mountProc, mountDev, mask, readonly, overlay, symlink, mkdir
 *              each on a destination opened safely inside the new root (op_path.c)
 *   pivotRoot  seal, pivot_root into the new root, detach the old one
 *
 * Mounts go onto fds: the new mount API (open_tree, mount_setattr,
 * move_mount, fsopen) where it saves work, else mount(2) on /proc/self/fd/N.
 * Host sources are opened once, as fds, before pivotRoot; writable ones
 * (bind without VIEW_RO, overlay upper and work) never through a symlink.
 * Needs Linux 5.12 (mount_setattr); src/facilities/view/ops.ts checks that first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/stat.h>

#include "ops_run.h"
#include "passed.h"
#include "sys.h"
#include "view.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif

struct kmount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static long set_attrs(int fd, uint64_t attrs, unsigned recursive) {
  struct kmount_attr a = {attrs, 0, 0, 0};
  return SYS5(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

static long move_onto(int tree, int target) {
  return SYS5(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static void close_fd(long fd) {
  if (fd >= 0) SYS1(SYS_close, fd);
}

/* mount(2) onto an fd (its exact place, whatever is stacked on it). */
static long mount_on(const char *src, int fd, const char *rest, const char *fstype, unsigned long flags,
                     const char *data) {
  char at[64 + VIEW_PATH_MAX];
  return SYS5(SYS_mount, src, view_fd_path(at, fd, rest), fstype, flags, data);
}

static char *put_num(char *p, uint64_t v, unsigned base) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = (char)('0' + v % base);
  while ((v /= base));
  while (n) *p++ = tmp[--n];
  return p;
}

static char *put_str(char *p, const char *s) {
  while (*s) *p++ = *s++;
  return p;
}

int op_mount_root(const struct plan_op *op) {
  if (view_root >= 0) return -EBUSY;
  long tree = SYS3(SYS_open_tree, AT_FDCWD, op->arg[0].s, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) return (int)tree;
  long r = view_type((int)tree);
  if (r >= 0 && r != S_IFDIR) r = -ENOTDIR;
  if (r >= 0) r = set_attrs((int)tree, op->arg[1].u, 1);
  /* Over the old root: absolute paths (the sources of binds) still resolve
   * there until pivotRoot, and no directory is needed to stage the new one. */
  if (r >= 0) r = SYS5(SYS_move_mount, tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH);
  if (r < 0) {
    close_fd(tree);
    return (int)r;
  }
  view_root = (int)tree;
  return 0;
}

/* A type mismatch between what is mounted and where. */
static long same_kind(long src_type, long dst_type) {
  if (dst_type < 0) return dst_type;
  if ((src_type == S_IFDIR) == (dst_type == S_IFDIR)) return 0;
  return src_type == S_IFDIR ? -ENOTDIR : -EISDIR;
}

/* A host file or directory at a destination. In four steps, each on an fd:
 * resolve the source (a writable one never through a symlink: view_host_open),
 * clone its mount tree (open_tree), set the attributes (mount_setattr), move
 * the clone onto the destination (move_mount). */
int op_bind(const struct plan_op *op) {
  uint64_t flags = op->arg[2].u;
  long tree;
  if (flags & VIEW_IDMAP) {
    /* The source comes ready from the supervisor (passed.h): only it can idmap one. */
    tree = passed_take();
    if (tree < 0) return (int)tree;
  } else {
    long src = view_host_open(op->arg[0].s, (flags & VIEW_RO) != 0);
    if (src < 0) return src == -ENOENT && (flags & VIEW_OPTIONAL) ? 0 : (int)src;
    tree = SYS3(SYS_open_tree, src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    close_fd(src);
    if (tree < 0) return (int)tree;
  }
  uint64_t attrs = MOUNT_ATTR_NOSUID | (flags & VIEW_DEV ? 0 : MOUNT_ATTR_NODEV) | (flags & VIEW_RO ? MOUNT_ATTR_RDONLY : 0);
  long type = view_type((int)tree);
  long r = type < 0 ? type : set_attrs((int)tree, attrs, 1);
  long dst = -1;
  if (r >= 0) {
    dst = view_open(op->arg[1].s, type == S_IFDIR ? S_IFDIR : S_IFREG);
    r = dst;
    if (dst == -ENOENT && (flags & VIEW_OPTIONAL)) {
      close_fd(tree);
      return 0;
    }
  }
  if (r >= 0) r = same_kind(type, view_type((int)dst));
  if (r >= 0) r = move_onto((int)tree, (int)dst);
  close_fd(dst);
  close_fd(tree);
  return r < 0 ? (int)r : 0;
}

/* A tmpfs the sandbox owns: mount points may be made in it. Returns 0 or -errno. */
static long own_tmpfs(const char *path, int at, const char *rest, unsigned long flags, const char *data,
                      uint64_t view_flags) {
  long r = mount_on("tmpfs", at, rest, "tmpfs", flags, data);
  if (r < 0) return r;
  long root = view_open(path, 0);
  if (root < 0) return root;
  r = view_own((int)root);
  if (r >= 0 && (view_flags & VIEW_SEAL)) return view_seal_later((int)root, path);
  close_fd(root);
  return r;
}

int op_tmpfs(const struct plan_op *op) {
  const char *path = op->arg[0].s;
  uint64_t size = op->arg[1].u, mode = op->arg[2].u, flags = op->arg[3].u;
  long dst = view_open(path, S_IFDIR);
  /* An optional scratch dir (/tmp, /run...) that is missing or a symlink in
   * the base is left alone: the symlink points at one that gets its own. */
  if ((dst == -ENOENT || dst == -ELOOP) && (flags & VIEW_OPTIONAL)) return 0;
  if (dst < 0) return (int)dst;
  long r = same_kind(S_IFDIR, view_type((int)dst));
  if (r < 0 && (flags & VIEW_OPTIONAL)) {
    close_fd(dst);
    return 0;
  }
  if (r >= 0) {
    char data[64], *p = put_str(data, "mode=");
    p = put_num(p, mode, 8);
    if (size) {
      p = put_str(p, ",size=");
      p = put_num(p, size, 10);
      if (flags & VIEW_PERCENT) p = put_str(p, "%");
    }
    *p = 0;
    unsigned long mflags = MS_NOSUID | MS_NODEV | (flags & VIEW_NOEXEC ? MS_NOEXEC : 0);
    r = own_tmpfs(path, (int)dst, 0, mflags, data, flags);
  }
  close_fd(dst);
  return r < 0 ? (int)r : 0;
}

int op_mount_proc(const struct plan_op *op) {
  long dst = view_open(op->arg[0].s, 0);
  if (dst < 0) return (int)dst;
  long r = same_kind(S_IFDIR, view_type((int)dst));
  if (r >= 0) r = mount_on("proc", (int)dst, 0, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
  close_fd(dst);
  return r < 0 ? (int)r : 0;
}

/* The minimal /dev: a tmpfs holding binds of a few host device nodes, links,
 * a private devpts and (VIEW_SHM) a private shm. */
int op_mount_dev(const struct plan_op *op) {
  const char *path = op->arg[0].s;
  uint64_t flags = op->arg[4].u;
  long dst = view_open(path, S_IFDIR);
  if (dst < 0) return (int)dst;
  long r = same_kind(S_IFDIR, view_type((int)dst));
  if (r >= 0) r = mount_on("tmpfs", (int)dst, 0, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k");
  close_fd(dst);
  if (r < 0) return (int)r;
  long dev = view_open(path, 0);
  if (dev < 0) return (int)dev;
  int d = (int)dev;
  r = view_own(d);

  /* Host nodes are bound, never made: mknod is not allowed in a user namespace. */
  const char *cur = op->arg[1].s;
  for (uint32_t i = 0; r >= 0 && i < op->arg[1].count; i++) {
    const char *name = plan_strv_next(&cur);
    char host[64 + 256];
    *put_str(put_str(host, "/dev/"), name) = 0;
    r = SYS4(SYS_mknodat, d, name, S_IFREG | 0666, 0);
    if (r >= 0) r = mount_on(host, d, name, 0, MS_BIND, 0);
  }
  cur = op->arg[2].s;
  for (uint32_t i = 0; r >= 0 && i + 1 < op->arg[2].count; i += 2) {
    const char *name = plan_strv_next(&cur);
    const char *target = plan_strv_next(&cur);
    r = SYS3(SYS_symlinkat, target, d, name);
  }
  if (r >= 0) r = SYS3(SYS_mkdirat, d, "pts", 0755);
  if (r >= 0) r = mount_on("devpts", d, "pts", "devpts", MS_NOSUID | MS_NOEXEC, op->arg[3].s);
  if (r >= 0) r = SYS3(SYS_mkdirat, d, "shm", 01777);
  if (r >= 0) r = SYS4(SYS_fchmodat, d, "shm", 01777, 0);
  /* 64M, as Docker gives /dev/shm (README, src/facilities/view/ops.ts). */
  if (r >= 0 && (flags & VIEW_SHM))
    r = mount_on("tmpfs", d, "shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m");
  if (r >= 0 && (flags & VIEW_SHM)) {
    char shm[VIEW_PATH_MAX];
    char *p = put_str(shm, path);
    *put_str(p, "/shm") = 0;
    long s = view_open(shm, 0);
    r = s < 0 ? s : view_own((int)s);
    close_fd(s);
  }
  if (r >= 0 && (flags & VIEW_SEAL)) return view_seal_later(d, path);
  close_fd(d);
  return r < 0 ? (int)r : 0;
}

/* Hide a path: an empty read-only tmpfs over a directory, /dev/null over
 * anything else. A path that does not exist is hidden already. */
int op_mask(const struct plan_op *op) {
  long dst = view_open(op->arg[0].s, 0);
  if (dst == -ENOENT) return 0;
  /* OPTIONAL (the credential stores): a path the init cannot reach, holding
   * every capability of its namespace, is one the command, holding none,
   * cannot reach either (its owner is not mapped there): nothing to hide. */
  if (dst == -EACCES && (op->arg[1].u & VIEW_OPTIONAL)) return 0;
  if (dst < 0) return (int)dst;
  long type = view_type((int)dst);
  long r = type;
  if (type == S_IFDIR)
    r = mount_on("tmpfs", (int)dst, 0, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555,size=4k");
  else if (type >= 0)
    r = mount_on("/dev/null", (int)dst, 0, 0, MS_BIND, 0);
  close_fd(dst);
  return r < 0 ? (int)r : 0;
}

/* A read-only bind of a path onto itself, every submount included. */
int op_readonly(const struct plan_op *op) {
  uint64_t flags = op->arg[1].u;
  long dst = view_open(op->arg[0].s, 0);
  if (dst == -ENOENT && (flags & VIEW_OPTIONAL)) return 0;
  if (dst < 0) return (int)dst;
  long tree = SYS3(SYS_open_tree, dst, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  long r = tree;
  uint64_t attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (flags & VIEW_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
  if (r >= 0) r = set_attrs((int)tree, attrs, 1);
  if (r >= 0) r = move_onto((int)tree, (int)dst);
  close_fd(tree);
  close_fd(dst);
  return r < 0 ? (int)r : 0;
}

static long fs_set(int fs, const char *key, const char *value) {
  return SYS5(SYS_fsconfig, fs, value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0);
}

/* The work dir of an overlay with a host upper, as an O_PATH fd: opened, and
 * with VIEW_MKWORK first made, relative to its parent's fd; no symlink in any
 * component. (isolate removes one it made once the sandbox has ended:
 * src/facilities/view/scratch.ts, by fd as well.) */
static long open_work(const char *work, uint64_t flags) {
  const char *name;
  long dir = view_host_open_parent(work, &name);
  if (dir < 0) return dir;
  long r = 0;
  if (flags & VIEW_MKWORK) {
    r = SYS3(SYS_mkdirat, dir, name, 0700);
    if (r == -EEXIST) r = 0;
  }
  if (r >= 0) r = view_host_open_at((int)dir, name);
  close_fd(dir);
  return r;
}

/* A writable view of a directory. Its changes go to upper (a host directory,
 * with work beside it on the same filesystem) or, with upper empty, to a
 * private tmpfs mounted first at the destination itself, under the overlay.
 *
 * overlayfs takes its layers as path strings. Upper and work are first opened
 * without following any symlink, and the strings given are /proc/self/fd/N of
 * those fds: the kernel resolves such a magic link straight to the dentry the
 * fd holds, so the user's path is not walked a second time and nothing the
 * sandbox left there can redirect it. (overlayfs takes fds themselves,
 * FSCONFIG_SET_FD, only since Linux 6.13; the magic link works on every
 * kernel isolate supports.) */
int op_overlay(const struct plan_op *op) {
  const char *path = op->arg[0].s;
  const char *upper = op->arg[1].s;
  const char *work = op->arg[2].s;
  uint64_t flags = op->arg[3].u;
  char lower_at[64], upper_at[80], work_at[80];
  long lower = view_open(path, 0), scratch = -1, fs = -1, mnt = -1, up = -1, wk = -1;
  long r = lower;
  if (r >= 0) r = same_kind(S_IFDIR, view_type((int)lower));
  if (r >= 0 && !op->arg[1].len) {
    /* The lower stays reachable through its fd once the scratch tmpfs covers it. */
    r = mount_on("tmpfs", (int)lower, 0, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
    if (r >= 0) r = scratch = view_open(path, 0);
    if (r >= 0) r = SYS3(SYS_mkdirat, scratch, "upper", 0755);
    if (r >= 0) r = SYS3(SYS_mkdirat, scratch, "work", 0700);
    if (r >= 0) {
      upper = view_fd_path(upper_at, (int)scratch, "upper");
      work = view_fd_path(work_at, (int)scratch, "work");
    }
  } else if (r >= 0) {
    r = up = view_host_open(upper, 0);
    if (r >= 0) r = same_kind(S_IFDIR, view_type((int)up));
    if (r >= 0) r = wk = open_work(work, flags);
    if (r >= 0) r = same_kind(S_IFDIR, view_type((int)wk));
    if (r >= 0) {
      upper = view_fd_path(upper_at, (int)up, 0);
      work = view_fd_path(work_at, (int)wk, 0);
    }
  }
  if (r >= 0) r = fs = SYS2(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (r >= 0) r = fs_set((int)fs, "lowerdir", view_fd_path(lower_at, (int)lower, 0));
  if (r >= 0) r = fs_set((int)fs, "upperdir", upper);
  if (r >= 0) r = fs_set((int)fs, "workdir", work);
  if (r >= 0 && (flags & VIEW_USERXATTR)) r = fs_set((int)fs, "userxattr", 0);
  if (r >= 0) r = SYS5(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0);
  if (r >= 0) r = mnt = SYS3(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (r >= 0) r = move_onto((int)mnt, (int)(scratch >= 0 ? scratch : lower));
  if (r >= 0 && !op->arg[1].len) r = view_own((int)mnt);
  close_fd(mnt);
  close_fd(fs);
  close_fd(wk);
  close_fd(up);
  close_fd(scratch);
  close_fd(lower);
  return r < 0 ? (int)r : 0;
}

int op_symlink(const struct plan_op *op) {
  const char *target = op->arg[0].s, *name;
  long dir = view_open_parent(op->arg[1].s, &name);
  if (dir < 0) return (int)dir;
  long r = view_owned((int)dir) ? SYS3(SYS_symlinkat, target, dir, name) : -EROFS;
  if (r == -EEXIST) {
    /* Already there and the same: fine. */
    char buf[VIEW_PATH_MAX];
    long n = SYS4(SYS_readlinkat, dir, name, buf, sizeof buf);
    if (n == (long)op->arg[0].len && !__builtin_memcmp(buf, target, (unsigned long)n)) r = 0;
  }
  close_fd(dir);
  return r < 0 ? (int)r : 0;
}

/* A directory; an existing one is left as it is. New ones only in the sandbox's own filesystems. */
int op_mkdir(const struct plan_op *op) {
  const char *name;
  long dir = view_open_parent(op->arg[0].s, &name);
  if (dir < 0) return (int)dir;
  long r = view_owned((int)dir) ? SYS3(SYS_mkdirat, dir, name, 0700) : -EROFS;
  if (r == 0) {
    r = SYS4(SYS_fchmodat, dir, name, op->arg[1].u, 0);
  } else if (r == -EEXIST || r == -EROFS) {
    long fd = view_open(op->arg[0].s, 0);
    if (fd >= 0) r = view_type((int)fd) == S_IFDIR ? 0 : -ENOTDIR;
    else if (fd != -ENOENT) r = fd;
    close_fd(fd);
  }
  close_fd(dir);
  return r < 0 ? (int)r : 0;
}

/* A fresh cgroup file system, read-only: inside a new cgroup namespace its
 * root is the sandbox's own cgroup. With VIEW_OPTIONAL a refused mount leaves
 * the (empty) directory as it is. */
int op_mount_cgroup(const struct plan_op *op) {
  long dst = view_open(op->arg[0].s, 0);
  if (dst < 0) return dst == -ENOENT && (op->arg[2].u & VIEW_OPTIONAL) ? 0 : (int)dst;
  long r = same_kind(S_IFDIR, view_type((int)dst));
  int v2 = op->arg[1].len == 0;
  if (r >= 0)
    r = mount_on("cgroup", (int)dst, 0, v2 ? "cgroup2" : "cgroup", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 v2 ? 0 : op->arg[1].s);
  close_fd(dst);
  if (r < 0 && (op->arg[2].u & VIEW_OPTIONAL) && r != -ENOTDIR) return 0;
  return r < 0 ? (int)r : 0;
}

int op_pivot_root(const struct plan_op *op __attribute__((unused))) {
  if (view_root < 0) return -EBADF;
  long r = view_seal_all();
  if (r >= 0) r = SYS1(SYS_fchdir, view_root);
  /* The old root ends up stacked on the new one; detach it with every
   * host mount under it, so no path leads back. With the root rebuilt
   * (op_mountpoints.c) the stack is the old root and, on it, the first view
   * root the tmpfs was laid over: that one goes first. */
  if (r >= 0) r = SYS2(SYS_pivot_root, ".", ".");
  if (r >= 0 && view_root_rebuilt) r = SYS2(SYS_umount2, ".", MNT_DETACH);
  if (r >= 0) r = SYS2(SYS_umount2, ".", MNT_DETACH);
  if (r >= 0) r = SYS1(SYS_chdir, "/");
  close_fd(view_root);
  view_root = -1;
  return r < 0 ? (int)r : 0;
}
