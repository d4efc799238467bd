/* The plan: a flat, ordered list of setup ops, built by src/plan/encode.ts.
 *
 * Layout (little-endian, no padding):
 *   header  u32 magic "ISOP", u16 version, u16 zero, u32 total length, u32 op count
 *   op      u16 opcode, u16 zero, u32 op length (header included), args...
 *   args    in the order the opcode's schema gives (build/ops.h, from src/plan/ops.ts):
 *             'u'  u64
 *             's'  u32 n, n bytes, NUL   (no NUL inside)
 *             'v'  u32 count, count strings as 's'
 *             'b'  u32 n, n bytes
 *
 * plan_check() validates every byte once, before clone; the executors then
 * read args through plan_args() without further bounds checks. */
#ifndef ISOLATE_PLAN_H
#define ISOLATE_PLAN_H

#include <stdint.h>

#include "ops.h"

#define PLAN_MAGIC 0x504f5349u /* "ISOP" */
#define PLAN_VERSION 1
#define PLAN_HEADER 16
#define PLAN_OP_HEADER 8
#define PLAN_MAX_BYTES (64u << 20)
#define PLAN_MAX_OPS 65535u
#define PLAN_MAX_ARGS 8
#define PLAN_MAX_STRV 1000000u

/* Why a plan was refused (negative return of plan_check). */
enum plan_error {
  PLAN_OK = 0,
  PLAN_E_SHORT = -1,      /* shorter than its header or its declared length */
  PLAN_E_MAGIC = -2,      /* wrong magic or version */
  PLAN_E_LENGTH = -3,     /* declared length differs from the buffer */
  PLAN_E_OPCODE = -4,     /* unknown opcode or nonzero reserved field */
  PLAN_E_OPLEN = -5,      /* op length out of bounds or not matching its args */
  PLAN_E_STRING = -6,     /* string not NUL-terminated, or NUL inside */
  PLAN_E_ORDER = -7,      /* ops out of phase order, clone not first, exec not last */
  PLAN_E_COUNT = -8,      /* op count does not match, or too many */
  PLAN_E_VALUE = -9,      /* an argument out of its range */
};

struct plan_arg {
  uint64_t u;      /* 'u' */
  const char *s;   /* 's': the string; 'b': the bytes; 'v': first element's length prefix */
  uint32_t len;    /* 's', 'b': byte length */
  uint32_t count;  /* 'v': element count */
};

struct plan_op {
  uint32_t index;  /* position in the plan, 0-based */
  uint16_t code;
  uint16_t nargs;
  struct plan_arg arg[PLAN_MAX_ARGS];
};

/* Check the whole plan. Returns PLAN_OK or a plan_error; *where gets the byte
 * offset of the first byte found wrong. */
int plan_check(const uint8_t *buf, uint32_t len, uint32_t *where);

/* Iterate a checked plan: *off starts at 0; returns 1 with *op filled, 0 at the end. */
int plan_next(const uint8_t *buf, uint32_t len, uint32_t *off, struct plan_op *op);

/* Walk a 'v' argument: returns the string at *cursor (starting from arg->s) and advances. */
const char *plan_strv_next(const char **cursor);

#endif
