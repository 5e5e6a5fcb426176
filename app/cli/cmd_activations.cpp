// `saescope-cli activations`: run GPT-2 on one token sequence and save the
// values at the asked hook points, one float32 tensor per hook, [tokens, ...].
#include <ATen/ATen.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "core/model/model_registry.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::cli {
namespace {

struct ActivationsArgs {
  std::string model_dir;
  std::vector<std::string> hooks;
  std::string text;
  std::string ids;
  std::string tokenizer_dir;  // default: the model folder
  bool no_bos = false;
  bool center_writing_weights = false;
  std::string device = "cpu";
  std::string dtype = "float32";
  std::string out;
  bool has_text = false;  // --text given (even empty)
};

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw InputError("--ids: '" + item + "' is not a token id (expected e.g. --ids 464,3290,318)");
    ids.push_back(value);
    start = comma + 1;
  }
  return ids;
}

std::string join(const std::vector<int64_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

int run_activations(const ActivationsArgs& a) {
  model::ModelOptions options;
  options.device = model::parse_device(a.device);
  options.dtype = model::parse_dtype(a.dtype);
  options.center_writing_weights = a.center_writing_weights;
  const auto gpt2 = model::load_language_model(a.model_dir, options);

  std::vector<int64_t> ids;
  if (a.has_text) {
    const auto tok = tokenizer::load_tokenizer(a.tokenizer_dir.empty() ? a.model_dir : a.tokenizer_dir);
    for (const tokenizer::TokenId id : tok.encode_ids(a.text)) ids.push_back(id);
  } else {
    ids = parse_ids(a.ids);
  }
  const model::TokenBatch batch = model::make_token_batch({ids}, gpt2->info(), !a.no_bos && gpt2->info().prepend_bos);
  const model::RunResult result = gpt2->run(batch, {a.hooks, {}});

  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const std::string& name : a.hooks)
    if (std::none_of(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; }))
      tensors.emplace_back(name, result.hooks.at(name)[0].to(at::kCPU, at::kFloat).contiguous());
  std::vector<int64_t> run_ids(batch.ids.data_ptr<int64_t>(),
                               batch.ids.data_ptr<int64_t>() + batch.ids.numel());
  io::write_safetensors(a.out, tensors,
                        {{"model", a.model_dir},
                         {"token_ids", join(run_ids)},
                         {"prepend_bos", !a.no_bos && gpt2->info().prepend_bos ? "true" : "false"},
                         {"center_writing_weights", a.center_writing_weights ? "true" : "false"},
                         {"dtype", a.dtype}});
  std::cout << "wrote " << tensors.size() << " hook(s) for " << run_ids.size() << " tokens to "
            << a.out << "\n";
  return 0;
}

const bool registered = register_command(
    "activations", "Run the model on tokens and save hook-point values (safetensors)",
    [](CLI::App* sub) {
      auto a = std::make_shared<ActivationsArgs>();
      sub->add_option("--model", a->model_dir, "Hugging Face model folder")->check(non_empty_path())->required();
      sub->add_option("--hook", a->hooks, "Hook point, e.g. blocks.5.hook_resid_pre or logits (repeatable)")
          ->required();
      auto* text = sub->add_option("--text", a->text, "Text to tokenize with the model's tokenizer");
      auto* ids = sub->add_option("--ids", a->ids, "Token ids, comma-separated");
      sub->add_option("--tokenizer", a->tokenizer_dir,
                      "Folder with tokenizer.json or vocab.json + merges.txt (default: --model)");
      text->excludes(ids);
      ids->excludes(text);
      sub->add_flag("--no-bos", a->no_bos, "Do not prepend BOS (<|endoftext|>)");
      sub->add_flag("--center-writing-weights", a->center_writing_weights,
                    "TransformerLens's center_writing_weights (mean-zero residual stream)");
      sub->add_option("--device", a->device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--dtype", a->dtype, "float32 or bfloat16")->capture_default_str();
      sub->add_option("--out", a->out, "Output .safetensors file")->check(non_empty_path())->required();
      return [a, text, ids] {
        if (text->count() == 0 && ids->count() == 0)
          throw InputError("give the tokens with --text TEXT or --ids 1,2,3");
        a->has_text = text->count() > 0;
        return run_activations(*a);
      };
    });

}  // namespace
}  // namespace saescope::cli
