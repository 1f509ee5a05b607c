// How times are written for people: one helper for the table, compare and the report.
#pragma once

#include <string>
#include <string_view>

namespace moetune {

// Three significant digits, trailing zeros kept so that a column reads evenly (4.00 us,
// 49.9 ns). `micro` names the microsecond: "us" for terminals, "µs" for the HTML report.
std::string human_time(double ns, std::string_view micro = "us");

}  // namespace moetune
