// `saescope-cli steer` and `saescope-cli ablate`: does a feature do what its
// examples say? steer continues a prompt with and without adding, clamping
// or ablating features at the SAE's hook (every position of prompt and
// continuation), and lists the next tokens most promoted and suppressed;
// ablate scores each next token of a text with and without the features.
// --workspace keeps the result (and lets --add-max read the harvest).
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/progress.h"
#include "core/store/workspace.h"
#include "core/workflows/engine_cache.h"
#include "core/workflows/steering_request.h"

namespace saescope::cli {
namespace {

using nlohmann::json;

struct SteerArgs {
  jobs::SteerRequest request;
  std::vector<int64_t> features;
  std::optional<double> add, add_max, clamp;
  bool ablate = false;
  std::string workspace;
  bool as_json = false;
};

std::vector<analysis::FeatureEdit> edits_from(const SteerArgs& a) {
  const int given = (a.add ? 1 : 0) + (a.add_max ? 1 : 0) + (a.clamp ? 1 : 0) + (a.ablate ? 1 : 0);
  if (given != 1) throw InputError("give exactly one of --add S, --add-max S, --clamp V, --ablate");
  std::vector<analysis::FeatureEdit> out;
  for (int64_t f : a.features) {
    if (a.add || a.add_max) out.push_back({f, analysis::FeatureEditKind::Add, a.add ? *a.add : *a.add_max});
    else if (a.clamp) out.push_back({f, analysis::FeatureEditKind::Clamp, *a.clamp});
    else out.push_back({f, analysis::FeatureEditKind::Ablate, 0.0});
  }
  return out;
}

void print_changes(const char* title, const json& changes) {
  std::cout << title << "\n";
  for (const json& c : changes)
    std::cout << "  " << std::setw(16) << std::left << json(c["token"].get<std::string>()).dump() << std::right
              << std::fixed << std::setprecision(3) << "  " << c["log_prob_before"].get<double>() << " -> "
              << c["log_prob_after"].get<double>() << "\n";
}

int run_steer(SteerArgs& a) {
  a.request.edits = edits_from(a);
  a.request.strength_in_max_units = a.add_max.has_value();
  std::unique_ptr<store::Workspace> ws;
  if (!a.workspace.empty()) ws = store::Workspace::open(a.workspace);
  jobs::EngineCache engines;
  jobs::ProgressSink progress(jobs::stderr_progress_line());
  const jobs::SteeringOutcome out = jobs::run_steer(a.request, ws.get(), engines, progress);
  const json& r = out.result;
  if (a.as_json) {
    json j = r;
    j["reused"] = out.reused;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "prompt    " << json(r["prompt"]["text"]).dump() << "\n"
            << "baseline  " << json(r["baseline"]["text"]).dump() << "\n"
            << "steered   " << json(r["steered"]["text"]).dump() << "\n"
            << "next token: KL(baseline || steered) = " << r["next_token"]["kl"].get<double>() << " nats\n";
  print_changes("most promoted (log-prob before -> after)", r["next_token"]["promoted"]);
  print_changes("most suppressed", r["next_token"]["suppressed"]);
  if (out.reused) std::cout << "(from the workspace)\n";
  return 0;
}

struct AblateArgs {
  jobs::AblateRequest request;
  std::string workspace;
  bool as_json = false;
};

int run_ablate(const AblateArgs& a) {
  std::unique_ptr<store::Workspace> ws;
  if (!a.workspace.empty()) ws = store::Workspace::open(a.workspace);
  jobs::EngineCache engines;
  const jobs::SteeringOutcome out = jobs::run_ablate(a.request, ws.get(), engines);
  if (a.as_json) {
    json j = out.result;
    j["reused"] = out.reused;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "token -> next token: log-prob with, without the feature(s), change\n";
  for (const json& t : out.result["tokens"]) {
    const double with = t["log_prob_with"], without = t["log_prob_without"];
    std::cout << "  " << std::setw(14) << std::left << json(t["token"].get<std::string>()).dump() << " -> "
              << std::setw(14) << json(t["next_token"].get<std::string>()).dump() << std::right << std::fixed
              << std::setprecision(3) << std::setw(9) << with << std::setw(9) << without << std::showpos
              << std::setw(9) << without - with << std::noshowpos << "\n";
  }
  std::cout << "sum of changes " << out.result["total_change"].get<double>() << "\n";
  return 0;
}

void add_common(CLI::App* sub, std::string& model, std::string& sae, std::string& device, std::string& workspace,
                bool& as_json) {
  sub->add_option("--model", model, "Model folder (config.json, weights, tokenizer)")->check(non_empty_path())->required();
  sub->add_option("--sae", sae, "SAE: a folder or file in any layout sae-info reads")->check(non_empty_path())->required();
  sub->add_option("--device", device, "cpu (default) or cuda");
  sub->add_option("--workspace", workspace, "Workspace file (.saescope) to keep the result in")->check(non_empty_path());
  sub->add_flag("--json", as_json, "Print the result as JSON");
}

const bool steer_registered = register_command(
    "steer", "Continue a prompt with and without adding, clamping or ablating SAE features", [](CLI::App* sub) {
      auto a = std::make_shared<SteerArgs>();
      jobs::SteerRequest& r = a->request;
      add_common(sub, r.model_dir, r.sae_path, r.device, a->workspace, a->as_json);
      sub->add_option("--feature", a->features, "Feature id (repeat for several, edited alike)")->required();
      sub->add_option("--add", a->add, "Add S·W_dec[f] at the SAE's hook (S in raw units)");
      sub->add_option("--add-max", a->add_max,
                      "Add S times the feature's largest harvested activation (needs --workspace with its harvest)");
      sub->add_option("--clamp", a->clamp, "Set the feature to V (its SAE error kept, so only it changes)");
      sub->add_flag("--ablate", a->ablate, "Set the feature to 0");
      sub->add_option("--prompt", r.prompt, "Text to continue")->required();
      sub->add_option("--tokens", r.options.max_new_tokens, "Tokens to generate (default 32)");
      sub->add_option("--temperature", r.options.sampling.temperature, "0 (default): greedy");
      sub->add_option("--top-k", r.options.sampling.top_k, "Sample among the k most likely (0: all)");
      sub->add_option("--top-p", r.options.sampling.top_p, "Sample among the most likely of mass p (1: all)");
      sub->add_option("--seed", r.options.sampling.seed, "Sampling seed (the same for both continuations)");
      sub->add_option("--from-position", r.options.from_position,
                      "First position edited (0, the default: the whole prompt and continuation)");
      sub->add_option("--top", r.options.top_n, "Promoted and suppressed next tokens listed (default 10)");
      return [a] { return run_steer(*a); };
    });

const bool ablate_registered = register_command(
    "ablate", "Each next token's log-prob in a text with and without SAE features", [](CLI::App* sub) {
      auto a = std::make_shared<AblateArgs>();
      jobs::AblateRequest& r = a->request;
      add_common(sub, r.model_dir, r.sae_path, r.device, a->workspace, a->as_json);
      sub->add_option("--feature", r.features, "Feature id (repeat to ablate several together)")->required();
      sub->add_option("--text", r.text, "Text to score")->required();
      return [a] { return run_ablate(*a); };
    });

}  // namespace
}  // namespace saescope::cli
