/** The version isolate reports (--version, the man page). */
export const VERSION = "0.1.0";
