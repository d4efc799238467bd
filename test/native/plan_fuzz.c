/* Sanitizer harness for the plan decoder (native/plan.c, native/values.c).
 * Usage: plan_fuzz ROUNDS SEED PLAN...   Each PLAN is a valid plan file: it must
 * pass; then ROUNDS mutations of it (byte flips, truncation, grown or shrunk
 * length fields, spliced bytes) must be decoded without any memory error, and
 * whatever passes is walked op by op, string by string. Built with
 * -fsanitize=address,undefined; any finding aborts. Prints "ok N M" with the
 * number of mutants checked and of those that still passed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static uint64_t rng;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

static uint8_t *slurp(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)n);
  if (fread(b, 1, (size_t)n, f) != (size_t)n) exit(2);
  fclose(f);
  *len = (uint32_t)n;
  return b;
}

/* Touch every byte a checked plan exposes, as the executors would. */
static unsigned walk(const uint8_t *buf, uint32_t len) {
  unsigned sum = 0;
  uint32_t off = 0;
  struct plan_op op;
  while (plan_next(buf, len, &off, &op)) {
    for (uint16_t i = 0; i < op.nargs; i++) {
      const struct plan_arg *a = &op.arg[i];
      if (a->count) {
        const char *cur = a->s;
        for (uint32_t k = 0; k < a->count; k++) sum += (unsigned)strlen(plan_strv_next(&cur));
      } else if (a->s) {
        for (uint32_t k = 0; k < a->len; k++) sum += (unsigned char)a->s[k];
      }
    }
  }
  return sum;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  long rounds = atol(argv[1]);
  rng = (uint64_t)atoll(argv[2]) | 1;
  long checked = 0, passed = 0;
  for (int p = 3; p < argc; p++) {
    uint32_t len, where;
    uint8_t *orig = slurp(argv[p], &len);
    if (!orig) return 2;
    int rc = plan_check(orig, len, &where);
    if (rc != PLAN_OK) {
      printf("valid plan %s refused: %d at %u\n", argv[p], rc, where);
      return 1;
    }
    walk(orig, len);
    for (long r = 0; r < rounds; r++) {
      uint32_t n = len;
      switch (next() % 5) {
        case 0: n = next() % (len + 1); break;             /* truncate */
        case 1: n = len + 1 + next() % 64; break;           /* extend with junk */
        default: break;
      }
      uint8_t *m = malloc(n ? n : 1); /* exact size: ASan sees any overread */
      memcpy(m, orig, n < len ? n : len);
      for (uint32_t i = len; i < n; i++) m[i] = (uint8_t)next();
      int flips = 1 + (int)(next() % 4);
      for (int f = 0; f < flips && n; f++) {
        uint32_t at = next() % n;
        switch (next() % 4) {
          case 0: m[at] ^= (uint8_t)(1u << (next() % 8)); break;
          case 1: m[at] = 0; break;
          case 2: m[at] = 0xff; break;
          default:
            if (at + 4 <= n) { /* a length or count field, made huge or small */
              uint32_t v = next() % 3 == 0 ? 0xffffffffu : next() % 256;
              memcpy(m + at, &v, 4);
            }
        }
      }
      /* Mostly keep the header's total length true, so mutants reach the ops. */
      if (n >= 12 && next() % 4 != 0) memcpy(m + 8, &n, 4);
      if (plan_check(m, n, &where) == PLAN_OK) {
        passed++;
        walk(m, n);
      } else if (where > n) {
        printf("error offset %u beyond length %u\n", where, n);
        return 1;
      }
      checked++;
      free(m);
    }
    free(orig);
  }
  printf("ok %ld %ld\n", checked, passed);
  return 0;
}
