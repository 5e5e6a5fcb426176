#pragma once
// A restricted unpickler: the promise of torch.load(weights_only=True) without
// Python. It interprets pickle opcodes (protocols 2 to 5) into PickleValues
// and never calls anything: GLOBAL and STACK_GLOBAL may name only
// collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// _rebuild_parameter, _rebuild_parameter_with_state and the torch storage
// classes; any other global is refused when its opcode is read, before
// anything could use it. REDUCE and NEWOBJ are interpreted for those callables
// only; BUILD only onto a dict (a state dict's _metadata, ignored).
// Nesting over 1000 levels, memo references to nothing, truncated data,
// unknown opcodes and containers that hold themselves are refused too: every
// refusal is an InputError naming `where` and the opcode or global.
#include <c10/core/ScalarType.h>

#include <functional>
#include <string>

#include "core/io/pickle_value.h"

namespace saescope::io {

// Resolves a persistent id ('storage', <storage class>, key, location, numel):
// a 1-D CPU tensor of `numel` elements of `dtype` holding storage `key`.
using StorageLoader = std::function<at::Tensor(const std::string& key, c10::ScalarType dtype, int64_t numel)>;

constexpr int kMaxPickleNesting = 1000;

PickleValue unpickle_weights(const std::string& pickle, const std::string& where, const StorageLoader& load_storage);

}  // namespace saescope::io
