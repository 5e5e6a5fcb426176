// A checkpoint as users hand it over: one .safetensors file, a sharded set
// described by `*.safetensors.index.json`, or the folder holding either.
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/io/safetensors.h"

namespace saescope::io {
namespace fs = std::filesystem;
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The file inside a checkpoint folder to open: the conventional names first,
// then the folder's only index or only .safetensors file.
std::string pick_in_folder(const fs::path& dir) {
  for (const char* name : {"model.safetensors.index.json", "model.safetensors"})
    if (fs::is_regular_file(dir / name)) return (dir / name).string();
  std::vector<std::string> indexes, files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (ends_with(name, ".safetensors.index.json")) indexes.push_back(entry.path().string());
    if (ends_with(name, ".safetensors")) files.push_back(entry.path().string());
  }
  if (indexes.size() == 1) return indexes[0];
  if (indexes.empty() && files.size() == 1) return files[0];
  throw InputError(dir.string() + ": no model.safetensors or model.safetensors.index.json" +
                   (indexes.size() + files.size() > 1
                        ? std::string(" (and several other safetensors files: name one)")
                        : std::string()));
}

}  // namespace

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& path) {
  std::error_code ec;
  const std::string file = fs::is_directory(path, ec) ? pick_in_folder(path) : path;
  SafetensorsCheckpoint ckpt;
  ckpt.path_ = file;
  if (!ends_with(file, ".json")) {
    ckpt.files_.push_back(SafetensorsFile::open(file));
    ckpt.metadata_ = ckpt.files_[0]->metadata();
    for (const auto& t : ckpt.files_[0]->tensors()) ckpt.where_[t.name] = 0;
    return ckpt;
  }

  const nlohmann::json index = read_json_file(file);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw InputError(file + ": no \"weight_map\" object mapping tensor names to shard files");
  if (index.contains("metadata") && index["metadata"].is_object())
    for (const auto& [key, value] : index["metadata"].items())
      ckpt.metadata_[key] = value.is_string() ? value.get<std::string>() : value.dump();

  const fs::path dir = fs::path(file).parent_path();
  std::map<std::string, size_t> shard_slot;  // shard file name -> index in files_
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      throw InputError(file + ": weight_map entry for tensor '" + name + "' is not a file name: " +
                       shard.dump());
    const std::string shard_name = shard.get<std::string>();
    auto slot = shard_slot.find(shard_name);
    if (slot == shard_slot.end()) {
      const std::string shard_path = (dir / shard_name).string();
      if (!fs::is_regular_file(shard_path))
        throw InputError(file + ": shard " + shard_path + " (holding tensor '" + name +
                         "') does not exist");
      ckpt.files_.push_back(SafetensorsFile::open(shard_path));
      slot = shard_slot.emplace(shard_name, ckpt.files_.size() - 1).first;
    }
    if (!ckpt.files_[slot->second]->has(name))
      throw InputError(file + ": tensor '" + name + "' is listed in shard " +
                       ckpt.files_[slot->second]->path() + ", which has no such tensor");
    ckpt.where_[name] = slot->second;
  }
  return ckpt;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, slot] : where_) out.push_back(name);  // std::map: already sorted
  return out;
}

bool SafetensorsCheckpoint::has(const std::string& name) const { return where_.count(name) > 0; }

void SafetensorsCheckpoint::release(const std::string& name) const {
  const auto it = where_.find(name);
  if (it != where_.end()) files_[it->second]->release(name);
}

const std::string& SafetensorsCheckpoint::file_of(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end()) throw InputError(path_ + ": no tensor named '" + name + "'");
  return files_[it->second]->path();
}

const TensorInfo& SafetensorsCheckpoint::info(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end()) throw InputError(path_ + ": no tensor named '" + name + "'");
  return files_[it->second]->info(name);
}

at::Tensor SafetensorsCheckpoint::tensor(const std::string& name) const {
  const auto it = where_.find(name);
  if (it == where_.end()) throw InputError(path_ + ": no tensor named '" + name + "'");
  return files_[it->second]->tensor(name);
}

}  // namespace saescope::io
