/* Plan decoder. Used before clone (in the shim, on the caller's buffer) and
 * again in the init (on the sealed copy it maps). No libc beyond memcpy. */
#include "plan.h"

#include <linux/sched.h>
#include <stddef.h>

static uint16_t ld16(const uint8_t *p) {
  uint16_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
static uint32_t ld32(const uint8_t *p) {
  uint32_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
static uint64_t ld64(const uint8_t *p) {
  uint64_t v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

/* One string at p (length prefix included) within [p, end). Returns the
 * number of bytes it takes, or 0 when it is malformed. */
static uint32_t take_string(const uint8_t *p, const uint8_t *end, uint32_t *n_out) {
  if (end - p < 4) return 0;
  uint32_t n = ld32(p);
  if ((uint64_t)(end - p) < (uint64_t)n + 5) return 0;
  const uint8_t *s = p + 4;
  for (uint32_t i = 0; i < n; i++)
    if (s[i] == 0) return 0;
  if (s[n] != 0) return 0;
  *n_out = n;
  return n + 5;
}

/* Decode one op's args from [p, end) per its schema. Returns bytes consumed
 * or a negative plan_error; *bad gets the offending position. */
static int64_t decode_args(const char *schema, const uint8_t *p, const uint8_t *end, struct plan_op *op,
                           const uint8_t **bad) {
  const uint8_t *start = p;
  uint16_t k = 0;
  for (const char *c = schema; *c; c++, k++) {
    struct plan_arg *a = &op->arg[k];
    a->u = 0;
    a->s = NULL;
    a->len = 0;
    a->count = 0;
    *bad = p;
    switch (*c) {
      case 'u':
        if (end - p < 8) return PLAN_E_OPLEN;
        a->u = ld64(p);
        p += 8;
        break;
      case 's': {
        uint32_t n, used = take_string(p, end, &n);
        if (!used) return PLAN_E_STRING;
        a->s = (const char *)p + 4;
        a->len = n;
        p += used;
        break;
      }
      case 'v': {
        if (end - p < 4) return PLAN_E_OPLEN;
        uint32_t count = ld32(p);
        if (count > PLAN_MAX_STRV) return PLAN_E_VALUE;
        p += 4;
        a->s = (const char *)p;
        a->count = count;
        for (uint32_t i = 0; i < count; i++) {
          uint32_t n, used = take_string(p, end, &n);
          *bad = p;
          if (!used) return PLAN_E_STRING;
          p += used;
        }
        break;
      }
      case 'b': {
        if (end - p < 4) return PLAN_E_OPLEN;
        uint32_t n = ld32(p);
        if ((uint64_t)(end - p) < (uint64_t)n + 4) return PLAN_E_OPLEN;
        a->s = (const char *)p + 4;
        a->len = n;
        p += 4 + n;
        break;
      }
      default:
        return PLAN_E_OPCODE;
    }
  }
  op->nargs = k;
  return p - start;
}

static int decode_op(const uint8_t *buf, uint32_t len, uint32_t off, struct plan_op *op, uint32_t *oplen,
                     uint32_t *where) {
  *where = off;
  if (len - off < PLAN_OP_HEADER) return PLAN_E_SHORT;
  const uint8_t *p = buf + off;
  uint16_t code = ld16(p);
  uint32_t n = ld32(p + 4);
  if (code >= OP_TABLE_SIZE || !op_table[code].schema || ld16(p + 2) != 0) return PLAN_E_OPCODE;
  *where = off + 4;
  if (n < PLAN_OP_HEADER || n > len - off) return PLAN_E_OPLEN;
  op->code = code;
  const uint8_t *bad = p;
  int64_t used = decode_args(op_table[code].schema, p + PLAN_OP_HEADER, p + n, op, &bad);
  if (used < 0) {
    *where = (uint32_t)(bad - buf);
    return (int)used;
  }
  if ((uint64_t)used + PLAN_OP_HEADER != n) return PLAN_E_OPLEN;
  *oplen = n;
  return PLAN_OK;
}

int plan_check(const uint8_t *buf, uint32_t len, uint32_t *where) {
  *where = 0;
  if (len < PLAN_HEADER) return PLAN_E_SHORT;
  if (len > PLAN_MAX_BYTES) return PLAN_E_LENGTH;
  if (ld32(buf) != PLAN_MAGIC || ld16(buf + 4) != PLAN_VERSION || ld16(buf + 6) != 0) return PLAN_E_MAGIC;
  *where = 8;
  if (ld32(buf + 8) != len) return PLAN_E_LENGTH;
  *where = 12;
  uint32_t count = ld32(buf + 12);
  if (count < 2 || count > PLAN_MAX_OPS) return PLAN_E_COUNT;

  uint32_t off = PLAN_HEADER, seen = 0, phase = 0;
  struct plan_op op;
  while (off < len) {
    uint32_t n = 0;
    int rc = decode_op(buf, len, off, &op, &n, where);
    if (rc) return rc;
    *where = off;
    op.index = seen;
    uint32_t ph = op_table[op.code].phase;
    if (seen == 0 && op.code != OP_CLONE) return PLAN_E_ORDER;
    if (seen > 0 && op.code == OP_CLONE) return PLAN_E_ORDER;
    if (ph < phase) return PLAN_E_ORDER;
    if (op.code == OP_EXEC && off + n != len) return PLAN_E_ORDER;
    if (off + n == len && op.code != OP_EXEC) return PLAN_E_ORDER;
    rc = op_check_values(&op);
    if (rc) return rc;
    phase = ph;
    seen++;
    off += n;
    if (seen > count) return PLAN_E_COUNT;
  }
  *where = 12;
  if (seen != count) return PLAN_E_COUNT;
  return PLAN_OK;
}

int plan_next(const uint8_t *buf, uint32_t len, uint32_t *off, struct plan_op *op) {
  if (*off == 0) {
    *off = PLAN_HEADER;
    op->index = (uint32_t)-1;
  }
  if (*off >= len) return 0;
  uint32_t n = 0, where = 0, index = op->index + 1;
  if (decode_op(buf, len, *off, op, &n, &where)) return 0; /* cannot happen on a checked plan */
  op->index = index;
  *off += n;
  return 1;
}

const char *plan_strv_next(const char **cursor) {
  const uint8_t *p = (const uint8_t *)*cursor;
  uint32_t n = ld32(p);
  *cursor = (const char *)(p + 4 + n + 1);
  return (const char *)p + 4;
}
