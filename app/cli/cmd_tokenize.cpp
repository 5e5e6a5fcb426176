// `saescope-cli tokenize --model DIR [--json] [--add-special-tokens] TEXT`: the
// ids, token texts and byte offsets the folder's tokenizer gives TEXT, as
// Hugging Face's tokenizer.encode(TEXT, add_special_tokens=False) gives them
// (special tokens written in TEXT are recognised, as HF does).
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::cli {
namespace {

struct TokenizeArgs {
  std::string model_dir;
  std::string text;
  bool as_json = false;
  bool special_as_text = false;
  bool add_special_tokens = false;
};

// JSON strings must be UTF-8; a token that holds part of a character (an
// emoji split over two tokens) is shown with U+FFFD for the partial bytes.
std::string json_string(const std::string& bytes) {
  return nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run_tokenize(const TokenizeArgs& a) {
  const auto tokenizer = tokenizer::load_tokenizer(a.model_dir);
  const auto encoding = tokenizer.encode(a.text, {!a.special_as_text, a.add_special_tokens});
  if (a.as_json) {
    // Written by hand to keep the key order ids, tokens, offsets.
    std::string out = "{\"ids\":[";
    for (std::size_t i = 0; i < encoding.ids.size(); ++i)
      out += (i ? "," : "") + std::to_string(encoding.ids[i]);
    out += "],\"tokens\":[";
    for (std::size_t i = 0; i < encoding.ids.size(); ++i)
      out += (i ? "," : "") + json_string(tokenizer.token_string(encoding.ids[i]));
    out += "],\"offsets\":[";
    for (std::size_t i = 0; i < encoding.offsets.size(); ++i)
      out += std::string(i ? "," : "") + "[" + std::to_string(encoding.offsets[i].begin) + "," +
             std::to_string(encoding.offsets[i].end) + "]";
    std::cout << out << "]}\n";
    return 0;
  }
  for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
    const auto id = encoding.ids[i];
    std::cout << id << "\t" << json_string(tokenizer.token_string(id)) << "\t["
              << encoding.offsets[i].begin << "," << encoding.offsets[i].end << ")"
              << (tokenizer.is_special(id) ? "\tspecial" : "") << "\n";
  }
  std::cout << encoding.ids.size() << " tokens\n";
  return 0;
}

const bool registered = register_command(
    "tokenize", "Token ids, texts and byte offsets of a text, as Hugging Face's tokenizer gives them",
    [](CLI::App* sub) {
      auto a = std::make_shared<TokenizeArgs>();
      sub->add_option("--model", a->model_dir,
                      "Model folder holding tokenizer.json or vocab.json + merges.txt")->check(non_empty_path())
          ->required();
      sub->add_flag("--json", a->as_json, "Print {\"ids\",\"tokens\",\"offsets\"} as JSON");
      sub->add_flag("--add-special-tokens", a->add_special_tokens,
                    "Add what HF's encode() adds by default (BOS for llama and gemma)");
      sub->add_flag("--special-as-text", a->special_as_text,
                    "Read special tokens written in TEXT (<|endoftext|>, <bos>) as plain text");
      sub->add_flag("--allow-special", "Recognise special tokens in TEXT (the default; kept for "
                                       "older scripts)");
      sub->add_option("text", a->text, "The text (UTF-8)")->required();
      return [a] { return run_tokenize(*a); };
    });

}  // namespace
}  // namespace saescope::cli
