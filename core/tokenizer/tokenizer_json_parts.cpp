#include "core/tokenizer/tokenizer_json_parts.h"

#include <nlohmann/json.hpp>

#include "core/common/error.h"

namespace saescope::tokenizer {

using nlohmann::json;

std::string type_name(const json& j) {
  if (!j.is_object() || !j.contains("type")) return "(missing)";
  return j["type"].is_string() ? j["type"].get<std::string>() : j["type"].dump();
}

namespace {

[[noreturn]] void unsupported(const std::string& where, const std::string& type,
                              const char* supported) {
  throw InputError(where + ": type \"" + type + "\" is not supported (supported: " + supported +
                   ")");
}

// {"String": "..."} or {"Regex": "..."}.
TextPattern read_pattern(const json& j, const std::string& where) {
  if (j.is_object() && j.contains("String") && j["String"].is_string())
    return {j["String"].get<std::string>(), false};
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string())
    return {j["Regex"].get<std::string>(), true};
  throw InputError(where + ": pattern must be {\"String\": ...} or {\"Regex\": ...}, got " + j.dump());
}

SplitBehavior read_behavior(const json& j, const std::string& where) {
  const std::string b = j.is_string() ? j.get<std::string>() : j.dump();
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  throw InputError(where + ": behavior \"" + b +
                   "\" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, "
                   "Contiguous");
}

PreTokenizerStep regex_split(const std::string& regex, SplitBehavior behavior, bool invert) {
  PreTokenizerStep s;
  s.kind = PreTokenizerStep::Kind::Split;
  s.pattern = {regex, true};
  s.behavior = behavior;
  s.invert = invert;
  return s;
}

PreTokenizerStep::Prepend read_prepend_scheme(const json& j, const std::string& where) {
  using P = PreTokenizerStep::Prepend;
  if (j.contains("prepend_scheme")) {
    const std::string s = j["prepend_scheme"].get<std::string>();
    if (s == "always") return P::Always;
    if (s == "first") return P::First;
    if (s == "never") return P::Never;
    throw InputError(where + ": prepend_scheme \"" + s + "\" is not always, first or never");
  }
  return j.value("add_prefix_space", true) ? P::Always : P::Never;  // older files
}

// A Sequence's parts, each read by `read` and flattened in order.
template <class Step>
std::vector<Step> read_sequence(const json& parts, const std::string& where,
                                std::vector<Step> (*read)(const json&, const std::string&)) {
  std::vector<Step> steps;
  for (const json& part : parts) {
    std::vector<Step> more = read(part, where);
    steps.insert(steps.end(), more.begin(), more.end());
  }
  return steps;
}

std::string string_field(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string())
    throw InputError(where + ": \"" + key + "\" is missing or not a string");
  return j[key].get<std::string>();
}

}  // namespace

std::vector<NormalizerStep> read_normalizer(const json& j, const std::string& where) {
  using Kind = NormalizerStep::Kind;
  if (j.is_null()) return {};
  const std::string type = type_name(j);
  if (type == "Sequence") return read_sequence(j.at("normalizers"), where, read_normalizer);
  NormalizerStep s;
  if (type == "NFC") s.kind = Kind::NFC;
  else if (type == "NFD") s.kind = Kind::NFD;
  else if (type == "NFKC") s.kind = Kind::NFKC;
  else if (type == "NFKD") s.kind = Kind::NFKD;
  else if (type == "Lowercase") s.kind = Kind::Lowercase;
  else if (type == "Replace") {
    s.kind = Kind::Replace;
    s.pattern = read_pattern(j.at("pattern"), where + " Replace");
    s.content = string_field(j, "content", where + " Replace");
  } else if (type == "Prepend") {
    s.kind = Kind::Prepend;
    s.content = string_field(j, "prepend", where + " Prepend");
  } else if (type == "Strip") {
    s.kind = Kind::Strip;
    s.strip_left = j.value("strip_left", true);
    s.strip_right = j.value("strip_right", true);
  } else {
    unsupported(where, type, "NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip, Sequence");
  }
  return {s};
}

std::vector<PreTokenizerStep> read_pre_tokenizer(const json& j, const std::string& where) {
  using Kind = PreTokenizerStep::Kind;
  if (j.is_null()) return {};
  const std::string type = type_name(j);
  if (type == "Sequence") return read_sequence(j.at("pretokenizers"), where, read_pre_tokenizer);
  PreTokenizerStep s;
  if (type == "Split") {
    s.kind = Kind::Split;
    s.pattern = read_pattern(j.at("pattern"), where + " Split");
    s.behavior = read_behavior(j.at("behavior"), where + " Split");
    s.invert = j.value("invert", false);
  } else if (type == "ByteLevel") {
    s.kind = Kind::ByteLevel;
    s.add_prefix_space = j.value("add_prefix_space", true);
    s.use_regex = j.value("use_regex", true);
  } else if (type == "Metaspace") {
    s.kind = Kind::Metaspace;
    s.replacement = j.value("replacement", s.replacement);
    s.prepend = read_prepend_scheme(j, where + " Metaspace");
    s.split = j.value("split", true);
  } else if (type == "Digits") {
    return {regex_split(j.value("individual_digits", false) ? "\\p{N}" : "\\p{N}+",
                        SplitBehavior::Isolated, false)};
  } else if (type == "Whitespace") {  // keeps \w+ and [^\w\s]+, drops the rest
    return {regex_split("\\w+|[^\\w\\s]+", SplitBehavior::Removed, true)};
  } else if (type == "WhitespaceSplit") {
    return {regex_split("\\s+", SplitBehavior::Removed, false)};
  } else if (type == "Punctuation") {
    return {regex_split("[\\p{P}\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}]",
                        read_behavior(j.value("behavior", json("Isolated")), where), false)};
  } else {
    unsupported(where, type,
                "Split, ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit, Punctuation, "
                "Sequence");
  }
  return {s};
}

DecoderSpec read_decoder(const json& j, const std::string& where) {
  using Kind = DecoderSpec::Step::Kind;
  DecoderSpec d;
  if (j.is_null()) return d;
  const std::string type = type_name(j);
  if (type == "Sequence") {
    for (const json& part : j.at("decoders")) {
      const DecoderSpec more = read_decoder(part, where);
      d.steps.insert(d.steps.end(), more.steps.begin(), more.steps.end());
      if (!more.strip_content.empty()) {
        d.strip_content = more.strip_content;
        d.strip_start = more.strip_start;
      }
    }
  } else if (type == "ByteLevel") {
    d.steps.push_back({Kind::ByteLevel, "", ""});
  } else if (type == "Replace") {
    const TextPattern p = read_pattern(j.at("pattern"), where + " Replace");
    if (p.regex) throw InputError(where + ": a Replace decoder with a regex is not supported");
    d.steps.push_back({Kind::Replace, p.text, string_field(j, "content", where + " Replace")});
  } else if (type == "ByteFallback") {
    d.steps.push_back({Kind::ByteFallback, "", ""});
  } else if (type == "Fuse") {
    // Tokens are always joined; nothing to do.
  } else if (type == "Strip") {
    d.strip_content = string_field(j, "content", where + " Strip");
    d.strip_start = j.value("start", 0);
    if (j.value("stop", 0) != 0)
      throw InputError(where + ": a Strip decoder with stop > 0 is not supported");
  } else if (type == "Metaspace") {
    const std::string replacement = j.value("replacement", std::string("\xE2\x96\x81"));
    d.steps.push_back({Kind::Replace, replacement, " "});
    if (read_prepend_scheme(j, where) != PreTokenizerStep::Prepend::Never) {
      d.strip_content = " ";
      d.strip_start = 1;
    }
  } else {
    unsupported(where, type, "ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence");
  }
  return d;
}

namespace {

TokenId id_of(const std::string& content, const BpeVocabulary& vocab, const std::string& where) {
  const auto it = vocab.id_by_raw.find(content);
  if (it == vocab.id_by_raw.end())
    throw InputError(where + ": token \"" + content + "\" is not in the vocabulary");
  return it->second;
}

void read_template(const json& j, const std::string& where, const BpeVocabulary& vocab,
                   TokenizerSpec& spec) {
  bool seen_sequence = false;
  const json& specials = j.value("special_tokens", json::object());
  for (const json& item : j.at("single")) {
    if (item.contains("Sequence")) {
      seen_sequence = true;
      continue;
    }
    const std::string name = item.at("SpecialToken").at("id").get<std::string>();
    std::vector<TokenId> ids;
    if (specials.contains(name) && specials[name].contains("ids"))
      ids = specials[name]["ids"].get<std::vector<TokenId>>();
    else
      ids = {id_of(name, vocab, where)};
    auto& side = seen_sequence ? spec.special_suffix : spec.special_prefix;
    side.insert(side.end(), ids.begin(), ids.end());
  }
}

}  // namespace

void read_post_processor(const json& j, const std::string& where, const BpeVocabulary& vocab,
                         TokenizerSpec& spec) {
  if (j.is_null()) return;
  const std::string type = type_name(j);
  if (type == "Sequence") {
    for (const json& p : j.at("processors")) read_post_processor(p, where, vocab, spec);
  } else if (type == "TemplateProcessing") {
    read_template(j, where, vocab, spec);
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    spec.special_prefix.push_back(j.at("cls").at(1).get<TokenId>());
    spec.special_suffix.push_back(j.at("sep").at(1).get<TokenId>());
  } else if (type != "ByteLevel") {  // ByteLevel only trims offsets
    unsupported(where, type,
                "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence");
  }
}

void read_tokenizer_config(const json& j, const std::string& where, TokenizerSpec& spec) {
  if (!j.is_object()) throw InputError(where + ": expected a JSON object");
  // bos_token / eos_token: a string, or an object with "content" (older files).
  const auto token_id = [&](const char* key) -> TokenId {
    if (!j.contains(key) || j[key].is_null()) return -1;
    const json& t = j[key];
    const std::string content = t.is_string() ? t.get<std::string>() : t.at("content").get<std::string>();
    return id_of(content, spec.vocab, where + " " + key);
  };
  spec.eos_id = token_id("eos_token");
  const auto toggle = [&](const char* flag, const char* key, std::vector<TokenId>& side) {
    if (!j.contains(flag) || !j[flag].is_boolean()) return;
    const TokenId id = token_id(key);
    side.clear();
    if (j[flag].get<bool>() && id >= 0) side.push_back(id);
  };
  toggle("add_bos_token", "bos_token", spec.special_prefix);
  toggle("add_eos_token", "eos_token", spec.special_suffix);
}

}  // namespace saescope::tokenizer
