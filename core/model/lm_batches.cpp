#include "core/model/lm_batches.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::model {
namespace {

std::vector<std::string> read_documents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the corpus file");
  std::vector<std::string> docs;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = parse_json_bounded(line, path);
    } catch (const JsonError& e) {
      throw InputError(path + ": line " + std::to_string(number) + " is not JSON (" + e.reason() +
                       "); a training corpus holds one {\"text\": ...} object per line");
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
      throw InputError(path + ": line " + std::to_string(number) + " has no string field \"text\"");
    docs.push_back(j["text"].get<std::string>());
  }
  if (docs.empty()) throw InputError(path + ": the corpus holds no document");
  return docs;
}

// SplitMix64: a tiny, portable generator, the same on every platform.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

at::Tensor windows_at(const TokenStream& stream, const std::vector<int64_t>& starts,
                      int64_t context) {
  at::Tensor out = at::empty({static_cast<int64_t>(starts.size()), context + 1}, at::kLong);
  int64_t* dst = out.data_ptr<int64_t>();
  for (size_t i = 0; i < starts.size(); ++i)
    for (int64_t t = 0; t <= context; ++t) *dst++ = stream.ids[starts[i] + t];
  return out;
}

void require_window(const TokenStream& stream, int64_t context) {
  if (context < 1) throw InputError("the context must be at least 1 token");
  if (static_cast<int64_t>(stream.ids.size()) < context + 1)
    throw InputError(stream.source + ": " + std::to_string(stream.ids.size()) +
                     " tokens, fewer than one window of " + std::to_string(context + 1));
}

}  // namespace

TokenStream tokenize_corpus(const std::string& jsonl, const tokenizer::BpeTokenizer& tokenizer,
                            int threads) {
  const std::vector<std::string> docs = read_documents(jsonl);
  const tokenizer::TokenId eot = tokenizer.eot_id();
  if (eot < 0)
    throw InputError(tokenizer.source() +
                     ": the tokenizer has no <|endoftext|> token to "
                     "separate documents");
  // Contiguous ranges of documents per thread, joined in order: the stream
  // does not depend on the thread count.
  const int n = std::max(1, std::min<int>(threads, static_cast<int>(docs.size())));
  std::vector<std::vector<int32_t>> parts(n);
  const auto work = [&](int part) {
    const size_t begin = docs.size() * part / n, end = docs.size() * (part + 1) / n;
    for (size_t d = begin; d < end; ++d) {
      const std::vector<tokenizer::TokenId> ids = tokenizer.encode_ids(docs[d]);
      parts[part].insert(parts[part].end(), ids.begin(), ids.end());
      parts[part].push_back(eot);
    }
  };
  std::vector<std::thread> pool;
  for (int part = 1; part < n; ++part) pool.emplace_back(work, part);
  work(0);
  for (auto& t : pool) t.join();

  TokenStream stream;
  stream.source = jsonl;
  stream.documents = static_cast<int64_t>(docs.size());
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  stream.ids.reserve(total);
  for (const auto& p : parts) stream.ids.insert(stream.ids.end(), p.begin(), p.end());
  return stream;
}

at::Tensor random_windows(const TokenStream& stream, int64_t batch, int64_t context, uint64_t seed,
                          int64_t step) {
  require_window(stream, context);
  const uint64_t positions = stream.ids.size() - static_cast<uint64_t>(context);
  uint64_t state =
      seed * 0xD1B54A32D192ED03ULL ^ static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ULL;
  std::vector<int64_t> starts(batch);
  // Modulo bias is below positions / 2^64: immaterial.
  for (auto& s : starts) s = static_cast<int64_t>(splitmix64(state) % positions);
  return windows_at(stream, starts, context);
}

at::Tensor spaced_windows(const TokenStream& stream, int64_t n, int64_t context) {
  require_window(stream, context);
  const int64_t positions = static_cast<int64_t>(stream.ids.size()) - context;
  const int64_t count = std::min(n, positions);
  std::vector<int64_t> starts(count);
  for (int64_t i = 0; i < count; ++i) starts[i] = positions * i / count;
  return windows_at(stream, starts, context);
}

}  // namespace saescope::model
