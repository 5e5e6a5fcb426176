#include "core/tokenizer/tokenizer_files.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/common/error.h"
#include "core/common/file_bytes.h"
#include "core/common/json_file.h"
#include "core/tokenizer/tokenizer_json_parts.h"

namespace saescope::tokenizer {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Fills raw_by_id / id_by_raw from a {"token": id, ...} object.
void read_vocab_object(const json& vocab, const std::string& where, BpeVocabulary& v) {
  if (!vocab.is_object()) throw InputError(where + ": expected a JSON object of token -> id");
  // Far above any released vocabulary (the largest has 262,144 ids); the per-id tables
  // are sized by the largest id, so a 14-byte {"a": 9999999} cost 1.3 GB
  // under the old cap of 10 M (fuzz_vocab_merges).
  constexpr std::int64_t kMaxId = std::int64_t(1) << 21;
  for (const auto& [token, value] : vocab.items()) {
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
        value.get<std::int64_t>() >= kMaxId)
      throw InputError(where + ": token \"" + token + "\" has id " + value.dump() +
                       ", expected an integer in [0, " + std::to_string(kMaxId) + ")");
    if (token.empty()) throw InputError(where + ": the empty string is not a token");
    const auto id = static_cast<TokenId>(value.get<std::int64_t>());
    if (id >= static_cast<TokenId>(v.raw_by_id.size())) v.raw_by_id.resize(id + 1);
    if (!v.raw_by_id[id].empty())
      throw InputError(where + ": id " + std::to_string(id) + " is given to both \"" +
                       v.raw_by_id[id] + "\" and \"" + token + "\"");
    v.raw_by_id[id] = token;
    v.id_by_raw.emplace(token, id);
  }
}

// Resolves one merge rule "left right" to ids; `where` names its line/index.
void add_merge(const std::string& left, const std::string& right, const std::string& where,
               BpeVocabulary& v) {
  const auto find = [&](const std::string& token, const char* role) {
    const auto it = v.id_by_raw.find(token);
    if (it == v.id_by_raw.end())
      throw InputError(where + ": " + role + " token \"" + token + "\" is not in the vocabulary");
    return it->second;
  };
  v.merges.push_back({find(left, "left"), find(right, "right"), find(left + right, "merged")});
}

void add_merge_line(const std::string& line, const std::string& where, BpeVocabulary& v) {
  const std::size_t space = line.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
      line.find(' ', space + 1) != std::string::npos)
    throw InputError(where + ": expected \"left right\" (two tokens separated by one space), got \"" +
                     line + "\"");
  add_merge(line.substr(0, space), line.substr(space + 1), where, v);
}

TokenizerSpec read_vocab_and_merges_unchecked(const fs::path& vocab_json,
                                              const fs::path& merges_txt) {
  TokenizerSpec spec;
  BpeVocabulary& v = spec.vocab;
  v.source = vocab_json.string() + " + " + merges_txt.string();
  read_vocab_object(read_json_file(vocab_json.string()), vocab_json.string(), v);

  std::istringstream lines(read_file_bytes(merges_txt.string()));
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("#version", 0) == 0)) continue;
    add_merge_line(line, merges_txt.string() + " line " + std::to_string(number), v);
  }
  // GPT-2's pipeline: ByteLevel with its regex, no prefix space.
  PreTokenizerStep byte_level;
  byte_level.kind = PreTokenizerStep::Kind::ByteLevel;
  spec.pre_tokenizer.push_back(byte_level);
  spec.decoder.steps.push_back({DecoderSpec::Step::Kind::ByteLevel, "", ""});
  return spec;
}

void read_merges(const json& model, const std::string& file, BpeVocabulary& v) {
  if (!model.contains("merges") || !model["merges"].is_array())
    throw InputError(file + ": model.merges is missing or not a list");
  const json& merges = model["merges"];
  v.merges.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    const std::string where = file + ": model.merges[" + std::to_string(i) + "]";
    if (m.is_string())
      add_merge_line(m.get<std::string>(), where, v);
    else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
      add_merge(m[0].get<std::string>(), m[1].get<std::string>(), where, v);
    else
      throw InputError(where + ": expected \"left right\" or [\"left\", \"right\"], got " + m.dump());
  }
}

void read_added_tokens(const json& root, const std::string& file, BpeVocabulary& v) {
  for (const json& t : root.value("added_tokens", json::array())) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
        !t.contains("content") || !t["content"].is_string() || t["content"] == "")
      throw InputError(file + ": added_tokens entry " + t.dump() + " needs an integer id and content");
    AddedToken added;
    added.content = t["content"].get<std::string>();
    added.id = t["id"].get<TokenId>();
    added.special = t.value("special", false);
    added.normalized = t.value("normalized", !added.special);
    added.lstrip = t.value("lstrip", false);
    added.rstrip = t.value("rstrip", false);
    added.single_word = t.value("single_word", false);
    if (added.id < 0 || added.id >= 10'000'000)
      throw InputError(file + ": added token \"" + added.content + "\" has id out of range");
    if (added.id >= static_cast<TokenId>(v.raw_by_id.size())) v.raw_by_id.resize(added.id + 1);
    if (!v.raw_by_id[added.id].empty() && v.raw_by_id[added.id] != added.content)
      throw InputError(file + ": added token \"" + added.content + "\" reuses id " +
                       std::to_string(added.id) + " of \"" + v.raw_by_id[added.id] + "\"");
    v.raw_by_id[added.id] = added.content;
    v.id_by_raw.emplace(added.content, added.id);
    v.added_tokens.push_back(std::move(added));
  }
}

void read_model(const json& root, const std::string& file, TokenizerSpec& spec) {
  if (!root.is_object() || !root.contains("model") || !root["model"].is_object())
    throw InputError(file + ": no \"model\" object; not a HF tokenizer.json");
  const json& model = root["model"];
  const std::string type = type_name(model);
  if (type != "BPE")
    throw InputError(file + ": model.type is \"" + type +
                     "\"; only \"BPE\" models are supported (byte-level like GPT-2, llama 3 and "
                     "Qwen, or SentencePiece-style like gemma and llama 2), not Unigram, "
                     "WordPiece or WordLevel");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(key) && !model[key].is_null() && model[key] != "")
      throw InputError(file + ": model." + key + " is set (" + model[key].dump() +
                       "); BPE with subword prefixes or suffixes is not supported");
  BpeVocabulary& v = spec.vocab;
  v.ignore_merges = model.value("ignore_merges", false);
  spec.byte_fallback = model.value("byte_fallback", false);
  spec.fuse_unk = model.value("fuse_unk", false);
  if (!model.contains("vocab")) throw InputError(file + ": model.vocab is missing");
  read_vocab_object(model["vocab"], file + ": model.vocab", v);
  read_merges(model, file, v);
  read_added_tokens(root, file, v);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto it = v.id_by_raw.find(model["unk_token"].get<std::string>());
    if (it == v.id_by_raw.end())
      throw InputError(file + ": model.unk_token " + model["unk_token"].dump() +
                       " is not in the vocabulary");
    spec.unk_id = it->second;
  }
}

TokenizerSpec read_tokenizer_json_unchecked(const fs::path& tokenizer_json) {
  const std::string file = tokenizer_json.string();
  const json root = read_json_file(tokenizer_json.string());
  TokenizerSpec spec;
  spec.vocab.source = file;
  read_model(root, file, spec);
  spec.normalizer = read_normalizer(root.value("normalizer", json()), file + ": normalizer");
  spec.pre_tokenizer =
      read_pre_tokenizer(root.value("pre_tokenizer", json()), file + ": pre_tokenizer");
  spec.byte_level = false;
  for (const PreTokenizerStep& s : spec.pre_tokenizer)
    spec.byte_level = spec.byte_level || s.kind == PreTokenizerStep::Kind::ByteLevel;
  spec.decoder = read_decoder(root.value("decoder", json()), file + ": decoder");
  read_post_processor(root.value("post_processor", json()), file + ": post_processor",
                      spec.vocab, spec);
  const fs::path config = tokenizer_json.parent_path() / "tokenizer_config.json";
  if (fs::is_regular_file(config))
    read_tokenizer_config(read_json_file(config.string()), config.string(), spec);
  return spec;
}

}  // namespace

TokenizerSpec read_vocab_and_merges(const fs::path& vocab_json, const fs::path& merges_txt) {
  try {
    return read_vocab_and_merges_unchecked(vocab_json, merges_txt);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(vocab_json.string() + ": " + e.what());
  }
}

TokenizerSpec read_tokenizer_json(const fs::path& tokenizer_json) {
  try {
    return read_tokenizer_json_unchecked(tokenizer_json);
  } catch (const nlohmann::json::exception& e) {  // a field of the wrong JSON type
    throw InputError(tokenizer_json.string() + ": " + e.what());
  }
}

}  // namespace saescope::tokenizer
