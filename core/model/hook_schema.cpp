#include "core/model/hook_schema.h"

#include <cstdlib>

#include "core/common/error.h"

namespace saescope::model {
namespace {

constexpr int kKinds = static_cast<int>(HookKind::Logits) + 1;

bool is_residual(HookKind k) {
  switch (k) {
    case HookKind::Embed: case HookKind::PosEmbed: case HookKind::ResidPre:
    case HookKind::AttnOut: case HookKind::ResidMid: case HookKind::MlpIn: case HookKind::MlpOut:
    case HookKind::ResidPost: return true;
    default: return false;
  }
}

int64_t width_of(HookKind k, const ModelInfo& m) {
  switch (k) {
    case HookKind::Q: case HookKind::Z: return m.n_head * m.d_head;
    case HookKind::K: case HookKind::V: return m.n_kv_head * m.d_head;
    case HookKind::Pattern: return 0;
    case HookKind::MlpPre: case HookKind::MlpPreLinear: case HookKind::MlpPost: return m.d_mlp;
    case HookKind::Logits: return m.vocab_size;
    default: return m.d_model;
  }
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

}  // namespace

HookSchema::HookSchema(const ModelInfo& info, const std::vector<HookKind>& kinds, HfModulePaths hf)
    : family_(info.family), n_layer_(info.n_layer), kind_present_(kKinds, false),
      kind_width_(kKinds, 0), hf_(std::move(hf)) {
  for (HookKind k : kinds) kind_present_[static_cast<size_t>(k)] = true;
  for (int k = 0; k < kKinds; ++k) kind_width_[static_cast<size_t>(k)] = width_of(static_cast<HookKind>(k), info);
  const auto add = [&](HookPoint p) {
    if (auto h = info_of(p)) hooks_.push_back(*h);
  };
  add({HookKind::Embed, -1});
  add({HookKind::PosEmbed, -1});
  for (int layer = 0; layer < n_layer_; ++layer)
    for (int k = static_cast<int>(HookKind::ResidPre); k <= static_cast<int>(HookKind::ResidPost); ++k)
      add({static_cast<HookKind>(k), layer});
  add({HookKind::LnFinalNormalized, -1});
  add({HookKind::LnFinalOut, -1});
  add({HookKind::Logits, -1});
}

bool HookSchema::has(HookKind kind) const { return kind_present_[static_cast<size_t>(kind)]; }

std::optional<HookInfo> HookSchema::info_of(HookPoint p) const {
  if (!has(p.kind) || p.layer >= n_layer_) return std::nullopt;
  HookInfo h;
  h.name = p.name();
  h.point = p;
  h.width = kind_width_[static_cast<size_t>(p.kind)];
  h.residual = is_residual(p.kind);
  return h;
}

std::vector<std::string> HookSchema::names() const {
  std::vector<std::string> out;
  out.reserve(hooks_.size());
  for (const HookInfo& h : hooks_) out.push_back(h.name);
  return out;
}

std::optional<HookPoint> HookSchema::from_module_path(const std::string& raw, bool* flatten) const {
  std::string name = raw;
  if (ends_with(name, ".output")) name.resize(name.size() - 7);
  for (const auto& [path, kind] : hf_.outside)
    if (name == path) return HookPoint{kind, -1};
  for (const std::string& prefix : hf_.layer_prefixes) {
    if (!starts_with(name, prefix + ".")) continue;
    const size_t begin = prefix.size() + 1;
    size_t end = begin;
    while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
    if (end == begin || end - begin > 5 || (end - begin > 1 && name[begin] == '0')) continue;
    const int layer = std::atoi(name.substr(begin, end - begin).c_str());
    std::string rest;
    if (end < name.size()) {
      if (name[end] != '.') continue;
      rest = name.substr(end + 1);
    }
    for (const auto& [suffix, kind] : hf_.in_layer)
      if (rest == suffix) {
        *flatten = per_head(kind);
        return HookPoint{kind, layer};
      }
  }
  return std::nullopt;
}

std::optional<HookInfo> HookSchema::find(const std::string& name) const {
  const ParsedHook parsed = parse_hook_name(name, n_layer_);
  if (parsed.ok) return info_of(parsed.point);
  bool flatten = false;
  const std::optional<HookPoint> p = from_module_path(name, &flatten);
  if (!p) return std::nullopt;
  std::optional<HookInfo> h = info_of(*p);
  if (h) h->flatten_heads = flatten;
  return h;
}

std::string HookSchema::describe() const {
  std::string outer_before, block, outer_after;
  for (const HookInfo& h : hooks_) {
    if (h.point.layer > 0) continue;
    const std::string n = h.point.in_block() ? h.name.substr(std::string("blocks.0.").size()) : h.name;
    std::string& into = h.point.in_block()               ? block
                        : h.point.kind <= HookKind::PosEmbed ? outer_before
                                                              : outer_after;
    into += (into.empty() ? "" : ", ") + n;
  }
  std::string s = outer_before + (outer_before.empty() ? "" : ", ") + "blocks.L.{" + block +
                  "} for L in 0.." + std::to_string(n_layer_ - 1) + ", " + outer_after;
  if (!hf_.layer_prefixes.empty()) {
    s += "; or Hugging Face module paths " + hf_.layer_prefixes.front() + ".L{";
    for (size_t i = 0; i < hf_.in_layer.size(); ++i)
      s += (i ? ", " : "") + (hf_.in_layer[i].first.empty() ? std::string("") : "." + hf_.in_layer[i].first);
    s += "}";
    for (const auto& [path, kind] : hf_.outside) s += ", " + path;
  }
  return s;
}

std::vector<std::string> common_hook_names(int64_t n_layer) {
  using K = HookKind;
  ModelInfo info;
  info.n_layer = n_layer;
  return HookSchema(info,
                    {K::Embed, K::ResidPre, K::Ln1Normalized, K::Ln1Out, K::Q, K::K, K::V, K::Pattern,
                     K::Z, K::AttnOut, K::MlpIn, K::Ln2Normalized, K::Ln2Out, K::MlpPre, K::MlpPost,
                     K::MlpOut, K::ResidPost, K::LnFinalNormalized, K::LnFinalOut, K::Logits},
                    {})
      .names();
}

int64_t HookSchema::per_token_width(const std::string& name) const {
  const HookInfo h = resolve(name);
  if (h.width <= 0)
    throw InputError(name + ": attention patterns hold no vector per token; choose another hook");
  return h.width;
}

HookInfo HookSchema::resolve(const std::string& name) const {
  if (std::optional<HookInfo> h = find(name)) return *h;
  const ParsedHook parsed = parse_hook_name(name, n_layer_);
  if (parsed.layer_out_of_range && has(parsed.point.kind))
    throw InputError("hook point '" + name + "': layer " + std::to_string(parsed.point.layer) +
                     " does not exist, the model has " + std::to_string(n_layer_) + " blocks (0.." +
                     std::to_string(n_layer_ - 1) + ")");
  const std::string what = parsed.ok || parsed.layer_out_of_range ? "is not a hook point of " + family_ + " models"
                                                                  : "is not a hook point of this " + family_ + " model";
  throw InputError("hook point '" + name + "' " + what + "; its hooks are " + describe());
}

}  // namespace saescope::model
