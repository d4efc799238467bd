/* Host file operations of the supervisor that must not be redirected: part
 * of the shim (bun:ffi), used on directories a sandbox may have written.
 *
 *   isolate_open_dir_nofollow  an O_PATH fd of a directory, no symlink in any component
 *   isolate_type_at        the type of a name in a directory fd, not following it
 *   isolate_remove_at      remove a name in a directory fd, recursively, never
 *                          following a link and never leaving the filesystem
 *   isolate_list_dir       the names in a directory (the credential stores'
 *                          globs: a plan's compile needs no node:fs)
 *
 * Everything is relative to a directory fd held since before the sandbox
 * started, so renaming, replacing or linking things in between redirects
 * nothing: a symlink is unlinked (never followed), a hard link loses one name. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_DEPTH 64

EXPORT int isolate_open_dir_nofollow(const char *path) {
  struct open_how how = {0};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  return fd < 0 ? -errno : (int)fd;
}

/* The names in the directory PATH, without . and .., each NUL-terminated,
 * one after another in buf: the bytes used, -ERANGE when they do not fit in
 * cap, or -errno. */
EXPORT int64_t isolate_list_dir(const char *path, uint8_t *buf, uint64_t cap) {
  DIR *d = opendir(path);
  if (!d) return -errno;
  uint64_t used = 0;
  int64_t rc = 0;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      rc = errno ? -errno : (int64_t)used;
      break;
    }
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    size_t n = strlen(e->d_name) + 1;
    if (cap - used < n) {
      rc = -ERANGE;
      break;
    }
    memcpy(buf + used, e->d_name, n);
    used += n;
  }
  closedir(d);
  return rc;
}

EXPORT int isolate_type_at(int dir, const char *name) {
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -errno;
  return (int)(st.st_mode & S_IFMT);
}

/* A directory NAME in DIR opened for reading, not through a link; one the
 * caller owns but cannot read (overlayfs leaves work/work mode 000) is made
 * readable first, through an O_PATH fd of that very directory. */
static int open_dir_at(int dir, const char *name) {
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno != EACCES) return fd < 0 ? -errno : fd;
  int p = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (p < 0) return -errno;
  char at[32];
  snprintf(at, sizeof at, "/proc/self/fd/%d", p);
  int r = chmod(at, 0700) < 0 ? -errno : 0;
  if (r == 0) {
    fd = openat(p, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    r = fd < 0 ? -errno : fd;
  }
  close(p);
  return r;
}

static int remove_at(int dir, const char *name, dev_t dev, int depth) {
  if (unlinkat(dir, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR && errno != EPERM) return -errno;
  if (unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return 0;
  if (errno != ENOTEMPTY && errno != EEXIST) return -errno;
  if (depth >= MAX_DEPTH) return -ELOOP;
  int fd = open_dir_at(dir, name);
  if (fd < 0) return fd;
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_dev != dev) {
    close(fd);
    return -EXDEV; /* a mount point: not ours to empty */
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return -e;
  }
  int rc = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
    int r = remove_at(dirfd(d), e->d_name, dev, depth + 1);
    if (r < 0 && !rc) rc = r;
  }
  closedir(d);
  if (rc < 0) return rc;
  return unlinkat(dir, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -errno;
}

EXPORT int isolate_remove_at(int dir, const char *name) {
  struct stat st;
  if (fstat(dir, &st) < 0) return -errno;
  return remove_at(dir, name, st.st_dev, 0);
}
