/* Sanitizer harness for the PATH search of native/op_exec.c.
 * Usage: exec_path PATH LEN   runs op_exec with argv[0] = LEN bytes of 'x'
 * (no slash, so PATH is searched) and the given PATH, no environment.
 * Nothing by that name exists, so every execve fails and op_exec returns;
 * built with -fsanitize=address,undefined, any write past its buffer aborts.
 * Prints "rc N" with op_exec's return. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_run.h"

/* A 'v' argument as the plan holds it: u32 length, bytes, NUL, per element. */
static char *strv(const char *const *items, uint32_t count) {
  size_t size = 0;
  for (uint32_t i = 0; i < count; i++) size += 4 + strlen(items[i]) + 1;
  char *buf = malloc(size + 1), *p = buf;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t n = (uint32_t)strlen(items[i]);
    memcpy(p, &n, 4);
    memcpy(p + 4, items[i], n + 1);
    p += 4 + n + 1;
  }
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  size_t len = (size_t)atol(argv[2]);
  char *name = malloc(len + 1);
  memset(name, 'x', len);
  name[len] = 0;
  const char *args[] = {name};
  struct plan_op op;
  memset(&op, 0, sizeof op);
  op.code = OP_EXEC;
  op.nargs = 3;
  op.arg[0].s = argv[1];
  op.arg[0].len = (uint32_t)strlen(argv[1]);
  op.arg[1].s = strv(args, 1);
  op.arg[1].count = 1;
  op.arg[2].s = strv(args, 0);
  op.arg[2].count = 0;
  int rc = op_exec(&op);
  printf("rc %d\n", rc);
  free((void *)op.arg[1].s);
  free((void *)op.arg[2].s);
  free(name);
  return 0;
}
