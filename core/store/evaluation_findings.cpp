#include "core/store/evaluation_findings.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

namespace saescope::store {
namespace {

std::string num(double x) {  // 3 significant digits
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

std::string name(const EvaluationTableRow& r) {
  return r.hook + " (" + r.architecture + " " + std::to_string(r.d_sae) + (r.sparsity.empty() ? "" : " " + r.sparsity) + ")";
}

std::optional<double> fvu(const EvaluationTableRow& r) {
  if (!r.explained_variance) return std::nullopt;
  return 1.0 - *r.explained_variance;
}

// No other SAE is at least as good on both FVU and L0 and better on one.
bool on_frontier(const EvaluationTableRow& r, const std::vector<const EvaluationTableRow*>& all) {
  for (const auto* o : all) {
    if (o == &r) continue;
    const bool no_worse = *fvu(*o) <= *fvu(r) && *o->l0 <= *r.l0;
    const bool better = *fvu(*o) < *fvu(r) || *o->l0 < *r.l0;
    if (no_worse && better) return false;
  }
  return true;
}

constexpr double kFlat = 0.02;  // F1 differences below this are not called a change

// Dictionary size at one hook: the same architecture and sparsity, two widths.
std::optional<Finding> size_finding(const std::vector<const EvaluationTableRow*>& scored) {
  std::map<std::string, std::vector<const EvaluationTableRow*>> groups;
  for (const auto* r : scored) groups[r->hook + "|" + r->architecture + "|" + r->sparsity].push_back(r);
  for (auto& [key, g] : groups) {
    if (g.size() < 2) continue;
    std::sort(g.begin(), g.end(), [](const auto* a, const auto* b) { return a->d_sae < b->d_sae; });
    if (g.front()->d_sae == g.back()->d_sae) continue;
    const double change = *g.back()->f1 - *g.front()->f1;
    const std::string verb = std::abs(change) < kFlat ? "separate about as well as "
                             : change > 0             ? "separate better than "
                                                      : "separate worse than ";
    return Finding{"size", "At " + g.front()->hook + (g.front()->sparsity.empty() ? "" : " (" + g.front()->sparsity + ")") +
                               ", " + std::to_string(g.back()->d_sae) + " features " + verb +
                               std::to_string(g.front()->d_sae) + " (F1 " + num(*g.back()->f1) + " against " +
                               num(*g.front()->f1) + ")."};
  }
  return std::nullopt;
}

}  // namespace

std::vector<Finding> evaluation_findings(const std::vector<EvaluationTableRow>& rows) {
  std::vector<Finding> out;
  std::vector<const EvaluationTableRow*> scored;
  for (const auto& r : rows)
    if (r.f1) scored.push_back(&r);
  if (scored.empty()) return out;
  const auto best = *std::max_element(scored.begin(), scored.end(),
                                      [](const auto* a, const auto* b) { return *a->f1 < *b->f1; });
  std::string caution;
  if (best->specificity)
    caution = *best->specificity < 0.5
                  ? "; its specificity is only " + num(*best->specificity) +
                        " (F1 also rewards a feature that fires for every sense, so read the two together)"
                  : ", with specificity " + num(*best->specificity);
  if (scored.size() > 1)
    out.push_back({"best separation", name(*best) + " separates senses best: PS-Eval F1 " + num(*best->f1) + caution + "."});

  // Does the best separator also have the best reconstruction trade-off?
  std::vector<const EvaluationTableRow*> both;
  for (const auto* r : scored)
    if (fvu(*r) && r->l0) both.push_back(r);
  if (both.size() > 1 && std::find(both.begin(), both.end(), best) != both.end()) {
    if (on_frontier(*best, both)) {
      out.push_back({"trade-off", name(*best) + ", the best separator, is also on the FVU-L0 frontier (FVU " + num(*fvu(*best)) + " at L0 " +
                                      num(*best->l0) + "): here the better reconstruction and the better separation agree."});
    } else {
      const EvaluationTableRow* dominating = nullptr;
      for (const auto* o : both)
        if (o != best && *fvu(*o) <= *fvu(*best) && *o->l0 <= *best->l0 && (!dominating || *o->f1 < *dominating->f1))
          dominating = o;
      out.push_back({"trade-off", name(*best) + ", the best separator, is not the best on FVU-L0: " + name(*dominating) + " reconstructs better (FVU " +
                                      num(*fvu(*dominating)) + " against " + num(*fvu(*best)) + ", L0 " +
                                      num(*dominating->l0) + " against " + num(*best->l0) +
                                      ") yet separates worse (F1 " + num(*dominating->f1) +
                                      "): judged by reconstruction alone, the other SAE would have been chosen."});
    }
  }

  // Depth: one family (hook kind, architecture, width, sparsity) over layers.
  std::map<std::string, std::map<int, const EvaluationTableRow*>> by_family;
  for (const auto* r : scored)
    if (r->layer >= 0 && r->hook_kind == "resid_post") by_family[r->family][r->layer] = r;
  const std::map<int, const EvaluationTableRow*>* deepest = nullptr;
  for (const auto& [family, layers] : by_family)
    if (layers.size() >= 2 && (!deepest || layers.size() > deepest->size())) deepest = &layers;
  if (deepest) {
    const auto* first = deepest->begin()->second;
    const auto* last = deepest->rbegin()->second;
    const auto peak = std::max_element(deepest->begin(), deepest->end(),
                                       [](const auto& a, const auto& b) { return *a.second->f1 < *b.second->f1; });
    const double change = *last->f1 - *first->f1;
    std::string text = "Along the residual stream (" + first->architecture + " " + std::to_string(first->d_sae) +
                       (first->sparsity.empty() ? "" : " " + first->sparsity) + "), separation ";
    if (std::abs(change) < kFlat)
      text += "stays level from layer " + std::to_string(first->layer) + " to " + std::to_string(last->layer) +
              " (F1 " + num(*first->f1) + " and " + num(*last->f1) + ")";
    else
      text += std::string(change > 0 ? "rises" : "falls") + " with depth, F1 " + num(*first->f1) + " at layer " +
              std::to_string(first->layer) + " to " + num(*last->f1) + " at layer " + std::to_string(last->layer);
    if (peak->second != first && peak->second != last)
      text += ", and peaks at layer " + std::to_string(peak->first) + " (" + num(*peak->second->f1) + ")";
    out.push_back({"depth", text + "."});
  }

  // Attention against MLP outputs at a layer that has both.
  std::map<int, std::pair<const EvaluationTableRow*, const EvaluationTableRow*>> sublayers;
  for (const auto* r : scored) {
    if (r->hook_kind == "attn_out") sublayers[r->layer].first = r;
    if (r->hook_kind == "mlp_out") sublayers[r->layer].second = r;
  }
  for (const auto& [layer, pair] : sublayers) {
    if (!pair.first || !pair.second) continue;
    const double a = *pair.first->f1, m = *pair.second->f1;
    out.push_back({"attention vs MLP",
                   "At layer " + std::to_string(layer) + ", " +
                       (std::abs(a - m) < kFlat ? "attention and MLP outputs separate about equally (F1 " + num(a) + " and " + num(m) + ")"
                                                : std::string(a < m ? "the MLP output separates better than attention's"
                                                                    : "attention's output separates better than the MLP's") +
                                                      " (F1 " + num(m) + " against " + num(a) + " for attention)") +
                       "."});
    break;  // the first such layer: one sentence, not a table
  }

  if (auto f = size_finding(scored)) out.push_back(*f);
  return out;
}

}  // namespace saescope::store
