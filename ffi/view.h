/* The filesystem view: shared state of the mount ops (op_mount.c) and the
 * path resolver they use (op_path.c). Flag values match VIEW in
 * src/setup/mounts.ts (test/unit/view-flags.test.ts checks they agree). */
#ifndef ISOLATE_VIEW_H
#define ISOLATE_VIEW_H

#include <stdint.h>

/* Op flags ('flags' argument of the view ops). */
#define VIEW_RO 0x1        /* read-only */
#define VIEW_DEV 0x2       /* keep device nodes usable (no nodev) */
#define VIEW_OPTIONAL 0x4  /* a missing source or destination is skipped */
#define VIEW_SEAL 0x8      /* made read-only once the view is complete */
#define VIEW_NOEXEC 0x10   /* noexec */
#define VIEW_SHM 0x20      /* mountDev: a private tmpfs at shm */
#define VIEW_USERXATTR 0x40 /* overlay: user.* xattrs (inside a user namespace) */
#define VIEW_MKWORK 0x80   /* overlay: create the (host) work dir when missing */
#define VIEW_IDMAP 0x1000  /* bind: the source is the next mount fd passed with GO (passed.h), idmapped unless read-only */
#define VIEW_PERCENT 0x100 /* tmpfs: size is a percentage of the machine's RAM (1-100), as tmpfs counts it */

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

/* Plan value checks (values.c calls this for the view ops). */
struct plan_op;
int view_check_values(const struct plan_op *op);

#endif
