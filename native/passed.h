/* Mount fds the supervisor passes with GO (SCM_RIGHTS on the sync socket):
 * detached, idmapped clones of the writable bind sources, in plan order of
 * the bind ops flagged VIEW_IDMAP. Only the supervisor (host root) can make a
 * mount idmapped; the init moves each into place (op_mount.c). */
#ifndef ISOLATE_PASSED_H
#define ISOLATE_PASSED_H

/* At most this many fds travel with GO (the kernel's SCM_MAX_FD is 253);
 * src/facilities/view/ops.ts keeps plans within it. */
#define PASSED_MAX 64

/* Wait for GO on fd, taking the fds that come with it (close-on-exec).
 * Returns 1 on GO, 0 on EOF (the supervisor gave up), or -errno. */
long passed_wait_go(int fd);

/* The next passed fd, in order; -EBADF when there is none left. The caller owns it. */
long passed_take(void);

#endif
