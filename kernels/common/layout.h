// Storage order of a weight matrix W, logically [n outputs, k inputs] (DESIGN §1): `oi` stores
// it as [n, k] (a dot product per output, the Hugging Face layout), `io` as [k, n] (an axpy per
// input, the nntrainer layout).
#pragma once

#include <string_view>

namespace moetune {

enum class Layout { kOI, kIO };
std::string_view layout_name(Layout layout);  // "oi" | "io"

}  // namespace moetune
