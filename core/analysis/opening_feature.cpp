#include "core/analysis/opening_feature.h"

#include <cctype>
#include <cstdlib>
#include <set>

#include "core/model/hook_point.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"

namespace saescope::analysis {
namespace {

// The telling feature of a harvest (see the header), or -1.
int64_t telling_feature(store::Workspace& ws, int64_t result_id) {
  store::FeatureStore features(ws.db());
  int64_t in_band = -1, strongest_firing = -1;  // the fallbacks, in order
  for (const auto& f : features.list(result_id, store::FeatureSort::MaxActivation, true)) {
    if (f.density >= 0.001 && f.density <= 0.05) {
      if (top_tokens_are_words(f.top_tokens)) return f.feature;
      if (in_band < 0) in_band = f.feature;
    }
    if (strongest_firing < 0 && f.fire_count > 0) strongest_firing = f.feature;
  }
  return in_band >= 0 ? in_band : strongest_firing;
}

}  // namespace

OpeningSelection opening_selection(store::Workspace& ws) {
  OpeningSelection pick;
  std::map<int64_t, int64_t> harvest_of;  // SAE id -> its newest finished harvest
  for (const auto& r : ws.results("harvest"))
    if (r.done && r.sae_id) harvest_of[*r.sae_id] = r.id;
  if (harvest_of.empty()) return pick;
  int n_layer = 0;
  for (const auto& m : ws.inputs(store::InputKind::Model)) n_layer = static_cast<int>(m.config.value("n_layer", 0LL));
  const std::string middle = model::middle_residual_hook(n_layer);
  long long best_width = -1, best_distance = 0;
  for (const auto& s : ws.inputs(store::InputKind::Sae)) {
    if (!harvest_of.count(s.id)) continue;
    const auto& c = s.config;
    const std::string hook = c.value("hook_name", std::string());
    if (pick.sae_id < 0) pick = {s.id, -1, hook};  // any harvested SAE, failing the middle layer's
    if (hook != middle) continue;
    const long long width = c.value("d_sae", 0LL);
    const long long distance = c.contains("k") && c["k"].is_number() ? std::llabs(c["k"].get<long long>() - 32) : 1000000;
    if (pick.hook != middle || width > best_width || (width == best_width && distance < best_distance)) {
      best_width = width;
      best_distance = distance;
      pick = {s.id, -1, hook};
    }
  }
  pick.feature = telling_feature(ws, harvest_of.at(pick.sae_id));
  return pick;
}

bool top_tokens_are_words(const std::string& top_tokens) {
  static const std::string kSep = " · ";  // as harvest_finish's top_tokens_text joins them
  int words = 0;
  for (size_t start = 0; start <= top_tokens.size();) {
    size_t end = top_tokens.find(kSep, start);
    if (end == std::string::npos) end = top_tokens.size();
    const std::string t = top_tokens.substr(start, end - start);
    if (t.size() < 3 || t[0] != ' ') return false;
    for (size_t i = 1; i < t.size(); ++i)
      if (!std::isalpha(static_cast<unsigned char>(t[i]))) return false;
    ++words;
    start = end + kSep.size();
  }
  return words == 3;
}

}  // namespace saescope::analysis
