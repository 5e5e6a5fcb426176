#include "core/store/evaluation_table.h"

#include <cstdio>
#include <filesystem>
#include <regex>

#include "core/store/csv_text.h"
#include "core/store/sae_model.h"
#include "core/store/workspace.h"

namespace saescope::store {
namespace {

std::optional<double> metric(const nlohmann::json& m, const char* key) {
  if (m.is_object() && m.contains(key) && m[key].is_number()) return m[key].get<double>();
  return std::nullopt;
}

std::string text(const nlohmann::json& c, const char* key) {
  return c.is_object() && c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : "";
}

std::string number(const std::optional<double>& v) {
  if (!v) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", *v);
  return buf;
}

}  // namespace

std::vector<EvaluationTableRow> evaluation_table(Workspace& ws) {
  static const std::regex layer_re(R"(blocks\.(\d+)\.(\w+))");
  static const std::regex module_re(R"(layers\.(\d{1,6})(?:\.(.+?))?(?:\.output)?$)");
  const auto recon = ws.results("reconstruction");
  const auto pseval = ws.results("pseval");
  std::vector<EvaluationTableRow> rows;
  for (const InputRecord& sae : ws.inputs(InputKind::Sae)) {
    EvaluationTableRow r;
    r.sae_id = sae.id;
    r.sae_path = sae.path;
    const nlohmann::json& c = sae.config;
    r.hook = text(c, "hook_name");
    // A transcoder is measured where it writes: its kind is its output hook's.
    const std::string written = c.value("transcoder", false) ? text(c, "hook_name_out") : r.hook;
    if (written != r.hook) r.hook += " → " + written;
    r.hook_kind = written;
    std::smatch m;
    if (std::regex_search(written, m, layer_re)) {
      r.layer = std::stoi(m[1].str());
      r.hook_kind = m[2].str();
      if (r.hook_kind.rfind("hook_", 0) == 0) r.hook_kind.erase(0, 5);  // "resid_post"
    } else if (std::regex_search(written, m, module_re)) {  // a Hugging Face module path
      r.layer = std::stoi(m[1].str());
      r.hook_kind = m[2].matched ? m[2].str() : "output";
    }
    if (c.contains("layer") && c["layer"].is_number_integer()) r.layer = c["layer"].get<int>();
    r.architecture = text(c, "architecture");
    r.d_sae = c.value("d_sae", 0LL);
    r.model = text(c, "model_name");
    if (c.contains("sparsity") && c["sparsity"].is_string()) {  // the engine's label (arch/ registry)
      r.sparsity = c["sparsity"].get<std::string>();
    } else if (c.contains("k") && c["k"].is_number()) {  // workspaces from before it
      r.sparsity = "k=" + std::to_string(c["k"].get<long long>());
    } else if (c.contains("l1_coefficient") && c["l1_coefficient"].is_number()) {
      r.sparsity = "l1=" + number(c["l1_coefficient"].get<double>());
    } else if (c.contains("l0_coefficient") && c["l0_coefficient"].is_number()) {
      r.sparsity = "l0=" + number(c["l0_coefficient"].get<double>());  // jumprelu
    }
    r.family = r.hook_kind + " " + r.architecture + " " + std::to_string(r.d_sae) +
               (r.sparsity.empty() ? "" : " " + r.sparsity);
    // The model it runs with (its newest result's, else the workspace's
    // newest) as the workspace names it (input_name: the user's name for it,
    // config's _name_or_path or the folder), over what the SAE's cfg calls it.
    if (const auto m = model_for_sae(ws, sae.id)) r.model = input_name(*m);
    for (const ResultRecord& res : recon)  // results come oldest first: the latest wins
      if (res.done && res.sae_id == sae.id) {
        r.mse = metric(res.metrics, "mse");
        r.l0 = metric(res.metrics, "l0");
        r.explained_variance = metric(res.metrics, "explained_variance");
        r.ce_recovered = metric(res.metrics, "ce_loss_recovered");
      }
    for (const ResultRecord& res : pseval)
      if (res.done && res.sae_id == sae.id) {
        r.accuracy = metric(res.metrics, "accuracy");
        r.precision = metric(res.metrics, "precision");
        r.recall = metric(res.metrics, "recall");
        r.specificity = metric(res.metrics, "specificity");
        r.f1 = metric(res.metrics, "f1");
        r.purity = metric(res.metrics, "purity");
        r.nmi = metric(res.metrics, "nmi");
        if (res.data_id)
          if (auto d = ws.input(*res.data_id))
            r.dataset = std::filesystem::path(d->path).filename().string();
        // PS-Eval's own MSE/L0 (on its prompts) when no corpus evaluation exists.
        if (!r.l0) r.l0 = metric(res.metrics, "l0");
        if (!r.mse) r.mse = metric(res.metrics, "mse");
      }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<std::string> evaluation_csv_header() {
  return {"Model",     "Hook",        "Layer",     "Architecture", "d_sae",        "k / L1",
          "MSE",       "L0",          "Expl. var.", "CE rec.",     "PS accuracy",  "PS precision",
          "PS recall", "PS specificity", "PS F1",  "Purity",       "NMI",          "Dataset",
          "SAE path"};
}

std::vector<std::string> evaluation_csv_cells(const EvaluationTableRow& r) {
  return {r.model,
          r.hook,
          r.layer >= 0 ? std::to_string(r.layer) : "",
          r.architecture,
          std::to_string(r.d_sae),
          r.sparsity,
          number(r.mse),
          number(r.l0),
          number(r.explained_variance),
          number(r.ce_recovered),
          number(r.accuracy),
          number(r.precision),
          number(r.recall),
          number(r.specificity),
          number(r.f1),
          number(r.purity),
          number(r.nmi),
          r.dataset,
          r.sae_path};
}

std::string evaluation_csv(const std::vector<EvaluationTableRow>& rows) {
  std::string csv = csv_record(evaluation_csv_header());
  for (const auto& r : rows) csv += csv_record(evaluation_csv_cells(r));
  return csv;
}

}  // namespace saescope::store
