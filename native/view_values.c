/* Value checks of the view ops, run with the rest of the plan check before
 * clone (linked into the shim and the init). */
#include "plan.h"
#include "view.h"

/* Absolute, normalized: no empty, "." or ".." component, no trailing slash. */
static int path_ok(const struct plan_arg *a, int root_ok) {
  const char *s = a->s;
  if (a->len < 1 || a->len >= VIEW_PATH_MAX - 1 || s[0] != '/') return 0;
  if (a->len == 1) return root_ok;
  const char *c = s + 1;
  for (;;) {
    const char *e = c;
    while (*e && *e != '/') e++;
    long n = e - c;
    if (n == 0 || n > 255) return 0;
    if (c[0] == '.' && (n == 1 || (n == 2 && c[1] == '.'))) return 0;
    if (!*e) return 1;
    c = e + 1;
  }
}

/* One path component. */
static int name_ok(const char *s) {
  unsigned long n = 0;
  for (; s[n]; n++)
    if (s[n] == '/' || n > 200) return 0;
  return n > 0 && !(s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')));
}

static int flags_ok(uint64_t v, uint64_t allowed) { return (v & ~allowed) == 0; }

/* One per view op (prototypes in ops.h). */
#define CHECK(ok) return (ok) ? PLAN_OK : PLAN_E_VALUE

int values_mount_root(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 1) && flags_ok(a[1].u, VIEW_ATTRS_ALL));
}

int values_bind(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 1) && path_ok(&a[1], 0) && flags_ok(a[2].u, VIEW_RO | VIEW_DEV | VIEW_OPTIONAL | VIEW_IDMAP));
}

int values_tmpfs(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 0) && a[2].u <= 07777 && flags_ok(a[3].u, VIEW_OPTIONAL | VIEW_SEAL | VIEW_NOEXEC | VIEW_PERCENT) &&
        (!(a[3].u & VIEW_PERCENT) || (a[1].u >= 1 && a[1].u <= 100)));
}

int values_mount_proc(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 0) && a[1].u == 0);
}

int values_mount_dev(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  int ok = path_ok(&a[0], 0) && a[2].count % 2 == 0 && flags_ok(a[4].u, VIEW_SEAL | VIEW_SHM);
  const char *cur = a[1].s;
  for (uint32_t i = 0; ok && i < a[1].count; i++) ok = name_ok(plan_strv_next(&cur));
  cur = a[2].s;
  for (uint32_t i = 0; ok && i < a[2].count; i += 2) {
    ok = name_ok(plan_strv_next(&cur));
    ok = plan_strv_next(&cur)[0] != 0 && ok;
  }
  CHECK(ok);
}

int values_mask(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 0) && flags_ok(a[1].u, VIEW_OPTIONAL));
}

int values_readonly(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 0) && flags_ok(a[1].u, VIEW_OPTIONAL | VIEW_NOEXEC));
}

int values_overlay(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 0) && flags_ok(a[3].u, VIEW_USERXATTR | VIEW_MKWORK) &&
        (a[1].len ? path_ok(&a[1], 0) && path_ok(&a[2], 0) : a[2].len == 0));
}

int values_symlink(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(a[0].len >= 1 && a[0].len < VIEW_PATH_MAX && path_ok(&a[1], 0));
}

int values_mkdir(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  CHECK(path_ok(&a[0], 0) && a[1].u <= 07777);
}

/* The directory to rebuild with mount points in it: "/" too. */
int values_mount_points(const struct plan_op *op) { CHECK(path_ok(&op->arg[0], 1)); }

/* Options: a v1 hierarchy's comma-separated controller names, or "" for cgroup2. */
int values_mount_cgroup(const struct plan_op *op) {
  const struct plan_arg *a = op->arg;
  int ok = path_ok(&a[0], 0) && a[1].len < 256 && flags_ok(a[2].u, VIEW_OPTIONAL);
  for (uint32_t i = 0; ok && i < a[1].len; i++) {
    char c = a[1].s[i];
    ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ',' || c == '=';
  }
  CHECK(ok);
}
