/* Path lookups on behalf of a mapped init. Once the init takes its ids in a
 * user namespace that does not map the caller (root run mapped to an
 * unprivileged range: src/facilities/identity/ops.ts), it can no longer search the
 * caller's own directories (a 0700 /root, say), which a bind's destination
 * may lie under. Before it changes ids, it starts a helper task that keeps
 * the caller's: a thread of the init (creds are per thread), it runs lookups
 * for it (O_PATH opens, nothing else), and ends with the sandbox phase,
 * before the command exists. */
#ifndef ISOLATE_TRAVERSE_H
#define ISOLATE_TRAVERSE_H

typedef long (*traverse_fn)(int dir, const char *rel);

/* Start the helper (idempotent). 0 or -errno. */
int traverse_start(void);

/* fn(dir, rel) run by the helper, or -EACCES when there is none. */
long traverse_call(traverse_fn fn, int dir, const char *rel);

/* Before pivot_root: open the command's working directory (the plan's chdir
 * op, if any) and the paths of its Landlock rules through the view while the
 * helper can still reach them; the command falls back to them where its own
 * lookup is refused (op_chdir, op_landlock.c). */
struct plan_op;
void traverse_keep_cwd(const unsigned char *plan, unsigned len, unsigned off);
/* That directory's fd, or -1. */
int traverse_cwd_fd(void);
/* A new fd of a Landlock rule's path kept the same way (the command makes
 * the rules, as the command), or -EACCES. */
long traverse_kept(const char *path);

/* End the helper and wait until it is gone. */
void traverse_stop(void);

#endif
