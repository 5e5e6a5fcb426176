// `saescope-cli feature` (one feature's dashboard) and `saescope-cli features`
// (all features of a harvest, sorted): read what `harvest` wrote.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"

namespace saescope::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace);  // token bytes may split a character
}

// Both commands only read: the workspace is opened so that nothing is written.
std::unique_ptr<store::Workspace> open_existing(const std::string& path) {
  if (!fs::exists(path)) throw InputError(path + ": no such workspace file");
  return store::Workspace::open(path, store::IntegrityCheck::Full, store::Access::ReadOnly);
}

// The latest finished harvest of an SAE given as an input id or a folder
// (matched by path and current content, so an edited SAE has none).
store::ResultRecord find_harvest(store::Workspace& ws, const std::string& sae) {
  std::optional<store::InputRecord> input;
  // Eighteen digits at most, so std::stoll cannot overflow; longer is no id.
  const bool is_id = !sae.empty() && sae.size() <= 18 && std::all_of(sae.begin(), sae.end(), ::isdigit);
  if (is_id) {
    input = ws.input(std::stoll(sae));
    if (!input || input->kind != store::InputKind::Sae)
      throw InputError(ws.path() + ": no SAE with input id " + sae + " (see `saescope-cli workspace info`)");
  } else {
    const std::string abs = fs::absolute(sae).lexically_normal().string();
    const std::string hash = ws.content_hash(sae);
    for (const auto& in : ws.inputs(store::InputKind::Sae))
      if (in.path == abs && in.content_hash == hash) input = in;
    if (!input)
      throw InputError(ws.path() + ": no harvest of " + sae +
                       " as it is now (run `saescope-cli harvest` for it; an edited SAE needs a new harvest)");
  }
  std::optional<store::ResultRecord> done, running;
  for (const auto& r : ws.results("harvest")) {
    if (r.sae_id != input->id) continue;
    (r.done ? done : running) = r;
  }
  if (done) return *done;
  if (running)
    throw InputError(ws.path() + ": the harvest of " + input->path + " (result " + std::to_string(running->id) +
                     ") is not finished; run the same `saescope-cli harvest` again to resume it");
  throw InputError(ws.path() + ": " + input->path + " has no harvest yet");
}

json example_json(store::FeatureStore& fs, const store::FeatureExample& e, std::optional<int64_t> model_id) {
  json tokens = json::array();
  for (int32_t t : e.tokens) tokens.push_back(model_id ? fs.token_text(*model_id, t) : std::to_string(t));
  json j = {{"rank", e.rank}, {"window", e.window}, {"max_pos", e.max_pos}, {"tokens", tokens},
            {"token_ids", e.tokens}, {"activations", e.activations}};
  if (e.kind == store::ExampleKind::Interval) j["interval"] = e.interval;
  j["activation"] = e.max_pos < static_cast<int>(e.activations.size()) ? e.activations[e.max_pos] : 0.0f;
  return j;
}

struct FeatureArgs {
  std::string workspace, sae;
  int64_t id = 0;
  bool as_json = false;
};

int print_feature(store::Workspace& ws, const FeatureArgs& a) {
  const store::ResultRecord h = find_harvest(ws, a.sae);
  store::FeatureStore fs(ws.db());
  const auto page = fs.page(h.id, a.id, h.model_id);
  if (!page) {
    const auto n = h.metrics.value("features", int64_t(0));
    throw InputError("feature " + std::to_string(a.id) + ": harvest " + std::to_string(h.id) +
                     " has features 0.." + std::to_string(n - 1));
  }
  const auto& s = page->summary;
  json intervals = json::array(), top = json::array(), samples = json::array(), pos = json::array(),
       neg = json::array();
  for (const auto& i : page->intervals)
    intervals.push_back({{"interval", i.interval}, {"lo", i.lo}, {"hi", i.hi}, {"fraction", i.fraction}});
  for (const auto& e : page->top) top.push_back(example_json(fs, e, h.model_id));
  for (const auto& e : page->interval_samples) samples.push_back(example_json(fs, e, h.model_id));
  for (const auto& l : page->logit_effects)
    (l.sign > 0 ? pos : neg).push_back({{"token", l.token}, {"token_id", l.token_id}, {"value", l.value}});
  const std::string sae_path = ws.input(*h.sae_id)->path;
  const auto note = ws.note(ws.input(*h.sae_id)->content_hash, a.id);
  json j = {{"result_id", h.id},
            {"sae", sae_path},
            {"hook", h.params.value("hook", std::string())},
            {"feature", s.feature},
            {"dead", s.fire_count == 0},
            {"fire_count", s.fire_count},
            {"density", s.density},
            {"max_act", s.max_act},
            {"mean_act", s.mean_act},
            {"top_tokens", s.top_tokens},
            {"label", note ? note->first : std::string()},
            {"histogram", {{"edges", page->histogram.edges}, {"counts", page->histogram.counts}}},
            {"intervals", intervals},
            {"top_examples", top},
            {"interval_examples", samples},
            {"logit_effects", {{"positive", pos}, {"negative", neg}}}};
  if (a.as_json) {
    std::cout << dump(j) << "\n";
    return 0;
  }
  std::cout << "feature " << s.feature << " of " << sae_path << " (harvest " << h.id << ")"
            << (s.fire_count == 0 ? "  DEAD: never fired" : "") << "\n"
            << "density " << s.density << "  max " << s.max_act << "  mean " << s.mean_act
            << "  fires on: " << s.top_tokens << "\n";
  for (const auto& e : page->top) {
    std::cout << std::setw(3) << e.rank << "  " << std::setw(8) << std::setprecision(4)
              << (e.max_pos < static_cast<int>(e.activations.size()) ? e.activations[e.max_pos] : 0.0f) << "  ";
    const int from = std::max(0, e.max_pos - 8), to = std::min<int>(e.tokens.size(), e.max_pos + 4);
    for (int p = from; p < to; ++p) {
      std::string t = h.model_id ? fs.token_text(*h.model_id, e.tokens[p]) : std::to_string(e.tokens[p]);
      std::replace(t.begin(), t.end(), '\n', ' ');
      std::cout << (p == e.max_pos ? "[[" + t + "]]" : t);
    }
    std::cout << "\n";
  }
  std::cout << "promotes:";
  for (const auto& l : page->logit_effects) if (l.sign > 0) std::cout << " '" << l.token << "'";
  std::cout << "\nsuppresses:";
  for (const auto& l : page->logit_effects) if (l.sign < 0) std::cout << " '" << l.token << "'";
  std::cout << "\n";
  return 0;
}

int run_feature(const FeatureArgs& a) {
  auto ws = open_existing(a.workspace);
  return store::reading_stored_json(*ws, [&] { return print_feature(*ws, a); });
}

struct FeaturesArgs {
  std::string workspace, sae, sort = "id";
  int64_t limit = -1;
  bool ascending = false, as_json = false;
};

int print_features(store::Workspace& ws, const FeaturesArgs& a, store::FeatureSort sort) {
  const store::ResultRecord h = find_harvest(ws, a.sae);
  store::FeatureStore fs(ws.db());
  const bool descending = sort != store::FeatureSort::Id && !a.ascending;
  const auto all = fs.list(h.id, sort, descending, a.limit);
  if (a.as_json) {
    json rows = json::array();
    for (const auto& f : all)
      rows.push_back({{"feature", f.feature}, {"fire_count", f.fire_count}, {"density", f.density},
                      {"max_act", f.max_act}, {"mean_act", f.mean_act}, {"top_tokens", f.top_tokens},
                      {"dead", f.fire_count == 0}});
    std::cout << dump({{"result_id", h.id}, {"sae", ws.input(*h.sae_id)->path},
                       {"features_total", h.metrics.value("features", int64_t(0))},
                       {"dead", h.metrics.value("dead", int64_t(0))}, {"sort", a.sort}, {"features", rows}})
              << "\n";
    return 0;
  }
  std::cout << "feature  density     max        mean       top tokens\n";
  for (const auto& f : all)
    std::cout << std::left << std::setw(8) << f.feature << " " << std::setw(11) << f.density << " "
              << std::setw(10) << f.max_act << " " << std::setw(10) << f.mean_act << " "
              << (f.fire_count == 0 ? "(dead)" : f.top_tokens) << "\n";
  return 0;
}

int run_features(const FeaturesArgs& a) {
  store::FeatureSort sort = store::FeatureSort::Id;
  if (a.sort == "density") sort = store::FeatureSort::Density;
  else if (a.sort == "max") sort = store::FeatureSort::MaxActivation;
  else if (a.sort != "id") throw InputError("--sort " + a.sort + ": use density, max or id");
  auto ws = open_existing(a.workspace);
  return store::reading_stored_json(*ws, [&] { return print_features(*ws, a, sort); });
}

const bool registered_feature = register_command(
    "feature", "One feature's dashboard from a harvest: stats, examples, logit effects",
    [](CLI::App* sub) {
      auto a = std::make_shared<FeatureArgs>();
      sub->add_option("--workspace", a->workspace, "Workspace file")->check(non_empty_path())->required();
      sub->add_option("--sae", a->sae, "SAE folder or its input id")->check(non_empty_path())->required();
      sub->add_option("--id", a->id, "Feature index")->required();
      sub->add_flag("--json", a->as_json, "Print as JSON");
      return [a] { return run_feature(*a); };
    });

const bool registered_features = register_command(
    "features", "All features of a harvest: density, max, mean, top tokens", [](CLI::App* sub) {
      auto a = std::make_shared<FeaturesArgs>();
      sub->add_option("--workspace", a->workspace, "Workspace file")->check(non_empty_path())->required();
      sub->add_option("--sae", a->sae, "SAE folder or its input id")->check(non_empty_path())->required();
      sub->add_option("--sort", a->sort, "density, max or id (density and max: largest first)")
          ->capture_default_str();
      sub->add_option("--limit", a->limit, "Print at most N features");
      sub->add_flag("--ascending", a->ascending, "Smallest first");
      sub->add_flag("--json", a->as_json, "Print as JSON");
      return [a] { return run_features(*a); };
    });

}  // namespace
}  // namespace saescope::cli
