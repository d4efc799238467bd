/* Landlock values shared by the plan checks (values.c) and the executor
 * (op_landlock.c); the kernel's numbers from linux/landlock.h, spelled out
 * because older headers lack the later ones. */
#ifndef ISOLATE_LANDLOCK_H
#define ISOLATE_LANDLOCK_H

/* LANDLOCK_ACCESS_FS_EXECUTE (bit 0) .. LANDLOCK_ACCESS_FS_IOCTL_DEV (bit 15, ABI 5). */
#define LL_FS_KNOWN ((1ULL << 16) - 1)
#define LL_FS_IOCTL_DEV (1ULL << 15)
/* Rights a rule on a non-directory may carry: EXECUTE, WRITE_FILE, READ_FILE, TRUNCATE, IOCTL_DEV. */
#define LL_FILE_RIGHTS ((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 14) | (1ULL << 15))
/* LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL (ABI 6). */
#define LL_SCOPE_KNOWN 0x3ULL

/* The op's flags: LL_* in ops.h, generated from src/plan/flags.ts. */
#include "ops.h"

/* At most this many paths in each list. */
#define LL_MAX_PATHS 4096

#endif
