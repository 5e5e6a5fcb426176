#include "core/demo/demo_report.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <tuple>

#include "core/common/error.h"
#include "core/io/atomic_file.h"
#include "core/store/evaluation_table.h"
#include "core/store/workspace.h"

namespace saescope::demo {
namespace {

std::string fixed(const std::optional<double>& v, int decimals) {
  if (!v) return "-";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

void write_text(const std::string& path, const std::string& text) {
  io::AtomicFileWriter out(path);
  out.write(text.data(), text.size());
  out.commit();
}

// The no-SAE baseline at each hook, from any PS-Eval result that carries it.
std::map<std::string, nlohmann::json> baselines(store::Workspace& ws) {
  std::map<std::string, nlohmann::json> by_hook;
  for (const auto& r : ws.results("pseval"))
    if (r.done && r.metrics.contains("baseline_at_hook") && r.metrics.contains("hook"))
      by_hook[r.metrics["hook"].get<std::string>()] = r.metrics["baseline_at_hook"];
  return by_hook;
}

std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_number()) return j[key].get<double>();
  return std::nullopt;
}

}  // namespace

std::string pseval_summary(store::Workspace& ws, const std::string& title) {
  auto rows = store::evaluation_table(ws);
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.hook_kind, a.layer, a.d_sae, a.sparsity) <
           std::tie(b.hook_kind, b.layer, b.d_sae, b.sparsity);
  });
  std::string dataset;
  for (const auto& r : rows)
    if (!r.dataset.empty()) dataset = r.dataset;
  std::string s = title + "\n\n";
  s += "PS-Eval (pairs of a word in two contexts; positive = the two prompts share their argmax\n"
       "feature; F1 is the headline). Purity and NMI: argmax feature against the WordNet sense of\n"
       "each occurrence, per word, averaged. MSE, L0, explained variance and CE loss recovered on\n"
       "the demo corpus. Dataset: " + (dataset.empty() ? std::string("(none)") : dataset) + "\n\n";
  s += pad("hook", 26) + pad("SAE", 22) +
       "      F1     acc    prec  recall    spec  purity     NMI       MSE      L0      EV  CE rec.\n";
  const auto line = [&](const std::string& hook, const std::string& name, const auto& f1,
                        const auto& acc, const auto& prec, const auto& rec, const auto& spec,
                        const auto& purity, const auto& nmi, const std::optional<double>& mse,
                        const std::optional<double>& l0, const std::optional<double>& ev,
                        const std::optional<double>& ce) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%8s%8s%8s%8s%8s%8s%8s%10s%8s%8s%9s\n", fixed(f1, 3).c_str(),
                  fixed(acc, 3).c_str(), fixed(prec, 3).c_str(), fixed(rec, 3).c_str(),
                  fixed(spec, 3).c_str(), fixed(purity, 3).c_str(), fixed(nmi, 3).c_str(),
                  fixed(mse, 4).c_str(), fixed(l0, 1).c_str(), fixed(ev, 3).c_str(),
                  fixed(ce, 3).c_str());
    s += pad(hook, 26) + pad(name, 22) + buf;
  };
  const auto base = baselines(ws);
  std::string last_hook;
  for (const auto& r : rows) {
    if (r.hook != last_hook) {
      if (auto b = base.find(r.hook); b != base.end()) {
        const auto& j = b->second;
        line(r.hook, "(no SAE: raw argmax)", number(j, "f1"), number(j, "accuracy"),
             number(j, "precision"), number(j, "recall"), number(j, "specificity"),
             number(j, "purity"), number(j, "nmi"), std::nullopt, std::nullopt, std::nullopt,
             std::nullopt);
      }
      last_hook = r.hook;
    }
    line(r.hook, r.architecture + " " + std::to_string(r.d_sae) + " " + r.sparsity, r.f1,
         r.accuracy, r.precision, r.recall, r.specificity, r.purity, r.nmi, r.mse, r.l0,
         r.explained_variance, r.ce_recovered);
  }
  return s;
}

std::vector<std::string> write_demo_report(store::Workspace& ws, const std::string& out_dir,
                                           const std::string& title) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw InputError(out_dir + ": cannot create the folder (" + ec.message() + ")");
  const std::string csv = (fs::path(out_dir) / "evaluation.csv").string();
  const std::string summary = (fs::path(out_dir) / "pseval_summary.txt").string();
  write_text(csv, store::evaluation_csv(store::evaluation_table(ws)));
  write_text(summary, pseval_summary(ws, title));
  return {csv, summary};
}

}  // namespace saescope::demo
