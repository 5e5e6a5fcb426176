// Encode throughput of each real Hugging Face tokenizer against HF's own Rust
// `tokenizers` (npm, one thread), on the same English text in the same
// chunks: Debian's /usr/share/common-licenses, concatenated and repeated up
// to the requested size (default 2 MB), cut into chunks of whole lines of at
// most 4 KB (bench/hf_tokenizers_encode.cjs cuts the same way). Both sides:
// best of 5 passes, special tokens not added; the token counts must agree.
//   bench_hf_tokenizer_encode [MB] [tokenizer.json ...]
// Default tokenizers: build/tokenizer-fixtures/*/tokenizer.json (fetched by
// the test set-up). The baseline needs node and the npm package `tokenizers`
// in $HF_TOKENIZERS_NODE_MODULES (default /tmp/npmtok/node_modules).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/bench_text.h"
#include "core/tokenizer/bpe_tokenizer.h"

using namespace saescope::tokenizer;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// Whole lines, gathered up to 4096 bytes a chunk (a longer line alone).
std::vector<std::string> chunks_of(const std::string& text) {
  std::vector<std::string> chunks;
  std::string current;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    nl = nl == std::string::npos ? text.size() : nl + 1;
    const std::string_view line(text.data() + pos, nl - pos);
    if (!current.empty() && current.size() + line.size() > 4096) chunks.push_back(std::move(current)), current.clear();
    current += line;
    pos = nl;
  }
  if (!current.empty()) chunks.push_back(current);
  return chunks;
}

}  // namespace

int main(int argc, char** argv) {
  const double mb = argc > 1 ? std::atof(argv[1]) : 2.0;
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) files.emplace_back(argv[i]);
  if (files.empty()) {
    const fs::path dir = fs::path(SAESCOPE_BENCH_DIR) / ".." / "build" / "tokenizer-fixtures";
    for (const char* name : {"llama3", "llama3_1", "qwen3", "gemma3", "llama2"})
      files.push_back(dir / name / "tokenizer.json");
  }
  const std::string text = bench::repeated_text(bench::common_licenses_text(), mb);
  if (text.empty()) return std::fprintf(stderr, "no /usr/share/common-licenses\n"), 1;
  const std::vector<std::string> chunks = chunks_of(text);
  const fs::path text_file = fs::temp_directory_path() / "saescope_bench_hf_tokenizer.txt";
  std::ofstream(text_file, std::ios::binary) << text;
  std::printf("text: %.2f MB of English in %zu chunks; best of 5 passes, one thread\n",
              text.size() / 1e6, chunks.size());
  std::printf("%-10s %12s %12s %12s %8s %s\n", "tokenizer", "ours cold", "ours tok/s", "HF tok/s",
              "ratio", "tokens");
  for (const fs::path& file : files) {
    const BpeTokenizer t = BpeTokenizer::from_tokenizer_json(file);
    double best = 1e30, first = 0;
    std::size_t tokens = 0;
    for (int pass = 0; pass < 5; ++pass) {
      tokens = 0;
      const auto start = Clock::now();
      for (const std::string& chunk : chunks) tokens += t.encode_ids(chunk, {true}).size();
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      if (pass == 0) first = seconds;  // empty BPE cache
      best = std::min(best, seconds);
    }
    const std::string out = bench::run_command("node '" + std::string(SAESCOPE_BENCH_DIR) +
                                        "/hf_tokenizers_encode.cjs' '" + file.string() + "' '" +
                                        text_file.string() + "' 5 2>&1");
    const std::string name = file.parent_path().filename().string();
    try {
      const auto hf = nlohmann::json::parse(out.substr(out.rfind('{')));
      const double hf_rate = hf["tokens_per_s"];
      std::printf("%-10s %12.0f %12.0f %12.0f %8.2f %zu%s\n", name.c_str(), tokens / first,
                  tokens / best, hf_rate,
                  tokens / best / hf_rate, tokens,
                  hf["tokens"].get<std::size_t>() == tokens ? "" : "  (HF counts differ!)");
    } catch (const std::exception&) {
      std::printf("%-10s %12.0f  (no baseline: %s)\n", name.c_str(), tokens / best, out.c_str());
    }
  }
  fs::remove(text_file);
  return 0;
}
