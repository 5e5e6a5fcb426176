// A model's config.json (core/model/config_json.h) through every family's
// reader: GPT-2, Llama (llama, qwen2, qwen3), GPT-NeoX and Gemma (2, 3, 3
// multimodal), and the model summary each builds from what it read.
#include "bench/fuzz/fuzz_common.h"
#include "core/model/config_json.h"
#include "core/model/gemma/gemma.h"
#include "core/model/gpt2/gpt2_config.h"
#include "core/model/gpt_neox/gpt_neox.h"
#include "core/model/llama/llama.h"
#include "core/model/model_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace saescope;
  const std::string& path = fuzz::write_temp(data, size, "config.json");
  fuzz::expect_input_errors_only([&] { (void)model::gpt2_info(model::load_gpt2_config(path)); });
  fuzz::expect_input_errors_only([&] {
    const model::ConfigJson config = model::ConfigJson::read(path);
    fuzz::expect_input_errors_only([&] { (void)model::llama_info(model::read_llama_config(config)); });
    fuzz::expect_input_errors_only([&] { (void)model::gpt_neox_info(model::read_gpt_neox_config(config)); });
    fuzz::expect_input_errors_only([&] { (void)model::gemma_info(model::read_gemma_config(config)); });
  });
  return 0;
}
