#pragma once
// Reading a whole user file, with the errors every reader gives the same way.
#include <string>

namespace saescope {

// The file's bytes; InputError naming it when it is a folder, cannot be
// opened (with the system's reason) or fails while being read.
std::string read_file_bytes(const std::string& path);

}  // namespace saescope
