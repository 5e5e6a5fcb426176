#include "core/model/lm_checkpoint.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "core/common/error.h"
#include "core/common/file_bytes.h"
#include "core/common/json_file.h"
#include "core/common/sha256.h"
#include "core/io/atomic_file.h"
#include "core/io/safetensors.h"

namespace saescope::model {
namespace {

namespace fs = std::filesystem;

void write_atomically(const std::string& path, const std::string& bytes) {
  io::AtomicFileWriter out(path);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::GeluTanh:
      return "gelu_new";
    case Activation::GeluErf:
      return "gelu";
    case Activation::Relu:
      return "relu";
  }
  throw InternalError("unknown activation");
}

std::string torch_dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat:
      return "float32";
    case at::kHalf:
      return "float16";
    case at::kBFloat16:
      return "bfloat16";
    default:
      throw InternalError("GPT-2 weights are saved as float32, float16 or bfloat16");
  }
}

// sha256 of GPT-2's vocab.json and merges.txt (OpenAI's release).
constexpr const char* kGpt2VocabSha =
    "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783";
constexpr const char* kGpt2MergesSha =
    "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5";

}  // namespace

const char* gpt2_tokenizer_licence() {
  return "The tokenizer files vocab.json and merges.txt in this folder are GPT-2's,\n"
         "from OpenAI's GPT-2 release (https://github.com/openai/gpt-2), under this licence:\n"
         "\n"
         "Modified MIT License\n"
         "\n"
         "Software Copyright (c) 2019 OpenAI\n"
         "\n"
         "We don\u2019t claim ownership of the content you create with GPT-2, so it is yours to do "
         "with as you please.\n"
         "We only ask that you use GPT-2 responsibly and clearly indicate your content was created "
         "using GPT-2.\n"
         "\n"
         "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
         "software and\n"
         "associated documentation files (the \"Software\"), to deal in the Software without "
         "restriction,\n"
         "including without limitation the rights to use, copy, modify, merge, publish, "
         "distribute, sublicense,\n"
         "and/or sell copies of the Software, and to permit persons to whom the Software is "
         "furnished to do so,\n"
         "subject to the following conditions:\n"
         "\n"
         "The above copyright notice and this permission notice shall be included\n"
         "in all copies or substantial portions of the Software.\n"
         "The above copyright notice and this permission notice need not be included\n"
         "with content created by the Software.\n"
         "\n"
         "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, "
         "INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR "
         "PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE "
         "LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT "
         "OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR "
         "OTHER DEALINGS IN THE SOFTWARE.\n";
}

nlohmann::json hf_gpt2_config_json(const Gpt2Config& c, at::ScalarType dtype) {
  return {{"model_type", "gpt2"},
          {"architectures", {"GPT2LMHeadModel"}},
          {"vocab_size", c.vocab_size},
          {"n_positions", c.n_positions},
          {"n_ctx", c.n_positions},
          {"n_embd", c.d_model},
          {"n_layer", c.n_layer},
          {"n_head", c.n_head},
          {"n_inner", c.d_mlp == 4 * c.d_model ? nlohmann::json(nullptr) : nlohmann::json(c.d_mlp)},
          {"activation_function", activation_name(c.activation)},
          {"resid_pdrop", 0.0},
          {"embd_pdrop", 0.0},
          {"attn_pdrop", 0.0},
          {"layer_norm_epsilon", c.layer_norm_eps},
          {"initializer_range", 0.02},
          {"scale_attn_weights", c.scale_attn_weights},
          {"scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx},
          {"reorder_and_upcast_attn", false},
          {"use_cache", true},
          {"bos_token_id", c.bos_token_id},
          {"eos_token_id", c.eos_token_id},
          {"tie_word_embeddings", true},
          {"torch_dtype", torch_dtype_name(dtype)}};
}

void save_hf_gpt2(const std::string& dir, const Gpt2Config& config, const Gpt2Weights& weights,
                  at::ScalarType dtype) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir + ": cannot create the folder (" + ec.message() + ")");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, t] : hf_named_tensors(weights))
    tensors.emplace_back(name, t.detach().to(at::kCPU, dtype));
  // transformers refuses safetensors files whose metadata lacks format "pt".
  io::write_safetensors((fs::path(dir) / "model.safetensors").string(), tensors,
                        {{"format", "pt"}});
  write_atomically((fs::path(dir) / "config.json").string(),
                   hf_gpt2_config_json(config, dtype).dump(2) + "\n");
}

std::vector<std::string> copy_tokenizer_files(const std::string& tokenizer_dir,
                                              const std::string& out_dir) {
  const fs::path from(tokenizer_dir), to(out_dir);
  std::vector<std::string> written;
  const auto copy = [&](const fs::path& file) {
    const std::string bytes = read_file_bytes(file.string());
    const fs::path target = to / file.filename();
    if (fs::exists(target) && read_file_bytes(target.string()) == bytes) {
      written.push_back(file.filename().string());
      return;  // unchanged: no rewrite
    }
    write_atomically(target.string(), bytes);
    written.push_back(file.filename().string());
  };
  for (const char* name : {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                           "special_tokens_map.json"})
    if (fs::exists(from / name)) copy(from / name);
  const bool gpt2 = fs::exists(from / "vocab.json") && fs::exists(from / "merges.txt") &&
                    sha256_file((from / "vocab.json").string()) == kGpt2VocabSha &&
                    sha256_file((from / "merges.txt").string()) == kGpt2MergesSha;
  if (gpt2) {
    const std::string target = (to / "TOKENIZER_LICENSE.txt").string();
    if (!fs::exists(target) || read_file_bytes(target) != gpt2_tokenizer_licence())
      write_atomically(target, gpt2_tokenizer_licence());
    written.push_back("TOKENIZER_LICENSE.txt");
  } else {
    for (const auto& entry : fs::directory_iterator(from)) {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() &&
          (name.rfind("LICENSE", 0) == 0 || name.rfind("NOTICE", 0) == 0 ||
           name.rfind("COPYING", 0) == 0))
        copy(entry.path());
    }
  }
  return written;
}

void save_training_state(const std::string& path, const LmTrainingState& state) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  if (state.first_moments.size() != state.params.size() ||
      state.second_moments.size() != state.params.size())
    throw InternalError("training state: one pair of moments per parameter");
  for (size_t i = 0; i < state.params.size(); ++i) {
    const std::string& name = state.params[i].first;
    tensors.emplace_back("param/" + name, state.params[i].second.detach());
    tensors.emplace_back("adam_m/" + name, state.first_moments[i]);
    tensors.emplace_back("adam_v/" + name, state.second_moments[i]);
  }
  io::write_safetensors(path, tensors,
                        {{"step", std::to_string(state.step)}, {"info", state.info.dump()}});
}

LmTrainingState load_training_state(const std::string& path,
                                    const std::vector<std::string>& names) {
  const auto file = io::SafetensorsFile::open(path);
  LmTrainingState state;
  const auto& meta = file->metadata();
  try {
    state.step = std::stoll(meta.at("step"));
    state.info = parse_json_bounded(meta.at("info"), path + ": metadata 'info'");
  } catch (const std::exception& e) {
    throw InputError(path + ": the metadata 'step' and 'info' are missing or unreadable (" +
                     e.what() + ")");
  }
  for (const std::string& name : names) {
    for (const char* kind : {"param/", "adam_m/", "adam_v/"})
      if (!file->has(kind + name))
        throw InputError(path + ": tensor '" + kind + name +
                         "' is missing (was this state written for another model shape?)");
    state.params.emplace_back(name, file->tensor("param/" + name));
    state.first_moments.push_back(file->tensor("adam_m/" + name));
    state.second_moments.push_back(file->tensor("adam_v/" + name));
  }
  return state;
}

}  // namespace saescope::model
