/* Per-op argument ranges, checked with the rest of the plan before clone. */
#ifndef ISOLATE_VALUES_H
#define ISOLATE_VALUES_H

struct plan_op;
int op_check_values(const struct plan_op *op);

#endif
