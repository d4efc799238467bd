/* The limits the init enforces itself (init_limits.c): a wall-clock deadline
 * counted from the command's start, and a CPU-time budget read from the sandbox's cgroup.
 * Neither depends on the supervisor being scheduled. */
#ifndef ISOLATE_INIT_LIMITS_H
#define ISOLATE_INIT_LIMITS_H

#include <stdint.h>

#include "plan.h"

/* Bits of record.fired (record.h): which limit ended the command. */
#define LIMIT_FIRED_TIMEOUT 1u
#define LIMIT_FIRED_CPU 2u

/* What the init must do after a limit's fd was ready. */
enum limit_action { LIMIT_NONE = 0, LIMIT_TERM = 1, LIMIT_END = 2 };

/* op_init_limits (prototype in ops.h): remember the limits, open the CPU counter, make the timers. */
/* The command was just started: the origin of its wall time. Arm the timers. */
int limits_start(void);
/* The fds to poll (up to 2); returns how many were stored. */
int limits_fds(int *fds);
/* One of those fds is ready: what to do with the command. */
enum limit_action limits_ready(int fd);
uint32_t limits_fired(void);
/* Microseconds since the origin. */
uint64_t limits_wall_us(void);

#endif
