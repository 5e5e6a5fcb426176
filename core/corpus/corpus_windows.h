#pragma once
// A text corpus cut into model-sized windows.
//
// Documents: a `.jsonl` file holds one JSON object per line with a string
// field `text` (blank lines are skipped; other bad lines are skipped and
// reported with their line numbers). Any other file is plain text in which a
// document is a paragraph: lines up to the next blank (or whitespace-only)
// line, joined with "\n".
//
// Tokens: every document is encoded with the GPT-2 tokenizer (special tokens
// are plain text in documents) and the documents are joined into one stream
// with the end-of-text token (<|endoftext|>, 50256) between them. Window w is
// BOS followed by stream tokens [w·(C−1), (w+1)·(C−1)) for context length C;
// the last window holds what is left (at least one token after BOS). With a
// token limit the windows stop once they hold that many tokens (BOS
// included), the last one cut short.
//
// The corpus is streamed: memory does not grow with its size. seek(N)
// re-reads and re-tokenises from the start (tokenising is far faster than the
// model), so a resumed run sees exactly the windows an uninterrupted one did.
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/corpus/window_source.h"

namespace saescope::tokenizer {
class BpeTokenizer;
}

namespace saescope::model {
struct ModelInfo;
}

namespace saescope::analysis {

struct CorpusProblem {
  int64_t line = 0;     // 1-based line of the corpus file
  std::string reason;   // "not JSON: ...", "no string field `text`"
};

struct CorpusOptions {
  int64_t context = 128;     // tokens per window, BOS included (>= 2)
  int64_t max_tokens = 0;    // 0: the whole corpus
  int32_t bos_token = 50256;
  int32_t eos_token = 50256;  // between documents; -1: none
  // The model family's BOS rule. Without BOS a window is `context` corpus
  // tokens, and its first position plays BOS's part (fed, not counted).
  bool prepend_bos = true;
};

// Windows of `context` tokens (BOS included where the family prepends one)
// joined with the model's BOS and EOS ids; InputError naming `model_dir`/config.json when `context` exceeds
// the model's n_positions.
CorpusOptions corpus_options_for(const model::ModelInfo& config, const std::string& model_dir,
                                 int64_t context, int64_t max_tokens);

// Reads documents one at a time from a corpus file.
class CorpusDocuments {
 public:
  explicit CorpusDocuments(std::string path);  // InputError when unreadable
  // The next document's text; false at the end of the file.
  bool next(std::string& text);
  void rewind();
  bool is_jsonl() const { return jsonl_; }
  // Bad lines met so far (JSONL), in file order.
  const std::vector<CorpusProblem>& problems() const { return problems_; }

 private:
  std::string path_;
  bool jsonl_ = false;
  std::ifstream in_;
  int64_t line_ = 0;
  std::vector<CorpusProblem> problems_;
};

class CorpusWindows : public WindowSource {
 public:
  // The tokenizer must outlive this object.
  CorpusWindows(std::string path, const tokenizer::BpeTokenizer& tokenizer,
                CorpusOptions options = {});

  std::vector<TokenWindow> next(int64_t n) override;
  void seek(int64_t window_index) override;
  int64_t position() const override { return next_window_; }
  // Scans the whole corpus once (then cached). InputError when the corpus
  // holds no token at all, naming the file and any bad lines.
  WindowCount count() override;

  const std::string& path() const { return path_; }
  const CorpusOptions& options() const { return options_; }
  // sha256 of the file's bytes (computed once, streamed).
  const std::string& content_hash();
  // Bad JSONL lines of the whole file (scans it if not read yet).
  const std::vector<CorpusProblem>& problems();
  // "corpus.jsonl: skipped 2 bad lines: 3 (not JSON: ...), 9 (no string field `text`)"
  std::string problems_summary();

 private:
  bool next_window(TokenWindow& w);
  bool fill(size_t want);  // tokenise documents until the buffer holds `want`

  std::string path_;
  const tokenizer::BpeTokenizer& tokenizer_;
  CorpusOptions options_;
  CorpusDocuments docs_;
  std::vector<int32_t> buffer_;  // stream tokens not yet in a window
  size_t buffer_pos_ = 0;
  bool first_document_ = true;
  bool docs_done_ = false;
  int64_t next_window_ = 0;
  int64_t tokens_emitted_ = 0;
  bool counted_ = false;
  WindowCount count_;
  std::vector<CorpusProblem> all_problems_;
  std::string hash_;
};

}  // namespace saescope::analysis
