#pragma once
// Real but tiny engine inputs for end-to-end tests: a random 2-layer GPT-2 in
// the Hugging Face layout (with GPT-2's tokenizer files), a standard SAE in
// the SAELens layout, a corpus of random sentences and a small sense-labelled
// occurrences file.
#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "core/io/safetensors.h"
#include "core/model/gpt2/gpt2_config.h"
#include "core/model/gpt2/gpt2_weights.h"
#include "core/sae/sae.h"
#include "core/sae/sae_folder.h"

namespace tiny {

constexpr int64_t kWidth = 32;

inline std::string write_model(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  saescope::model::Gpt2Config c;
  c.n_layer = 2, c.d_model = kWidth, c.n_head = 4, c.d_head = 8, c.d_mlp = 64, c.n_positions = 64;
  saescope::io::write_safetensors(
      dir + "/model.safetensors",
      saescope::model::hf_named_tensors(saescope::model::random_gpt2_weights(c, 11)));
  std::ofstream(dir + "/config.json")
      << nlohmann::json({{"model_type", "gpt2"}, {"n_embd", c.d_model}, {"n_layer", c.n_layer},
                         {"n_head", c.n_head}, {"n_positions", c.n_positions},
                         {"vocab_size", c.vocab_size}, {"n_inner", c.d_mlp},
                         {"bos_token_id", 50256}, {"eos_token_id", 50256}})
             .dump();
  const std::string tokenizer = std::string(SAESCOPE_SHARED_DIR) + "/data/gpt2-tokenizer";
  for (const char* f : {"vocab.json", "merges.txt"})
    fs::copy_file(tokenizer + "/" + f, dir + "/" + f, fs::copy_options::overwrite_existing);
  return dir;
}

inline std::string write_sae(const std::string& dir, const std::string& hook, int64_t d_sae,
                             uint64_t seed) {
  saescope::sae::SaeConfig cfg;
  cfg.architecture = saescope::sae::Architecture::Standard;
  cfg.d_in = kWidth;
  cfg.d_sae = d_sae;
  cfg.meta.model_name = "tiny-gpt2";
  cfg.meta.hook_name = hook;
  cfg.center_writing_weights = false;
  cfg.meta.model_from_pretrained_kwargs = {{"center_writing_weights", false}};
  at::manual_seed(seed);
  saescope::sae::SaeWeights w;
  w.W_enc = at::randn({kWidth, d_sae}) * 4.0;
  w.W_dec = at::randn({d_sae, kWidth}) * 0.2;
  w.b_dec = at::zeros({kWidth});
  w.b_enc = at::full({d_sae}, -0.3f);
  saescope::sae::save_sae(saescope::sae::Sae(cfg, w, dir), dir);
  return dir;
}

inline std::string write_corpus(const std::string& path, int paragraphs, uint32_t seed) {
  const char* words[] = {"the", "river", "bank", "money", "spring", "water", "flows", "loan",
                         "of", "a", "in", "and", "morning", "rates", "fish", "boat", "stone",
                         "bridge", "city", "market", "green", "cold", "light", "house"};
  std::mt19937 rng(seed);
  std::ofstream out(path);
  for (int p = 0; p < paragraphs; ++p) {
    const int n = 8 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) out << (i ? " " : "") << words[rng() % 24];
    out << ".\n\n";
  }
  return path;
}

// Occurrences of " bank" and " spring" in two senses each (char spans in code points).
inline std::string write_occurrences(const std::string& path) {
  struct Row { const char* word; const char* sense; const char* gloss; const char* context; };
  const Row rows[] = {
      {"bank", "09213565-n", "sloping land beside water", "They fished from the bank of the river."},
      {"bank", "09213565-n", "sloping land beside water", "The boat drifted toward the grassy bank."},
      {"bank", "09213565-n", "sloping land beside water", "Reeds grew along the muddy bank."},
      {"bank", "08420278-n", "a financial institution", "The bank raised its interest rates."},
      {"bank", "08420278-n", "a financial institution", "She opened an account at the bank."},
      {"bank", "08420278-n", "a financial institution", "He borrowed money from the bank."},
      {"spring", "15237044-n", "the season of growth", "Flowers bloom in the spring."},
      {"spring", "15237044-n", "the season of growth", "We planted seeds last spring."},
      {"spring", "09429387-n", "a natural flow of ground water", "They drank from a cold spring."},
      {"spring", "09429387-n", "a natural flow of ground water", "The village grew around a spring."},
  };
  std::ofstream out(path);
  for (const Row& r : rows) {
    const std::string context = r.context;
    const std::string word = r.word;
    size_t at = context.rfind(" " + word);
    at = at == std::string::npos ? context.find(word) : at + 1;
    out << nlohmann::json({{"word", word}, {"pos", "N"}, {"sense_id", r.sense}, {"gloss", r.gloss},
                           {"context", context}, {"char_start", at}, {"char_end", at + word.size()}})
               .dump()
        << "\n";
  }
  return path;
}

}  // namespace tiny
