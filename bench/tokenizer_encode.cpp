// GPT-2 tokenizer encode throughput, single thread, on a few MB of English
// prose: the licence texts Debian ships in /usr/share/common-licenses (every
// Debian system has them), concatenated in a fixed order and repeated, with
// the copy number between copies, up to the requested size (default 4 MB).
// Figures: our encode cold (empty BPE cache) on the first copy alone (all
// text unseen) and on the whole text, and warm (cache filled, best of 3);
// then the npm package gpt-tokenizer on the same file, timed by
// bench/gpt_tokenizer_encode.cjs in a node process started here, with the
// ratios and a check that both produced the same ids.
//   bench_tokenizer_encode [MB] [tokenizer folder]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/bench_text.h"
#include "core/tokenizer/bpe_tokenizer.h"

using namespace saescope::tokenizer;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double seconds_of(const std::function<void()>& work) {
  const auto start = Clock::now();
  work();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::uint32_t fnv1a(const std::vector<TokenId>& ids) {
  std::uint32_t hash = 0x811c9dc5u;
  for (TokenId id : ids)
    for (int k = 0; k < 4; ++k) {
      hash ^= (static_cast<std::uint32_t>(id) >> (8 * k)) & 0xFFu;
      hash *= 0x01000193u;
    }
  return hash;
}

}  // namespace

int main(int argc, char** argv) {
  const double target_mb = argc > 1 ? std::atof(argv[1]) : 4.0;
  const fs::path model_dir =
      argc > 2 ? fs::path(argv[2]) : fs::path(SAESCOPE_SHARED_DIR) / "data" / "gpt2-tokenizer";

  const std::string once = bench::common_licenses_text();
  if (once.size() < 10000) {
    std::fprintf(stderr, "no English corpus: /usr/share/common-licenses is missing\n");
    return 1;
  }
  const std::string text = bench::repeated_text(once, target_mb);
  const double mb = text.size() / 1e6;
  const fs::path text_file = fs::temp_directory_path() / "saescope_bench_tokenizer.txt";
  std::ofstream(text_file, std::ios::binary) << text;

  const BpeTokenizer tokenizer = load_tokenizer(model_dir);
  std::vector<TokenId> ids;
  const double cold_unique = seconds_of([&] { ids = tokenizer.encode_ids(once); });
  tokenizer.clear_cache();
  const double cold = seconds_of([&] { ids = tokenizer.encode_ids(text); });
  double warm = 1e30, warm_offsets = 1e30;
  for (int i = 0; i < 3; ++i) {
    warm = std::min(warm, seconds_of([&] { ids = tokenizer.encode_ids(text); }));
    warm_offsets = std::min(warm_offsets, seconds_of([&] { tokenizer.encode(text); }));
  }
  std::printf("text: %.2f MB of English (common-licenses, %.0f kB unique), %zu tokens\n", mb,
              once.size() / 1e3, ids.size());
  std::printf("saescope  cold, unique text  %7.2f MB/s\n", once.size() / 1e6 / cold_unique);
  std::printf("saescope  cold, whole text   %7.2f MB/s\n", mb / cold);
  std::printf("saescope  warm               %7.2f MB/s  (with offsets %.2f MB/s)\n", mb / warm,
              mb / warm_offsets);

  const std::string script = std::string(SAESCOPE_BENCH_DIR) + "/gpt_tokenizer_encode.cjs";
  const std::string out =
      bench::run_command("node '" + script + "' '" + text_file.string() + "' 2>&1");
  nlohmann::json baseline;
  try {
    baseline = nlohmann::json::parse(out.substr(out.rfind('{')));
  } catch (const std::exception&) {
    std::printf("baseline: node or the npm package gpt-tokenizer is not available "
                "(npm install gpt-tokenizer in /tmp/gpttok or bench/); only our figures above.\n%s",
                out.c_str());
    fs::remove(text_file);
    return 0;
  }
  fs::remove(text_file);
  const double base_cold = baseline["mb_per_s_cold"], base_warm = baseline["mb_per_s_warm"];
  std::printf("gpt-tokenizer (node) cold     %7.2f MB/s\n", base_cold);
  std::printf("gpt-tokenizer (node) warm     %7.2f MB/s\n", base_warm);
  std::printf("ratio saescope/gpt-tokenizer  cold %.2fx  warm %.2fx\n", mb / cold / base_cold,
              mb / warm / base_warm);
  const bool same = baseline["tokens"] == ids.size() && baseline["ids_hash"] == fnv1a(ids);
  std::printf("ids: %s\n", same ? "identical to gpt-tokenizer" : "DIFFER from gpt-tokenizer");
  return same ? 0 : 1;
}
