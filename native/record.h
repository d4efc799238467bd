/* Records the sandbox sends to the supervisor over the record pipe.
 * Fixed 64-byte little-endian structs, read by src/supervisor/records.ts. */
#ifndef ISOLATE_RECORD_H
#define ISOLATE_RECORD_H

#include <stdint.h>

#include "sys.h"

enum record_type {
  REC_ERROR = 1,   /* a setup op failed: index, opcode (negative for a stage), errno */
  REC_STARTED = 2, /* the init forked the command: pid = its pid inside the sandbox */
  REC_EXIT = 3,    /* the command ended: status = its wait status, plus the
                      resources of every process the init reaped */
};

/* Stages outside the plan (negative opcodes; names in src/plan/ops.ts STAGES). */
enum record_stage {
  STAGE_FDS = -1,
  STAGE_CAPS = -2,
  STAGE_EXEC_INIT = -3,
  STAGE_READ_PLAN = -4,
  STAGE_FORK = -5,
  STAGE_SIGNALS = -6,
  STAGE_LIMITS = -7,
  STAGE_JOIN = -8, /* named sandboxes: enter mode's setns */
  STAGE_SESSION = -9, /* the init's setsid */
};

struct record {
  uint32_t type;
  int32_t index;
  int32_t opcode;
  int32_t err;
  int32_t status;
  int32_t pid;
  uint64_t user_us;
  uint64_t sys_us;
  uint64_t maxrss_kib;
  uint32_t fired;   /* REC_EXIT: the limits the init enforced that fired (init_limits.h) */
  uint32_t asked;   /* REC_EXIT: what asked for the end before it came (ASKED_*) */
  uint64_t wall_us; /* REC_EXIT: wall time from the clone to the command's end */
};

/* record.asked: the supervisor forwarded a signal to the command, or sent
 * SIG_END, while the command was still running. */
#define ASKED_SIGNAL 1u
#define ASKED_END 2u

/* Sent by the supervisor to the init: kill every process of the sandbox, reap
 * them all (so what they used is counted), report, exit. */
#define SIG_END 64

/* The fds the init is started with (the shim arranges them). */
#define FD_PLAN 3
#define FD_SYNC 4
#define FD_RECORD 5
#define FD_INIT_EXE 6
/* named sandboxes: in `enter` mode, a pidfd of the sandbox's init to setns into */
#define FD_TARGET 7

static inline void record_send(int fd, uint32_t type, int32_t index, int32_t opcode, int32_t err, int32_t status,
                               int32_t pid) {
  struct record r = {type, index, opcode, err, status, pid, 0, 0, 0, 0, 0, 0};
  SYS3(SYS_write, fd, &r, sizeof r);
}

#endif
