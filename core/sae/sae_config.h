#pragma once
// What an SAE is, as SAELens's cfg.json describes it: architecture, sizes,
// input handling, and where in which model it belongs. Reads every config
// generation (v6 `metadata`, older flat configs with `hook_point`,
// `activation_fn_str`, boolean `normalize_activations`) into one struct, and
// writes the current (v6) layout. Format: ../shared/docs/formats.md.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace saescope::model {
struct ModelInfo;
}

namespace saescope::sae {

// An SAE architecture. Each is one file in core/sae/arch/ (what it stores,
// how it encodes, how it trains, how it is saved), listed in
// arch/architecture.h's registry. BatchTopK and MatryoshkaBatchTopK are
// training methods: they run, and are saved (as SAELens saves them), as
// JumpReLU with one shared threshold.
enum class Architecture { Standard, TopK, BatchTopK, MatryoshkaBatchTopK, JumpReLU, Gated };

// SAELens's `normalize_activations`.
enum class Normalization {
  None,
  ExpectedAverageOnlyIn,  // x·s with one dataset-wide factor s (activation_scaler.json)
  ConstantNormRescale,    // x·√d_in/‖x‖ per token
  LayerNorm,              // (x − μ)/(σ + 1e−5) per token, undone as y·σ + μ
};

std::string to_string(Architecture a);
std::string to_string(Normalization n);
struct SaeConfig;
// SAELens's architecture name: to_string(architecture), or its transcoder
// form ("transcoder", "skip_transcoder", "jumprelu_transcoder", ...).
std::string saelens_architecture(const SaeConfig& cfg);
// The block a hook name is in: blocks.L.… or a module path …layers.L….
std::optional<int64_t> layer_of_hook(const std::string& hook);

// Where an SAE was trained: the model and hook, and how the model was loaded.
struct SaeMetadata {
  std::string model_name;
  std::string hook_name;
  std::optional<int64_t> hook_layer;  // from the config, else parsed from hook_name
  std::optional<int64_t> hook_head_index;
  // Transcoders: where the reconstruction goes (SAELens's hook_name_out).
  // Empty for an SAE, which reconstructs its input.
  std::string hook_name_out;
  std::optional<int64_t> hook_layer_out;
  std::optional<int64_t> context_size;
  std::optional<bool> prepend_bos;
  std::string dataset_path;
  nlohmann::json model_from_pretrained_kwargs = nlohmann::json::object();
  std::string sae_lens_version;
  std::string sae_lens_training_version;
  // Other metadata keys, kept so a load → save round trip loses nothing.
  nlohmann::json extra = nlohmann::json::object();
};

struct SaeConfig {
  Architecture architecture = Architecture::Standard;
  int64_t d_in = 0;
  int64_t d_sae = 0;
  // Width of the reconstruction: d_in for an SAE, the out hook's width for a
  // transcoder (SAELens's d_out). 0 is read as d_in.
  int64_t d_out = 0;
  // A transcoder reads meta.hook_name and reconstructs meta.hook_name_out; a
  // skip transcoder also adds x·W_skipᵀ of its raw input.
  bool transcoder = false;
  bool skip_connection = false;  // W_skip [d_out, d_in] present
  int64_t k = 0;                  // TopK only
  std::string dtype = "float32";  // as stored; weights are always held as float32
  std::string device = "cpu";
  bool apply_b_dec_to_input = true;
  Normalization normalize_activations = Normalization::None;
  // ExpectedAverageOnlyIn's factor, from activation_scaler.json or the config.
  std::optional<double> scaling_factor;
  // The factor decode divides by, when it differs from the input's (a
  // release whose average output norm differs from its input's; 1 for SAELens
  // transcoders, which normalise only their input). Unset: scaling_factor.
  std::optional<double> output_scaling_factor;
  bool rescale_acts_by_decoder_norm = false;
  std::string reshape_activations = "none";  // "hook_z": the caller flattens heads
  SaeMetadata meta;

  // Whether the SAE expects TransformerLens's centred residual stream
  // (center_writing_weights), and where we learnt it. Read from
  // metadata.model_from_pretrained_kwargs, else a top-level
  // model_from_pretrained_kwargs, else a legacy top-level
  // `center_writing_weights`. When none of those says, we assume true: that is
  // what HookedTransformer.from_pretrained does by default, and how the widely
  // used older GPT-2 SAEs (e.g. gpt2-small-res-jb) were trained. The source is
  // kept so a user interface can say "assumed".
  bool center_writing_weights = true;
  std::string center_writing_weights_source;  // "model_from_pretrained_kwargs" | "cfg.json field" |
                                              // "assumed (TransformerLens default)"
  // TransformerLens's fold_value_biases (moves b_V into b_O, so hook_v and
  // hook_z lose the value bias). A cfg.json read says it in
  // model_from_pretrained_kwargs, or gets from_pretrained's default, true; an
  // SAE made in memory (trained here) reads the model as it is, false. Saving
  // writes it down. It matters only to SAEs on hook_v / hook_z.
  bool fold_value_biases = false;

  bool is_legacy = false;  // the file predates SAELens 6

  // Where the SAE came from: the release layout it was read from ("saelens",
  // "gemma_scope", ...; formats/sae_formats.h) and every assumption the
  // reader made that the files do not state (shown by sae-info and the app).
  std::string format = "saelens";
  std::vector<std::string> assumptions;

  int64_t output_width() const { return d_out > 0 ? d_out : d_in; }
  const std::string& output_hook() const { return meta.hook_name_out.empty() ? meta.hook_name : meta.hook_name_out; }
};

// Parses a cfg.json document; `path` names the file in every InputError.
SaeConfig parse_sae_config(const nlohmann::json& cfg, const std::string& path);
SaeConfig read_sae_config(const std::string& cfg_json_path);

// The SAELens v6 cfg.json for `cfg`. The sae_lens_version written is at least
// 6.0.0 so SAELens reads it with its current loader.
nlohmann::json to_saelens_json(const SaeConfig& cfg);

// The BOS rule a run of these SAEs follows (corpus windows, PS-Eval prompts):
// what their cfg.json says (SAELens's prepend_bos), all alike, else the model
// family's (ModelInfo::prepend_bos, as TransformerLens). A model without a BOS
// token never gets one. InputError naming two SAEs that disagree.
bool run_prepends_bos(const model::ModelInfo& model,
                      const std::vector<std::pair<std::string, const SaeConfig*>>& saes);

}  // namespace saescope::sae
