// Bounded JSON (core/common/json_file.h): the nesting check, both parsers and
// what callers then do with a document (dump, compare, copy).
#include <string_view>

#include "bench/fuzz/fuzz_common.h"
#include "core/common/json_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)saescope::json_nested_deeper_than(text, 8);
  saescope::fuzz::expect_input_errors_only([&] {
    const nlohmann::json j = saescope::parse_json_bounded(text, "fuzz.json");
    const nlohmann::json copy = j;
    if (copy != j) std::abort();  // parsed JSON holds no NaN
    (void)j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  });
  saescope::fuzz::expect_input_errors_only([&] {
    const nlohmann::ordered_json j = saescope::parse_ordered_json_bounded(text, "fuzz.json", 64);
    (void)j.dump();  // strict UTF-8, as callers dump: the parser let only valid text through
  });
  return 0;
}
