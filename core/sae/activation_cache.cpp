#include "core/sae/activation_cache.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/io/mapped_file.h"

namespace saescope::sae {
namespace {

uint64_t read_u64(const uint8_t* p) {
  uint64_t v = 0;
  std::memcpy(&v, p, 8);  // the file is little-endian, as is every host we build for
  return v;
}

template <class T>
T field(const nlohmann::json& j, const char* name, const std::string& path) {
  if (!j.contains(name)) throw InputError(path + ": cache header has no field `" + name + "`");
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(path + ": cache header field `" + name + "` has the wrong type");
  }
}

}  // namespace

at::ScalarType parse_cache_dtype(const std::string& text) {
  if (text == "float16") return at::kHalf;
  if (text == "bfloat16") return at::kBFloat16;
  throw InputError("cache dtype must be float16 or bfloat16, not \"" + text + "\"");
}

at::ScalarType ActivationCacheHeader::scalar_type() const { return parse_cache_dtype(dtype); }

nlohmann::json ActivationCacheHeader::to_json() const {
  return {{"format", "saescope-activation-cache"},
          {"version", 1},
          {"model", model},
          {"model_hash", model_hash},
          {"tokenizer_hash", tokenizer_hash},
          {"hook", hook},
          {"d_in", d_in},
          {"dtype", dtype},
          {"corpus", corpus},
          {"corpus_hash", corpus_hash},
          {"context", context},
          {"max_tokens", max_tokens},
          {"include_bos", include_bos},
          {"center_writing_weights", center_writing_weights},
          {"windows", windows},
          {"tokens", tokens},
          {"corpus_tokens", corpus_tokens},
          {"first_window", first_window}};
}

ActivationCacheHeader ActivationCacheHeader::from_json(const nlohmann::json& j,
                                                       const std::string& path) {
  if (!j.is_object() || j.value("format", "") != "saescope-activation-cache")
    throw InputError(path + ": not a SAEScope activation cache (header format)");
  if (field<int64_t>(j, "version", path) != 1)
    throw InputError(path + ": activation cache version " + j["version"].dump() +
                     " is newer than this program reads (1)");
  ActivationCacheHeader h;
  h.model = field<std::string>(j, "model", path);
  h.model_hash = field<std::string>(j, "model_hash", path);
  h.tokenizer_hash = field<std::string>(j, "tokenizer_hash", path);
  h.hook = field<std::string>(j, "hook", path);
  h.d_in = field<int64_t>(j, "d_in", path);
  h.dtype = field<std::string>(j, "dtype", path);
  h.corpus = field<std::string>(j, "corpus", path);
  h.corpus_hash = field<std::string>(j, "corpus_hash", path);
  h.context = field<int64_t>(j, "context", path);
  h.max_tokens = field<int64_t>(j, "max_tokens", path);
  h.include_bos = field<bool>(j, "include_bos", path);
  h.center_writing_weights = field<bool>(j, "center_writing_weights", path);
  h.windows = field<int64_t>(j, "windows", path);
  h.tokens = field<int64_t>(j, "tokens", path);
  h.corpus_tokens = field<int64_t>(j, "corpus_tokens", path);
  if (j.contains("first_window")) h.first_window = field<int64_t>(j, "first_window", path);  // absent before shards
  if (h.d_in <= 0 || h.context < 2 || h.windows < 0 || h.tokens < 0 || h.first_window < 0)
    throw InputError(path + ": cache header has impossible sizes (d_in, context, windows, tokens)");
  if (h.dtype != "float16" && h.dtype != "bfloat16")
    throw InputError(path + ": cache header dtype \"" + h.dtype + "\" is not float16 or bfloat16");
  return h;
}

std::string ActivationCacheHeader::differences(const ActivationCacheHeader& o) const {
  std::string d;
  const auto diff = [&](const char* what, const std::string& mine, const std::string& theirs) {
    if (mine != theirs) d += std::string(d.empty() ? "" : "; ") + what + " " + mine + " vs " + theirs;
  };
  const auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  diff("model content", model_hash.substr(0, 12), o.model_hash.substr(0, 12));
  diff("tokenizer content", tokenizer_hash.substr(0, 12), o.tokenizer_hash.substr(0, 12));
  diff("hook", hook, o.hook);
  diff("d_in", std::to_string(d_in), std::to_string(o.d_in));
  diff("dtype", dtype, o.dtype);
  diff("corpus content", corpus_hash.substr(0, 12), o.corpus_hash.substr(0, 12));
  diff("context", std::to_string(context), std::to_string(o.context));
  diff("token limit", std::to_string(max_tokens), std::to_string(o.max_tokens));
  diff("include_bos", b(include_bos), b(o.include_bos));
  diff("center_writing_weights", b(center_writing_weights), b(o.center_writing_weights));
  if (d.empty()) {  // same inputs must give the same plan; if not, say so rather than mix
    diff("windows", std::to_string(windows), std::to_string(o.windows));
    diff("rows", std::to_string(tokens), std::to_string(o.tokens));
    diff("first window", std::to_string(first_window), std::to_string(o.first_window));
  }
  return d;
}

CacheFileInfo read_cache_file_info(const std::string& path) {
  namespace L = cache_layout;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the activation cache");
  uint8_t fixed[L::kHeaderOffset];
  if (!in.read(reinterpret_cast<char*>(fixed), sizeof fixed) ||
      std::memcmp(fixed, L::kMagic, sizeof L::kMagic) != 0)
    throw InputError(path + ": not a SAEScope activation cache (no SAEACTS1 magic)");
  CacheFileInfo info;
  const uint64_t windows = read_u64(fixed + L::kProgressOffset);
  const uint64_t rows = read_u64(fixed + L::kProgressOffset + 8);
  if (read_u64(fixed + L::kProgressOffset + 16) != L::check_word(windows, rows))
    throw InputError(path + ": the activation cache's progress record is damaged (check word)");
  const uint64_t header_len = read_u64(fixed + L::kHeaderLengthOffset);
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  if (header_len == 0 || header_len > file_size - L::kHeaderOffset)
    throw InputError(path + ": the activation cache header length is past the end of the file");
  std::string text(header_len, '\0');
  in.seekg(L::kHeaderOffset);
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  const auto j = parse_json_bounded(text, path + ": the activation cache header");
  info.header = ActivationCacheHeader::from_json(j, path);
  info.progress = {static_cast<int64_t>(windows), static_cast<int64_t>(rows)};
  info.data_offset = (L::kHeaderOffset + static_cast<int64_t>(header_len) + L::kAlign - 1) /
                     L::kAlign * L::kAlign;
  if (info.progress.windows > info.header.windows || info.progress.rows > info.header.tokens)
    throw InputError(path + ": the activation cache records more rows than its header plans");
  const uint64_t need = static_cast<uint64_t>(info.data_offset) +
                        static_cast<uint64_t>(info.progress.rows) *
                            static_cast<uint64_t>(info.header.row_bytes());
  if (file_size < need)
    throw InputError(path + ": the activation cache is truncated: " + std::to_string(file_size) +
                     " bytes, its " + std::to_string(info.progress.rows) + " complete rows need " +
                     std::to_string(need));
  return info;
}

ActivationCache ActivationCache::open(const std::string& path) {
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot open the activation cache");
    char first = 0;
    in.get(first);
    if (first == '{') {  // a manifest of shards (the file's magic starts with 'S')
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return open_manifest(path, "{" + text);
    }
  }
  ActivationCache c;
  c.path_ = path;
  c.info_ = read_cache_file_info(path);
  c.segments_.push_back({io::MappedFile::map(path), c.info_.data_offset, 0, c.info_.progress.rows});
  return c;
}

std::string cache_manifest_json(const ActivationCacheHeader& whole, const std::vector<CacheShard>& shards) {
  nlohmann::json list = nlohmann::json::array();
  for (const CacheShard& s : shards)
    list.push_back({{"file", s.file}, {"first_window", s.first_window}, {"windows", s.windows}, {"rows", s.rows}});
  return nlohmann::json{{"format", "saescope-activation-cache-manifest"},
                        {"version", 1},
                        {"header", whole.to_json()},
                        {"shards", list}}
      .dump(1);
}

ActivationCache ActivationCache::open_manifest(const std::string& path, const std::string& text) {
  const auto j = parse_json_bounded(text, path + ": the activation cache manifest");
  if (!j.is_object() || j.value("format", "") != "saescope-activation-cache-manifest" || !j.contains("header") ||
      !j.contains("shards") || !j["shards"].is_array())
    throw InputError(path + ": not a SAEScope activation cache (a JSON file, but no cache manifest)");
  if (!j["version"].is_number_integer() || j["version"].get<int64_t>() != 1)
    throw InputError(path + ": activation cache manifest version " + j["version"].dump() +
                     " is not one this program reads (1)");
  ActivationCache c;
  c.path_ = path;
  c.info_.header = ActivationCacheHeader::from_json(j["header"], path);
  const ActivationCacheHeader& whole = c.info_.header;
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  int64_t next_window = 0, next_row = 0;
  for (const auto& entry : j["shards"]) {
    if (!entry.is_object() || !entry.contains("file") || !entry["file"].is_string())
      throw InputError(path + ": a shard of the cache manifest has no file name");
    const std::string file = (folder / entry["file"].get<std::string>()).string();
    const CacheFileInfo shard = read_cache_file_info(file);
    ActivationCacheHeader as_whole = shard.header;  // the shard's plan, compared as the whole cache's
    as_whole.windows = whole.windows;
    as_whole.tokens = whole.tokens;
    as_whole.corpus_tokens = whole.corpus_tokens;
    as_whole.first_window = whole.first_window;
    if (const std::string d = whole.differences(as_whole); !d.empty())
      throw InputError(file + ": this shard of " + path + " is of another cache (" + d + ")");
    if (shard.header.first_window != next_window)
      throw InputError(file + ": this shard of " + path + " starts at window " +
                       std::to_string(shard.header.first_window) + ", the one before ended at " +
                       std::to_string(next_window));
    if (shard.progress.windows != shard.header.windows || shard.progress.rows != shard.header.tokens)
      throw InputError(file + ": this shard of " + path + " is incomplete (" + std::to_string(shard.progress.rows) +
                       " of " + std::to_string(shard.header.tokens) + " rows)");
    c.segments_.push_back({io::MappedFile::map(file), shard.data_offset, next_row, shard.progress.rows});
    next_window += shard.header.windows;
    next_row += shard.progress.rows;
  }
  if (next_window != whole.windows || next_row != whole.tokens)
    throw InputError(path + ": the manifest's shards hold " + std::to_string(next_row) + " rows of " +
                     std::to_string(next_window) + " windows, its header plans " + std::to_string(whole.tokens) +
                     " of " + std::to_string(whole.windows));
  c.info_.progress = {next_window, next_row};
  return c;
}

bool ActivationCache::complete() const {
  return info_.progress.windows == info_.header.windows && info_.progress.rows == info_.header.tokens;
}

at::Tensor ActivationCache::rows(int64_t first, int64_t n) const {
  const auto opts = at::TensorOptions().dtype(info_.header.scalar_type());
  if (first < 0 || n < 0 || first + n > rows())
    throw InternalError(path_ + ": rows [" + std::to_string(first) + ", " + std::to_string(first + n) +
                        ") asked of " + std::to_string(rows()));
  std::vector<at::Tensor> parts;
  for (const Segment& s : segments_) {
    const int64_t lo = std::max(first, s.first_row), hi = std::min(first + n, s.first_row + s.rows);
    if (lo >= hi) continue;
    auto keep = s.map;  // the tensor owns a reference to the mapping
    uint8_t* at = s.map->mutable_data() + s.data_offset + (lo - s.first_row) * info_.header.row_bytes();
    parts.push_back(at::from_blob(at, {hi - lo, d_in()},
                                  [keep](void*) mutable { keep.reset(); }, opts));
  }
  if (parts.empty()) return at::empty({0, d_in()}, opts);
  return parts.size() == 1 ? parts[0] : at::cat(parts, 0);
}

at::Tensor per_token_rows(const at::Tensor& v, const std::string& hook) {
  const std::string pattern = "hook_pattern";
  if (hook.size() >= pattern.size() && hook.compare(hook.size() - pattern.size(), pattern.size(), pattern) == 0)
    throw InputError(hook + ": attention patterns hold no vector per token; choose another hook");
  if (v.dim() == 3) return v;
  if (v.dim() == 4) return v.flatten(2, 3);
  throw InternalError(hook + ": unexpected hook value shape " + c10::str(v.sizes()));
}

int64_t ActivationCache::window_first_row(int64_t w) const {
  return w * info_.header.rows_per_window();
}

}  // namespace saescope::sae
