// Splitting the text of keys and names (machine classes, point ids, benchmark names): the one
// split every floor above may use.
#pragma once

#include <string_view>
#include <vector>

namespace moetune {

// The pieces of `s` between each `sep`, empty ones included: "a//b" gives a, "", b; "" gives
// one empty piece. Views into `s`, which must outlive them.
inline std::vector<std::string_view> split_text(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t from = 0;
  for (size_t at; (at = s.find(sep, from)) != std::string_view::npos; from = at + 1)
    parts.push_back(s.substr(from, at - from));
  parts.push_back(s.substr(from));
  return parts;
}

}  // namespace moetune
