// SAELens cfg.json (core/sae/sae_config.h): every config generation read by
// parse_sae_config, then written back (to_saelens_json) and read again.
#include "bench/fuzz/fuzz_common.h"
#include "core/common/json_file.h"
#include "core/sae/sae_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  saescope::fuzz::expect_input_errors_only([&] {
    const nlohmann::json j = saescope::parse_json_bounded(text, "cfg.json");
    const saescope::sae::SaeConfig cfg = saescope::sae::parse_sae_config(j, "cfg.json");
    (void)saescope::sae::saelens_architecture(cfg);
    (void)saescope::sae::layer_of_hook(cfg.meta.hook_name);
    const nlohmann::json written = saescope::sae::to_saelens_json(cfg);
    (void)written.dump();
    (void)saescope::sae::parse_sae_config(written, "written cfg.json");
  });
  return 0;
}
