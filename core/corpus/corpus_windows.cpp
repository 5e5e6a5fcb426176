#include "core/corpus/corpus_windows.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/common/sha256.h"
#include "core/model/model_info.h"
#include "core/tokenizer/bpe_tokenizer.h"

namespace saescope::analysis {
namespace {

bool has_jsonl_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jsonl" || ext == ".ndjson";
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(),
                     [](unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; });
}

}  // namespace

CorpusOptions corpus_options_for(const model::ModelInfo& config, const std::string& model_dir,
                                 int64_t context, int64_t max_tokens) {
  if (context > config.n_positions)
    throw InputError("--context " + std::to_string(context) + " is longer than the model's " +
                     std::to_string(config.n_positions) + " positions (" + model_dir +
                     "/config.json n_positions)");
  CorpusOptions co;
  co.context = context;
  co.max_tokens = max_tokens;
  co.bos_token = static_cast<int32_t>(config.bos_token_id);
  co.eos_token = static_cast<int32_t>(config.eos_token_id);
  co.prepend_bos = config.prepend_bos;
  return co;
}

// ---- documents ---------------------------------------------------------------

CorpusDocuments::CorpusDocuments(std::string path)
    : path_(std::move(path)), jsonl_(has_jsonl_extension(path_)) {
  if (std::filesystem::is_directory(path_))
    throw InputError(path_ + ": is a folder; a corpus is one .txt or .jsonl file");
  rewind();
}

void CorpusDocuments::rewind() {
  in_.close();
  in_.clear();
  in_.open(path_, std::ios::binary);
  if (!in_) throw InputError(path_ + ": cannot open the corpus file");
  line_ = 0;
  problems_.clear();
}

bool CorpusDocuments::next(std::string& text) {
  std::string line;
  if (jsonl_) {
    while (std::getline(in_, line)) {
      ++line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (is_blank(line)) continue;
      nlohmann::json j;
      try {
        j = parse_json_bounded(line, path_);
      } catch (const JsonError& e) {
        // "not valid JSON" alone, as before; too deep says so.
        const bool deep = e.reason().rfind("JSON nested", 0) == 0;
        problems_.push_back({line_, deep ? e.reason() : "not valid JSON"});
        continue;
      }
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
        problems_.push_back({line_, "no string field `text`"});
        continue;
      }
      text = j["text"].get<std::string>();
      if (text.empty()) continue;
      return true;
    }
    return false;
  }
  // Plain text: a paragraph runs to the next blank line.
  text.clear();
  bool any = false;
  while (std::getline(in_, line)) {
    ++line_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_blank(line)) {
      if (any) return true;
      continue;
    }
    if (any) text += '\n';
    text += line;
    any = true;
  }
  return any;
}

// ---- windows -----------------------------------------------------------------

CorpusWindows::CorpusWindows(std::string path, const tokenizer::BpeTokenizer& tokenizer,
                             CorpusOptions options)
    : path_(std::move(path)), tokenizer_(tokenizer), options_(options), docs_(path_) {
  if (options_.context < 2)
    throw InputError("context length " + std::to_string(options_.context) +
                     " is too short: a window holds BOS and at least one token");
  if (options_.max_tokens < 0) throw InputError("token limit must not be negative");
}

bool CorpusWindows::fill(size_t want) {
  std::string text;
  while (buffer_.size() - buffer_pos_ < want && !docs_done_) {
    if (!docs_.next(text)) {
      docs_done_ = true;
      break;
    }
    const std::vector<int32_t> ids = tokenizer_.encode_ids(text);
    if (ids.empty()) continue;
    if (buffer_pos_ > (1u << 16)) {  // keep the buffer small
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(buffer_pos_));
      buffer_pos_ = 0;
    }
    if (!first_document_ && options_.eos_token >= 0) buffer_.push_back(options_.eos_token);
    first_document_ = false;
    buffer_.insert(buffer_.end(), ids.begin(), ids.end());
  }
  return buffer_.size() - buffer_pos_ >= want;
}

bool CorpusWindows::next_window(TokenWindow& w) {
  const int64_t bos = options_.prepend_bos ? 1 : 0;  // positions BOS takes
  int64_t want = options_.context - bos;
  if (options_.max_tokens > 0) {
    const int64_t left = options_.max_tokens - tokens_emitted_;
    if (left < 2) return false;
    want = std::min(want, left - bos);
  }
  fill(static_cast<size_t>(want));
  const int64_t have = static_cast<int64_t>(buffer_.size() - buffer_pos_);
  const int64_t take = std::min(want, have);
  if (take < 2 - bos) return false;  // a window counts positions 1..: it needs two
  w.index = next_window_++;
  w.tokens.clear();
  if (bos) w.tokens.push_back(options_.bos_token);
  w.tokens.insert(w.tokens.end(), buffer_.begin() + static_cast<std::ptrdiff_t>(buffer_pos_),
                  buffer_.begin() + static_cast<std::ptrdiff_t>(buffer_pos_ + static_cast<size_t>(take)));
  buffer_pos_ += static_cast<size_t>(take);
  tokens_emitted_ += take + bos;
  return true;
}

std::vector<TokenWindow> CorpusWindows::next(int64_t n) {
  std::vector<TokenWindow> out;
  TokenWindow w;
  while (static_cast<int64_t>(out.size()) < n && next_window(w)) out.push_back(std::move(w));
  return out;
}

void CorpusWindows::seek(int64_t window_index) {
  docs_.rewind();
  buffer_.clear();
  buffer_pos_ = 0;
  first_document_ = true;
  docs_done_ = false;
  next_window_ = 0;
  tokens_emitted_ = 0;
  TokenWindow skipped;
  while (next_window_ < window_index && next_window(skipped)) {
  }
}

WindowCount CorpusWindows::count() {
  if (counted_) return count_;
  CorpusWindows scan(path_, tokenizer_, options_);
  TokenWindow w;
  WindowCount c;
  while (scan.next_window(w)) {
    ++c.windows;
    c.tokens += static_cast<int64_t>(w.tokens.size());
    c.last_length = static_cast<int64_t>(w.tokens.size());
  }
  if (c.windows == 0) {
    const std::string bad = problems_summary();
    throw InputError(path_ + ": the corpus holds no text to harvest" +
                     (bad.empty() ? std::string() : " (" + bad + ")"));
  }
  count_ = c;
  counted_ = true;
  return c;
}

const std::string& CorpusWindows::content_hash() {
  if (hash_.empty()) hash_ = sha256_file(path_);
  return hash_;
}

const std::vector<CorpusProblem>& CorpusWindows::problems() {
  if (all_problems_.empty() && docs_.is_jsonl()) {
    CorpusDocuments scan(path_);
    std::string text;
    while (scan.next(text)) {
    }
    all_problems_ = scan.problems();
  }
  return all_problems_;
}

std::string CorpusWindows::problems_summary() {
  const auto& p = problems();
  if (p.empty()) return {};
  std::string s = path_ + ": skipped " + std::to_string(p.size()) + " bad line" +
                  (p.size() == 1 ? "" : "s") + ":";
  const size_t shown = std::min<size_t>(p.size(), 10);
  for (size_t i = 0; i < shown; ++i)
    s += (i ? ", " : " ") + std::to_string(p[i].line) + " (" + p[i].reason + ")";
  if (shown < p.size()) s += ", ...";
  return s;
}

}  // namespace saescope::analysis
