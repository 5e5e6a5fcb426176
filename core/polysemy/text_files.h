#pragma once
// Whole-file text I/O for the dataset readers and writers. Writes are atomic
// (temp file beside the target, then rename) so a crash never leaves half a
// dataset that a later run would read as complete.
#include <string>
#include <string_view>
#include <vector>

namespace saescope::polysemy {

// The file's bytes, a leading UTF-8 byte-order mark removed. InputError when
// it cannot be read.
std::string read_text_file(const std::string& path);

// Writes `content` to `path` via `path.tmp.<pid>` + rename; InputError naming
// `path` when the folder is not writable.
void write_file_atomically(const std::string& path, std::string_view content);

// Lines without their "\n" / "\r\n"; a final line without newline counts, a
// trailing newline does not add an empty line.
std::vector<std::string_view> split_lines(std::string_view text);

}  // namespace saescope::polysemy
