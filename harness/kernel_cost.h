// What one call of a kernel must move and compute at the least, for the roofline bound.
// gemv: the weights once (in their dtype, int8 with its scales), x and y; 2·n·k·m flops.
// swiglu: g, u, h; 4 flops per element (exp, add, divide, multiply). softmax: x, p; 5 per
// element (max, subtract, exp, sum, divide). topk: p, the k values and ids; 1 comparison per
// element.
#pragma once

#include "harness/kernel_case.h"

namespace moetune {

KernelCost gemv_cost(const KernelCase& c);
KernelCost swiglu_cost(const KernelCase& c);
KernelCost softmax_cost(const KernelCase& c);
KernelCost topk_cost(const KernelCase& c);

}  // namespace moetune
