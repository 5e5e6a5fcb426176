// Weights-only unpickling (core/io/weights_unpickler.h, torch_pt.h): an input
// starting "PK" is a whole torch.save file for read_torch_pt and
// read_torch_pt_dict; any other input is raw pickle bytes for unpickle_weights,
// whose storage loader returns zeros (refusing, as the .pt reader does for a
// storage its file does not hold, more than 2^20 elements).
#include <ATen/ATen.h>

#include "bench/fuzz/fuzz_common.h"
#include "core/io/torch_pt.h"
#include "core/io/weights_unpickler.h"

namespace {
using saescope::io::PickleValue;

// Reads every part of the value, as a caller would.
void walk(const PickleValue& v, int depth) {
  if (depth > 2 * saescope::io::kMaxPickleNesting) std::abort();
  (void)v.kind_name();
  switch (v.kind()) {
    case PickleValue::Kind::Tensor: (void)v.as_tensor().clone(); break;
    case PickleValue::Kind::List:
    case PickleValue::Kind::Tuple:
      for (const PickleValue& item : v.items()) walk(item, depth + 1);
      break;
    case PickleValue::Kind::Dict:
      for (const auto& [k, item] : v.dict_items()) {
        walk(k, depth + 1);
        walk(item, depth + 1);
      }
      break;
    default: break;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  saescope::fuzz::expect_input_errors_only([&] {
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
      const std::string& path = saescope::fuzz::write_temp(data, size, "pt");
      walk(saescope::io::read_torch_pt(path), 0);
      saescope::fuzz::expect_input_errors_only([&] {
        for (const auto& [key, t] : saescope::io::read_torch_pt_dict(path).tensors) (void)t.clone();
      });
    } else {
      const std::string bytes(reinterpret_cast<const char*>(data), size);
      const auto load = [](const std::string& key, c10::ScalarType dtype, int64_t numel) {
        if (numel < 0 || numel > (int64_t(1) << 20))
          throw saescope::InputError("fuzz: storage '" + key + "' of " + std::to_string(numel) + " elements");
        return at::zeros({numel}, at::TensorOptions().dtype(dtype));
      };
      walk(saescope::io::unpickle_weights(bytes, "fuzz.pkl", load), 0);
    }
  });
  return 0;
}
