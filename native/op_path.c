/* Safe paths inside the new root, and host sources that cannot be redirected.
 *
 * Every destination of a view op is opened relative to the new root's fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a symlink anywhere in the
 * path (say, one a previous run left in a writable workspace) makes the op
 * fail with ELOOP instead of steering a mount elsewhere, and no path can climb
 * out of the root. Mount points are created only on filesystems the sandbox
 * made itself (its tmpfs mounts), never on a host directory.
 *
 * Host sources (view_host_open) resolve in the old root, before pivotRoot.
 * A writable one (a bind, an overlay's upper and work) is opened with
 * RESOLVE_NO_SYMLINKS: a sandbox can write there, so a link it left (in any
 * component) must not steer a later run's mount onto another host directory.
 * The mount is then made from that fd, never by its path again. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/stat.h>

#include "sys.h"
#include "traverse.h"
#include "view.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#ifndef SYS_statx
#error "SYS_statx missing"
#endif

#define MAX_OWNED 64
#define MAX_SEALED 64

int view_root = -1;
int view_root_rebuilt;

static uint64_t owned[MAX_OWNED];
static int n_owned;
/* A mount to seal: its fd, and where it shows with its filesystem (a
 * mountPoints op may since have bound a copy of it there: op_mountpoints.c). */
static struct {
  int fd;
  const char *path;
  uint64_t dev;
} sealed[MAX_SEALED];
static int n_sealed;

static long statx_fd(int fd, unsigned mask, struct statx *st) {
  return SYS5(SYS_statx, fd, "", AT_EMPTY_PATH, mask, st);
}

/* What openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) does, one component at a
 * time, for where openat2 answers ENOSYS: an enclosing sandbox's seccomp filter
 * (isolate --allow-nested refuses it, its mode being out of the filter's
 * reach). Each step opens the next name relative to the fd of the last, with
 * O_NOFOLLOW: a symlink (magic links included) is ELOOP, "." and ".." (which
 * could climb) are EXDEV, and a component swapped meanwhile changes nothing. */
static long walk_beneath(int dirfd, const char *rel) {
  char comp[256];
  long dir = SYS3(SYS_openat, dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const char *c = rel;
  while (dir >= 0) {
    while (*c == '/') c++;
    if (!*c) return dir;
    unsigned long n = 0;
    while (c[n] && c[n] != '/') {
      if (n >= sizeof comp - 1) {
        SYS1(SYS_close, dir);
        return -ENAMETOOLONG;
      }
      comp[n] = c[n];
      n++;
    }
    comp[n] = 0;
    c += n;
    long fd = (n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.')
                  ? -EXDEV
                  : SYS3(SYS_openat, dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    SYS1(SYS_close, dir);
    if (fd < 0) return fd;
    struct statx st;
    long r = statx_fd((int)fd, STATX_TYPE, &st);
    if (r >= 0 && (st.stx_mode & S_IFMT) == S_IFLNK) r = -ELOOP;
    if (r < 0) {
      SYS1(SYS_close, fd);
      return r;
    }
    dir = fd;
  }
  return dir;
}

static long open_beneath(int dirfd, const char *rel) {
  struct open_how how;
  __builtin_memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long r = SYS4(SYS_openat2, dirfd, rel, &how, sizeof how);
  return r == -ENOSYS ? walk_beneath(dirfd, rel) : r;
}

long view_type(int fd) {
  struct statx st;
  long r = statx_fd(fd, STATX_TYPE, &st);
  return r < 0 ? r : (long)(st.stx_mode & S_IFMT);
}

static long dev_of(int fd, uint64_t *dev) {
  struct statx st;
  long r = statx_fd(fd, 0, &st);
  if (r < 0) return r;
  *dev = ((uint64_t)st.stx_dev_major << 32) | st.stx_dev_minor;
  return 0;
}

int view_own(int fd) {
  uint64_t dev;
  long r = dev_of(fd, &dev);
  if (r < 0) return (int)r;
  if (n_owned == MAX_OWNED) return -ENOSPC;
  owned[n_owned++] = dev;
  return 0;
}

int view_owned(int fd) {
  uint64_t dev;
  if (dev_of(fd, &dev) < 0) return 0;
  for (int i = 0; i < n_owned; i++)
    if (owned[i] == dev) return 1;
  return 0;
}

int view_seal_later(int fd, const char *path) {
  if (n_sealed == MAX_SEALED) return -ENOSPC;
  long r = dev_of(fd, &sealed[n_sealed].dev);
  if (r < 0) return (int)r;
  sealed[n_sealed].fd = fd;
  sealed[n_sealed].path = path;
  n_sealed++;
  return 0;
}

struct kmount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static long seal(long fd) {
  struct kmount_attr a = {0x1 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
  return SYS5(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &a, sizeof a);
}

int view_seal_all(void) {
  int rc = 0;
  for (int i = 0; i < n_sealed; i++) {
    long r = seal(sealed[i].fd);
    /* The mount that shows at its path now, when it is of the same
     * filesystem: a copy bound there by a mountPoints op, or itself. */
    long at = r >= 0 ? view_open(sealed[i].path, 0) : -ENOENT;
    uint64_t dev;
    if (at >= 0 && dev_of((int)at, &dev) >= 0 && dev == sealed[i].dev) r = seal(at);
    if (at >= 0) SYS1(SYS_close, at);
    if (r < 0 && !rc) rc = (int)r;
    SYS1(SYS_close, sealed[i].fd);
  }
  n_sealed = 0;
  return rc;
}

static char *put_uint(char *p, unsigned long v) {
  char tmp[24];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10));
  while (n) *p++ = tmp[--n];
  return p;
}

char *view_fd_path(char *buf, int fd, const char *rest) {
  static const char pre[] = "/proc/self/fd/";
  char *p = buf;
  for (const char *s = pre; *s; s++) *p++ = *s;
  p = put_uint(p, (unsigned long)fd);
  if (rest) {
    *p++ = '/';
    while (*rest) *p++ = *rest++;
  }
  *p = 0;
  return buf;
}

/* Create NAME in DIR (an O_PATH fd) as type; a racing creator is fine. */
static long make_entry(int dir, const char *name, unsigned type) {
  if (!view_owned(dir)) return -ENOENT;
  long r = type == S_IFDIR ? SYS3(SYS_mkdirat, dir, name, 0755)
                           : SYS4(SYS_mknodat, dir, name, S_IFREG | 0644, 0);
  return r == -EEXIST ? 0 : r;
}

int view_open(const char *abs, unsigned make) {
  if (view_root < 0) return -EBADF;
  const char *rel = abs + 1;
  if (!*rel) return (int)SYS3(SYS_fcntl, view_root, F_DUPFD_CLOEXEC, 0);
  long fd = open_beneath(view_root, rel);
  /* A mapped init cannot search the caller's own directories: its helper can. */
  if (fd == -EACCES) fd = traverse_call(open_beneath, view_root, rel);
  if (fd != -ENOENT || !make) return (int)fd;

  /* Walk it, one component at a time, creating what is missing. */
  char buf[VIEW_PATH_MAX];
  unsigned long n = 0;
  while (rel[n] && n < sizeof buf - 1) {
    buf[n] = rel[n];
    n++;
  }
  if (rel[n]) return -ENAMETOOLONG;
  buf[n] = 0;
  long dir = SYS3(SYS_fcntl, view_root, F_DUPFD_CLOEXEC, 0);
  if (dir < 0) return (int)dir;
  char *c = buf;
  for (;;) {
    char *end = c;
    while (*end && *end != '/') end++;
    int last = !*end;
    *end = 0;
    fd = open_beneath((int)dir, c);
    if (fd == -ENOENT) {
      long r = make_entry((int)dir, c, last ? make : S_IFDIR);
      fd = r < 0 ? r : open_beneath((int)dir, c);
    }
    SYS1(SYS_close, dir);
    if (fd < 0 || last) return (int)fd;
    dir = fd;
    c = end + 1;
  }
}

int view_host_open(const char *abs, int follow) {
  struct open_how how;
  __builtin_memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = follow ? 0 : RESOLVE_NO_SYMLINKS;
  long r = SYS4(SYS_openat2, AT_FDCWD, abs, &how, sizeof how);
  if (r != -ENOSYS) return (int)r;
  if (follow) return (int)SYS3(SYS_openat, AT_FDCWD, abs, O_PATH | O_CLOEXEC);
  long root = SYS3(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return (int)root;
  r = walk_beneath((int)root, abs);
  SYS1(SYS_close, root);
  return (int)r;
}

int view_host_open_at(int dir, const char *name) {
  struct open_how how;
  __builtin_memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
  long r = SYS4(SYS_openat2, dir, name, &how, sizeof how);
  return (int)(r == -ENOSYS ? walk_beneath(dir, name) : r);
}

/* ABS up to its last slash into buf ("/" for a top-level name); *name is the rest. */
static int split_parent(const char *abs, char *buf, const char **name) {
  unsigned long n = 0, slash = 0;
  for (; abs[n]; n++) {
    if (n >= VIEW_PATH_MAX - 1) return -ENAMETOOLONG;
    buf[n] = abs[n];
    if (abs[n] == '/') slash = n;
  }
  *name = abs + slash + 1;
  buf[slash ? slash : 1] = 0;
  return 0;
}

int view_host_open_parent(const char *abs, const char **name) {
  char buf[VIEW_PATH_MAX];
  int r = split_parent(abs, buf, name);
  return r < 0 ? r : view_host_open(buf, 0);
}

int view_open_parent(const char *abs, const char **name) {
  char buf[VIEW_PATH_MAX];
  int r = split_parent(abs, buf, name);
  return r < 0 ? r : view_open(buf, S_IFDIR);
}
