#include "core/workflows/input_probe.h"

#include <filesystem>
#include <cstdio>
#include <fstream>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/model/model_registry.h"
#include "core/model/model_summary.h"
#include "core/polysemy/pair_dataset.h"
#include "core/sae/arch/architecture.h"
#include "core/sae/formats/sae_formats.h"
#include "core/sae/sae_config.h"

namespace fs = std::filesystem;

namespace saescope::jobs {
namespace {

ProbedInput probe_model(const std::string& dir) {
  const model::ModelInfo c = model::read_model_info(dir);
  ProbedInput p;
  p.kind = store::InputKind::Model;
  p.config = model::model_summary_json(c);
  p.description = c.name + " (" + c.model_type + "): " + std::to_string(c.n_layer) +
                  " layers, width " + std::to_string(c.d_model);
  return p;
}

ProbedInput probe_sae(const std::string& dir, const sae::SaeFormat& format) {
  // A SAELens cfg.json says everything without reading the weights; the
  // other layouts are known from their tensors' shapes.
  const sae::SaeConfig c = std::string(format.name) == "saelens"
                               ? sae::read_sae_config((fs::path(dir) / "cfg.json").string())
                               : sae::open_sae(dir).config();
  ProbedInput p;
  p.kind = store::InputKind::Sae;
  p.config = sae_input_config(c, read_raw_sae_cfg(dir));
  p.config["format"] = format.name;
  p.description = std::string(c.transcoder ? "transcoder " : "SAE ") + sae::saelens_architecture(c) + " at " +
                  c.meta.hook_name + (c.transcoder ? " → " + c.output_hook() : std::string()) + ", " +
                  std::to_string(c.d_sae) + " features (" + format.title + ")";
  return p;
}

bool looks_like_corpus(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".txt") return true;
  if (ext != ".jsonl") return false;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = parse_json_bounded(line, path);
    } catch (const JsonError&) {
      return false;  // not a corpus line; whoever reads the file says why
    }
    return j.is_object() && j.contains("text") && !j.contains("context_1") && !j.contains("sense_id");
  }
  return false;
}

}  // namespace

nlohmann::json sae_input_config(const sae::SaeConfig& c, const nlohmann::json& raw_cfg) {
  nlohmann::json j = {{"architecture", sae::to_string(c.architecture)}, {"d_in", c.d_in},
                      {"d_sae", c.d_sae}, {"hook_name", c.meta.hook_name},
                      {"model_name", c.meta.model_name},
                      {"center_writing_weights", c.center_writing_weights}};
  if (c.k > 0) j["k"] = c.k;
  if (c.transcoder) {
    j["transcoder"] = true;
    j["d_out"] = c.output_width();
    j["hook_name_out"] = c.meta.hook_name_out;
  }
  if (c.meta.hook_layer) j["layer"] = *c.meta.hook_layer;
  // SAELens keeps the training coefficients beside the architecture keys
  // (older configs) or in metadata (v6).
  for (const char* key : {"l1_coefficient", "l0_coefficient"}) {
    for (const nlohmann::json* where :
         {&raw_cfg, raw_cfg.is_object() && raw_cfg.contains("metadata") ? &raw_cfg["metadata"] : nullptr})
      if (where && where->is_object() && where->contains(key) && (*where)[key].is_number()) j[key] = (*where)[key];
    if (!j.contains(key) && c.meta.extra.is_object() && c.meta.extra.contains(key) && c.meta.extra[key].is_number())
      j[key] = c.meta.extra[key];
  }
  // The evaluation table's sparsity label, by the knob of the architecture
  // it was trained as (a batch top-k SAE runs as jumprelu but is sparse by k).
  const std::string trained_as = c.meta.extra.is_object() && c.meta.extra.contains("trained_as") &&
                                         c.meta.extra["trained_as"].is_string()
                                     ? c.meta.extra["trained_as"].get<std::string>()
                                     : sae::to_string(c.architecture);
  if (!j.contains("k") && c.meta.extra.is_object() && c.meta.extra.contains("k") && c.meta.extra["k"].is_number_integer())
    j["k"] = c.meta.extra["k"];
  if (const sae::ArchitectureSpec* a = sae::find_architecture(trained_as)) {
    const char* key = a->sparsity == sae::SparsityKnob::K ? "k" : a->sparsity == sae::SparsityKnob::L1 ? "l1_coefficient" : "l0_coefficient";
    const char* label = a->sparsity == sae::SparsityKnob::K ? "k=" : a->sparsity == sae::SparsityKnob::L1 ? "l1=" : "l0=";
    if (j.contains(key) && j[key].is_number()) {
      char buf[48];
      std::snprintf(buf, sizeof buf, "%s%.6g", label, j[key].get<double>());
      j["sparsity"] = buf;
    }
  }
  return j;
}

nlohmann::json read_raw_sae_cfg(const std::string& sae_dir) {
  std::error_code ec;
  const fs::path cfg = fs::path(sae_dir) / "cfg.json";
  if (!fs::is_directory(sae_dir, ec) || !fs::exists(cfg, ec)) return nlohmann::json::object();
  return read_json_file(cfg.string());
}

ProbedInput probe_input(const std::string& path) {
  if (path.empty()) throw InputError("the path is empty (name a model or SAE folder, a corpus or a dataset)");
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or folder");
  // SAEs first: two SAE release layouts (formats/) hold a config.json too.
  if (const sae::SaeFormat* f = sae::find_sae_format(path)) return probe_sae(path, *f);
  if (fs::is_directory(path) && fs::exists(fs::path(path) / "config.json")) return probe_model(path);
  if (!fs::is_directory(path) && looks_like_corpus(path)) {
    ProbedInput p;
    p.kind = store::InputKind::Corpus;
    p.config = {{"bytes", static_cast<int64_t>(fs::file_size(path))}};
    p.description = "corpus " + fs::path(path).filename().string();
    return p;
  }
  std::string why;
  try {
    // A dataset is recognised by reading it: an extension alone proves nothing.
    const auto data = polysemy::load_pair_dataset(path);
    if (!data.pairs.empty() || !data.occurrences.empty()) {
      ProbedInput p;
      p.kind = store::InputKind::Dataset;
      p.config = {{"format", polysemy::dataset_kind_name(data.kind)},
                  {"pairs", data.pairs.size()}, {"occurrences", data.occurrences.size()}};
      p.description = "sense dataset " + fs::path(path).filename().string();
      return p;
    }
    why = " (read as a " + std::string(polysemy::dataset_kind_name(data.kind)) +
          " dataset it holds no usable pairs)";
  } catch (const InputError&) {
  }
  throw InputError(path +
                   ": not a model folder (config.json), an SAE (sae-info lists the layouts), a "
                   "corpus (.txt, or .jsonl with a \"text\" field) or a sense dataset (PS-Eval "
                   ".jsonl/.csv, WiC folder, occurrences .jsonl)" + why);
}

int64_t register_probed(store::Workspace& ws, const std::string& path, ProbedInput* probed) {
  ProbedInput p = probe_input(path);
  const int64_t id = ws.register_input(p.kind, path, p.config);
  if (probed) *probed = std::move(p);
  return id;
}

}  // namespace saescope::jobs
