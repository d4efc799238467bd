/* The filesystem view: shared state of the mount ops (op_mount.c) and the
 * path resolver they use (op_path.c). */
#ifndef ISOLATE_VIEW_H
#define ISOLATE_VIEW_H

#include <stdint.h>

#include "ops.h"

/* Op flags (the 'flags' argument of the view ops): VIEW_* in ops.h, generated
 * from src/plan/flags.ts. */

/* mountRoot attrs: the kernel's MOUNT_ATTR_RDONLY | NOSUID | NODEV | NOEXEC. */
#define VIEW_ATTRS_ALL 0xf

#define VIEW_PATH_MAX 4096

/* Set by op_mount_root: an O_PATH fd of the new root, stacked over the old one. */
extern int view_root;
/* Set when a mountPoints op rebuilt the root: view_root is then a tmpfs laid
 * over the one op_mount_root made, which pivotRoot detaches as well. */
extern int view_root_rebuilt;

/* Open ABS (absolute, checked by view_check_path) inside the new root as an
 * O_PATH fd. No component may be a symlink (ELOOP), nothing resolves outside
 * the root. When it is missing and make is S_IFDIR or S_IFREG, the missing
 * components are created, but only inside a filesystem of the sandbox's own
 * (view_own); elsewhere the result is -ENOENT. Returns the fd or -errno. */
int view_open(const char *abs, unsigned make);

/* The parent directory of ABS (as view_open with S_IFDIR) and its last name. */
int view_open_parent(const char *abs, const char **name);

/* A host path (absolute; before pivotRoot it resolves in the old root) as an
 * O_PATH fd. With follow 0 no component may be a symlink (ELOOP): writable
 * sources are opened so. Returns the fd or -errno. */
int view_host_open(const char *abs, int follow);
/* Its parent directory (no symlink anywhere) and its last name. */
int view_host_open_parent(const char *abs, const char **name);
/* NAME (one component) in the directory fd DIR, not through a symlink. */
int view_host_open_at(int dir, const char *name);

/* Remember the filesystem of fd as the sandbox's own: new entries may be made in it. */
int view_own(int fd);
/* 1 when fd lies on a filesystem of the sandbox's own. */
int view_owned(int fd);

/* Remember a mount root, shown at PATH (kept as given: plan memory), to make
 * read-only when the view is complete, with whatever mount of the same
 * filesystem shows at PATH then; the fd is kept. */
int view_seal_later(int fd, const char *path);
/* Make every remembered mount read-only; closes their fds. */
int view_seal_all(void);

/* File type bits (S_IFMT) of an fd, or -errno. */
long view_type(int fd);

/* "/proc/self/fd/N" (+ "/" rest when rest is non-null) into buf. */
char *view_fd_path(char *buf, int fd, const char *rest);

#endif
