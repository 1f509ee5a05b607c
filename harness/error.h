// The one error type of everything that reads user input (sweep files, checkpoints, results,
// command-line names). It carries where the problem is and what was expected; the command line
// catches it once, prints what() and exits 2.
#pragma once

#include <stdexcept>
#include <string>

namespace moetune {

class InputError : public std::runtime_error {
 public:
  // file: the path (or "command line"); where: "line 3, column 5", "tensor model.layers.0...",
  // or ""; message: what is wrong and what was expected.
  InputError(std::string file, std::string where, const std::string& message)
      : std::runtime_error(format(file, where, message)),
        file_(std::move(file)),
        where_(std::move(where)) {}

  const std::string& file() const { return file_; }
  const std::string& where() const { return where_; }

 private:
  static std::string format(const std::string& file, const std::string& where,
                            const std::string& message) {
    std::string s = file;
    if (!where.empty()) s += (s.empty() ? "" : ":") + std::string(" ") + where;
    if (!s.empty()) s += ": ";
    return s + message;
  }
  std::string file_, where_;
};

}  // namespace moetune
