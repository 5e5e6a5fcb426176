#pragma once
// Weights-only reading of torch.save files (OpenAI's GPT-2 SAEs,
// dictionary_learning's ae.pt): what torch.load(weights_only=True) promises,
// without Python. The file is a zip holding `<archive>/data.pkl` (a pickle,
// read by the restricted unpickler of weights_unpickler.h: foreign globals
// such as os.system are refused when named, nothing is ever called) and each
// storage's bytes as `<archive>/data/<key>`. Tensors are rebuilt on the CPU
// (the saved device is ignored) as views of a copy of their storage, so two
// tensors saved from one storage share it here too; every view is
// bounds-checked against its storage. Refused with an InputError naming the
// file: the legacy pre-1.6 format, big-endian files, a missing data.pkl or
// storage, a storage of the wrong size, a view holding more elements than its
// storage (an expanded, stride-0 tensor), and everything the unpickler refuses.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "core/io/pickle_value.h"

namespace saescope::io {

// The unpickled top-level object (usually a Dict: a state dict).
PickleValue read_torch_pt(const std::string& path);

// A file whose top level is a dict with string keys (a state dict, or a dict
// of tensors and settings): its tensor entries and the other entries, each in
// file order. InputError naming the file for any other top level.
struct TorchPtDict {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  std::vector<std::pair<std::string, PickleValue>> others;
};
TorchPtDict read_torch_pt_dict(const std::string& path);

}  // namespace saescope::io
