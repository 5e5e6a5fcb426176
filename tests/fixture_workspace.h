#pragma once
// A small workspace built directly through the store, for GUI tests that need
// results without running a model: one model, two SAEs, a finished harvest.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/store/evaluation_store.h"
#include "core/store/feature_store.h"
#include "core/store/workspace.h"

namespace fixture {

struct BuiltWorkspace {
  std::string path;
  int64_t model_id = 0, sae_id = 0, other_sae_id = 0, harvest_id = 0, pseval_id = 0;
  int features = 0;
  static constexpr int evaluated_saes = 5;
};

inline BuiltWorkspace build_workspace(const std::string& dir, int n_features = 300) {
  namespace fs = std::filesystem;
  using namespace saescope::store;
  fs::remove_all(dir);
  fs::create_directories(dir + "/model");
  fs::create_directories(dir + "/sae_a");
  fs::create_directories(dir + "/sae_b");
  std::ofstream(dir + "/model/config.json") << R"({"model_type":"gpt2","n_layer":4,"n_embd":64})";
  std::ofstream(dir + "/sae_a/cfg.json") << R"({"architecture":"topk","k":8})";
  std::ofstream(dir + "/sae_b/cfg.json") << R"({"architecture":"standard"})";
  BuiltWorkspace out;
  out.path = dir + "/fixture.saescope";
  out.features = n_features;
  auto ws = Workspace::open(out.path);
  out.model_id = ws->register_input(InputKind::Model, dir + "/model",
                                    {{"n_layer", 4}, {"n_embd", 64}, {"model_type", "gpt2"}});
  out.sae_id = ws->register_input(InputKind::Sae, dir + "/sae_a",
                                  {{"hook_name", "blocks.2.hook_resid_post"},
                                   {"architecture", "topk"}, {"k", 8}, {"d_sae", n_features}});
  out.other_sae_id = ws->register_input(InputKind::Sae, dir + "/sae_b",
                                        {{"hook_name", "blocks.3.hook_resid_post"},
                                         {"architecture", "standard"}, {"d_sae", 256}});
  const nlohmann::json params = {{"tokens", 4096}, {"top_k", 20}, {"context", 16}};
  out.harvest_id = ws->begin_result("fixture-harvest", "harvest", out.model_id, out.sae_id,
                                    std::nullopt, params);
  FeatureStore store(ws->db());
  Transaction tx(ws->db());
  const std::vector<std::string> words = {" the", " river", " bank", " money", " spring",
                                          " water", " flows", " loan", ".", "\n", " a", " of"};
  store.put_vocab(out.model_id, words);
  std::mt19937 rng(7);
  for (int w = 0; w < 64; ++w) {
    std::vector<int32_t> tokens(16);
    for (auto& t : tokens) t = static_cast<int32_t>(rng() % words.size());
    store.put_window(out.harvest_id, w, tokens);
  }
  for (int f = 0; f < n_features; ++f) {
    const bool dead = f % 10 == 9;
    const double max_act = dead ? 0.0 : 1.0 + (f % 7);
    store.put_feature(out.harvest_id,
                      {f, dead ? 0 : 10 + f, dead ? 0.0 : (10.0 + f) / 4096.0, max_act,
                       max_act / 3, dead ? "" : words[static_cast<size_t>(f) % words.size()]},
                      dead ? Histogram{} : Histogram{{0.01f, 0.1f, 1.0f, 10.0f}, {5, 20, 7}});
    if (dead) continue;
    for (int r = 0; r < 5; ++r) {
      FeatureExample e;
      e.rank = r;
      e.window = (f + r) % 64;
      e.activations.assign(16, 0.0f);
      e.max_pos = (f + 3 * r) % 16;
      e.activations[static_cast<size_t>(e.max_pos)] = static_cast<float>(max_act - 0.1 * r);
      e.activations[static_cast<size_t>((e.max_pos + 1) % 16)] = static_cast<float>(max_act / 2);
      store.put_example(out.harvest_id, f, e);
    }
    for (int i = 0; i < 3; ++i) {
      FeatureExample e;
      e.kind = ExampleKind::Interval;
      e.interval = i;
      e.window = (f * 3 + i) % 64;
      e.activations.assign(16, 0.0f);
      e.max_pos = i;
      e.activations[static_cast<size_t>(i)] = static_cast<float>(max_act * (i + 0.5) / 10);
      store.put_example(out.harvest_id, f, e);
      store.put_interval(out.harvest_id, f,
                         {i, static_cast<float>(max_act * i / 10),
                          static_cast<float>(max_act * (i + 1) / 10), 0.3f});
    }
    for (int r = 0; r < 4; ++r) {
      store.put_logit_effect(out.harvest_id, f, {1, r, (f + r) % 12, 2.0f - 0.3f * r, {}});
      store.put_logit_effect(out.harvest_id, f, {-1, r, (f + 5 + r) % 12, -1.5f + 0.2f * r, {}});
    }
  }
  tx.commit();
  ws->finish_result(out.harvest_id, {{"tokens", 4096}});

  // Evaluations: a family of topk SAEs at four layers plus the standard one.
  fs::create_directories(dir + "/wic");
  std::ofstream(dir + "/wic/pairs.jsonl") << "{}\n";
  const int64_t dataset = ws->register_input(InputKind::Dataset, dir + "/wic/pairs.jsonl");
  std::vector<int64_t> evaluated = {out.sae_id, out.other_sae_id};
  for (int layer : {0, 1, 3}) {
    const std::string sae_dir = dir + "/sae_topk_l" + std::to_string(layer);
    fs::create_directories(sae_dir);
    std::ofstream(sae_dir + "/cfg.json") << "{\"layer\":" << layer << "}";
    evaluated.push_back(ws->register_input(
        InputKind::Sae, sae_dir,
        {{"hook_name", "blocks." + std::to_string(layer) + ".hook_resid_post"},
         {"architecture", "topk"}, {"k", 8}, {"d_sae", n_features}}));
  }
  for (size_t i = 0; i < evaluated.size(); ++i) {
    const double x = static_cast<double>(i);
    const std::string tag = std::to_string(evaluated[i]);
    const int64_t r = ws->begin_result("recon-" + tag, "reconstruction", out.model_id,
                                       evaluated[i], std::nullopt, nlohmann::json::object());
    ws->finish_result(r, {{"mse", 2.0 - 0.3 * x}, {"l0", 8.0 + 4 * x},
                          {"explained_variance", 0.7 + 0.05 * x}, {"ce_loss_recovered", 0.8}});
    const int64_t p = ws->begin_result("pseval-" + tag, "pseval", out.model_id, evaluated[i],
                                       dataset, nlohmann::json::object());
    ws->finish_result(p, {{"accuracy", 0.5 + 0.04 * x}, {"precision", 0.55}, {"recall", 0.6},
                          {"specificity", 0.45}, {"f1", 0.3 + 0.1 * x}});
    if (i == 0) out.pseval_id = p;
  }
  // Sense-labelled occurrences of "bank" (2 senses) and "spring" (3 senses) for
  // the first SAE: feature 7 fires for the river sense, 12 for the money sense,
  // except one money occurrence that lands on 7; one unlabelled occurrence.
  EvaluationStore ev(ws->db());
  Transaction etx(ws->db());
  ev.put_sense(out.pseval_id, {"bank", "09213565-n", "sloping land beside a body of water"});
  ev.put_sense(out.pseval_id, {"bank", "08420278-n", "a financial institution"});
  int64_t n = 0;
  for (int k = 0; k < 4; ++k)
    ev.put_occurrence(out.pseval_id, {n++, "bank", "09213565-n", "they fished from the bank of the river",
                                      21, 25, 7, 3.0, -1.0 - 0.1 * k, 0.2 * k});
  for (int k = 0; k < 4; ++k)
    ev.put_occurrence(out.pseval_id, {n++, "bank", "08420278-n", "the bank raised its rates",
                                      4, 8, k == 3 ? 7 : 12, 2.5, 1.0 + 0.1 * k, 0.1 * k});
  ev.put_occurrence(out.pseval_id, {n++, "bank", "", "she walked to the bank", 18, 22, 12, 1.5, 0.9, 0.0});
  ev.put_word_score(out.pseval_id, {"bank", 8, 0.875, 0.55});
  ev.put_word_confusion(out.pseval_id, {"bank", 3, 1, 2, 1});
  const char* spring_senses[] = {"15237044-n", "09429387-n", "04273569-n"};
  for (int k = 0; k < 6; ++k)
    ev.put_occurrence(out.pseval_id, {n++, "spring", spring_senses[k % 3], "in spring the river rises",
                                      3, 9, 20 + k % 3, 1.0, double(k % 3), double(k)});
  etx.commit();
  return out;
}

}  // namespace fixture
