// `saescope-cli tensors FILE`: what a safetensors file (or sharded checkpoint)
// holds — name, dtype, shape, bytes — and its metadata. Validates the whole
// header on the way, so it doubles as a checker for a suspect file.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/io/safetensors.h"

namespace saescope::cli {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int run_tensors(const std::string& path, bool as_json) {
  const auto ckpt = io::SafetensorsCheckpoint::open(path);
  const bool sharded = ckpt.files().size() > 1;
  // File order within each shard (the order the writer chose), shards in index order.
  std::vector<const io::TensorInfo*> listed;
  for (const auto& file : ckpt.files())
    for (const auto& t : file->tensors())
      if (ckpt.has(t.name) && ckpt.file_of(t.name) == file->path()) listed.push_back(&t);

  if (as_json) {
    nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
    for (const auto* t : listed) {
      nlohmann::ordered_json j = {{"name", t->name}, {"dtype", t->dtype}, {"shape", t->shape},
                                  {"bytes", t->end - t->begin}};
      if (sharded) j["file"] = ckpt.file_of(t->name);
      tensors.push_back(j);
    }
    const nlohmann::ordered_json out = {{"tensors", tensors}, {"metadata", ckpt.metadata()}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }

  size_t name_w = 4, dtype_w = 5, shape_w = 5, bytes_w = 5;
  uint64_t total = 0;
  for (const auto* t : listed) {
    name_w = std::max(name_w, t->name.size());
    dtype_w = std::max(dtype_w, t->dtype.size());
    shape_w = std::max(shape_w, shape_text(t->shape).size());
    bytes_w = std::max(bytes_w, std::to_string(t->end - t->begin).size());
    total += t->end - t->begin;
  }
  auto shard_name = [&](const std::string& name) {
    const std::string& file = ckpt.file_of(name);
    return file.substr(file.find_last_of('/') + 1);
  };
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w - s.size() + 2, ' '); };
  auto right = [](const std::string& s, size_t w) { return std::string(w - s.size(), ' ') + s; };
  std::cout << pad("name", name_w) << pad("dtype", dtype_w) << pad("shape", shape_w)
            << right("bytes", bytes_w) << (sharded ? "  shard" : "") << "\n";
  for (const auto* t : listed)
    std::cout << pad(t->name, name_w) << pad(t->dtype, dtype_w) << pad(shape_text(t->shape), shape_w)
              << right(std::to_string(t->end - t->begin), bytes_w)
              << (sharded ? "  " + shard_name(t->name) : "") << "\n";
  std::cout << listed.size() << " tensors, " << total << " bytes";
  if (sharded) std::cout << " in " << ckpt.files().size() << " shards";
  std::cout << "\n";
  if (!ckpt.metadata().empty()) {
    std::cout << "metadata:\n";
    for (const auto& [key, value] : ckpt.metadata()) std::cout << "  " << key << ": " << value << "\n";
  }
  return 0;
}

const bool registered = register_command(
    "tensors", "List the tensors (name, dtype, shape, bytes) and metadata of a safetensors file",
    [](CLI::App* sub) {
      auto path = std::make_shared<std::string>();
      auto as_json = std::make_shared<bool>(false);
      sub->add_option("FILE", *path,
                      "A .safetensors file, a *.safetensors.index.json, or a folder holding either")->check(non_empty_path())
          ->required();
      sub->add_flag("--json", *as_json, "Print {\"tensors\": [{name, dtype, shape, bytes}...], \"metadata\": {...}}");
      return [path, as_json] { return run_tensors(*path, *as_json); };
    });

}  // namespace
}  // namespace saescope::cli
