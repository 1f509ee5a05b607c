// SHA-256 of bytes and of files (OpenSSL's libcrypto), for the provenance a tuned header carries.
#pragma once

#include <string>
#include <string_view>

namespace moetune {

// Lower-case hex, 64 characters.
std::string sha256_hex(std::string_view bytes);
// Of the file's bytes; throws InputError naming `path` when it cannot be read.
std::string sha256_of_file(const std::string& path);

}  // namespace moetune
