// The torch.save container around the pickle: the archive folder name, the
// byte order, the legacy format's refusal, and storages loaded from
// `<archive>/data/<key>` for the unpickler. Layout: torch/serialization.py
// (_save, _load) and caffe2/serialize/inline_container.cc.
#include "core/io/torch_pt.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <map>

#include "core/common/error.h"
#include "core/io/weights_unpickler.h"
#include "core/io/zip_archive.h"

namespace saescope::io {
namespace {

// The legacy format opens with a pickled magic number: PROTO n, then LONG1 of
// 10 bytes holding 0x1950a86a20f9469cfc6c.
bool is_legacy_torch_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[14] = {};
  if (!in.read(head, sizeof head)) return false;
  static const unsigned char magic[] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  return static_cast<unsigned char>(head[0]) == 0x80 && std::memcmp(head + 2, magic, sizeof magic) == 0;
}

// torch names every member `<archive>/...`, the archive being the first
// member's folder (the file's stem in torch 1.x, "archive" in some 2.x).
std::string archive_folder(const ZipArchive& zip) {
  const std::vector<std::string> names = zip.names();
  const std::string first = names.empty() ? "" : names.front();
  const size_t slash = first.find('/');
  const std::string folder = slash == std::string::npos ? "" : first.substr(0, slash);
  if (folder.empty() || !zip.has(folder + "/data.pkl")) {
    std::string listed;
    for (size_t i = 0; i < names.size() && i < 5; ++i) listed += (i ? ", " : "") + names[i];
    throw InputError(zip.path() + ": a zip archive but not a torch.save file (no <archive>/data.pkl member; it holds " +
                     (names.empty() ? std::string("nothing") : listed + (names.size() > 5 ? ", ..." : "")) + ")");
  }
  return folder;
}

}  // namespace

PickleValue read_torch_pt(const std::string& path) {
  if (!looks_like_zip(path) && is_legacy_torch_file(path))
    throw InputError(path + ": a PyTorch file in the legacy (pre-1.6) format, which is not read; re-save it with "
                            "torch.save in a current PyTorch");
  const auto zip = ZipArchive::open(path);
  const std::string folder = archive_folder(*zip);
  if (zip->has(folder + "/byteorder")) {
    const std::string order = zip->read(folder + "/byteorder");
    if (order != "little")
      throw InputError(path + ": written with byte order '" + order.substr(0, 16) + "'; only little-endian files are read");
  }

  // One copy of each storage's bytes; every tensor (and dtype) of that
  // storage is a view of it, as in torch.load.
  std::map<std::string, at::Tensor> bytes_of;
  const StorageLoader load = [&](const std::string& key, c10::ScalarType dtype, int64_t numel) {
    const std::string member = folder + "/data/" + key;
    if (key.empty() || key.find('/') != std::string::npos || !zip->has(member))
      throw InputError(path + ": the pickle refers to storage '" + key + "', which the file does not hold");
    auto it = bytes_of.find(key);
    if (it == bytes_of.end()) {
      const std::string raw = zip->read(member);
      at::Tensor t = at::empty({int64_t(raw.size())}, at::kByte);
      if (!raw.empty()) std::memcpy(t.data_ptr(), raw.data(), raw.size());  // an empty tensor has no buffer
      it = bytes_of.emplace(key, t).first;
    }
    at::Tensor raw = it->second;
    const uint64_t item = c10::elementSize(dtype);
    uint64_t want = 0;
    if (__builtin_mul_overflow(uint64_t(numel), item, &want) || want != uint64_t(raw.numel()))
      throw InputError(path + ": storage '" + key + "' holds " + std::to_string(raw.numel()) + " bytes, not the " +
                       std::to_string(numel) + " x " + std::to_string(item) + " its tensors need");
    if (dtype == at::kBool)  // a bool byte other than 0 or 1 is undefined behaviour in LibTorch
      raw.copy_(raw.ne(0));
    return dtype == at::kByte ? raw : raw.view(dtype);
  };
  return unpickle_weights(zip->read(folder + "/data.pkl"), path, load);
}

TorchPtDict read_torch_pt_dict(const std::string& path) {
  const PickleValue top = read_torch_pt(path);
  if (!top.is(PickleValue::Kind::Dict))
    throw InputError(path + ": holds a " + std::string(top.kind_name()) + ", not a dict of named tensors");
  TorchPtDict out;
  for (const auto& [key, value] : top.dict_items()) {
    if (!key.is(PickleValue::Kind::String))
      throw InputError(path + ": the top-level dict has a key of type " + std::string(key.kind_name()) +
                       " (" + (key.is(PickleValue::Kind::Int) ? std::to_string(key.as_int()) : "") +
                       "); a dict of named tensors has string keys");
    if (value.is(PickleValue::Kind::Tensor))
      out.tensors.emplace_back(key.as_string(), value.as_tensor());
    else
      out.others.emplace_back(key.as_string(), value);
  }
  return out;
}

}  // namespace saescope::io
