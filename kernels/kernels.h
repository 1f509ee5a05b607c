// Every kernel op's registry in one include, for the readers that use all of them (the
// benchmark binary, the layer, the sweep). What an op is and which registry is its: the op
// traits table (variants/op_traits.h).
#pragma once

#include "kernels/gemv/gemv.h"
#include "kernels/softmax/softmax.h"
#include "kernels/swiglu/swiglu.h"
#include "kernels/topk/topk.h"
