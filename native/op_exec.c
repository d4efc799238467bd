/* The last op: execve, searching PATH like execvp but inside the sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "ops_run.h"
#include "sys.h"

#define PATH_BUF 4096

static int has_slash(const char *s) {
  for (; *s; s++)
    if (*s == '/') return 1;
  return 0;
}

/* A NULL-terminated pointer array for a 'v' argument, in fresh pages. */
static char **strv(const struct plan_arg *a) {
  unsigned long bytes = ((unsigned long)a->count + 1) * sizeof(char *);
  char **v = sys_alloc(bytes);
  if (!v) return 0;
  const char *cur = a->s;
  for (uint32_t i = 0; i < a->count; i++) v[i] = (char *)plan_strv_next(&cur);
  v[a->count] = 0;
  return v;
}

int op_exec(const struct plan_op *op) {
  char **argv = strv(&op->arg[1]);
  char **envp = strv(&op->arg[2]);
  if (!argv || !envp) return -ENOMEM;
  const char *file = argv[0];
  if (has_slash(file)) return (int)SYS3(SYS_execve, file, argv, envp);

  const char *path = op->arg[0].s;
  unsigned long flen = 0;
  while (file[flen]) flen++;
  int err = -ENOENT, denied = 0;
  char buf[PATH_BUF];
  for (const char *p = path;; p++) {
    const char *start = p;
    while (*p && *p != ':') p++;
    unsigned long dlen = (unsigned long)(p - start);
    /* An empty entry is the current directory: "." takes one byte. */
    unsigned long used = dlen ? dlen : 1;
    if (used + 1 + flen + 1 <= PATH_BUF) {
      unsigned long n = 0;
      if (dlen == 0) buf[n++] = '.';
      for (unsigned long i = 0; i < dlen; i++) buf[n++] = start[i];
      buf[n++] = '/';
      for (unsigned long i = 0; i <= flen; i++) buf[n++] = file[i];
      err = (int)SYS3(SYS_execve, buf, argv, envp);
      /* EACCES from a PATH directory the command may not search (root's own,
       * for a mapped root) is "not there"; from a file that is there, "denied". */
      if (err == -EACCES) denied |= SYS4(SYS_faccessat, AT_FDCWD, buf, F_OK, 0) == 0;
      else if (err != -ENOENT && err != -ENOTDIR && err != -ESTALE && err != -ENODEV && err != -ETIMEDOUT)
        return err;
    }
    if (!*p) break;
  }
  return denied ? -EACCES : -ENOENT;
}
