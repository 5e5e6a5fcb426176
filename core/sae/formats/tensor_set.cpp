#include "core/sae/formats/tensor_set.h"

#include <ATen/ATen.h>

#include "core/common/error.h"
#include "core/io/safetensors.h"

namespace saescope::sae {

std::string shape_string(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

TensorSet::TensorSet(std::string file, std::vector<std::pair<std::string, at::Tensor>> tensors)
    : file_(std::move(file)), tensors_(std::move(tensors)), taken_(tensors_.size(), false) {}

TensorSet TensorSet::from_safetensors(const std::string& path) {
  auto f = io::SafetensorsFile::open(path);
  std::vector<std::pair<std::string, at::Tensor>> ts;
  for (const auto& info : f->tensors()) ts.emplace_back(info.name, f->tensor(info.name));
  return TensorSet(path, std::move(ts));
}

bool TensorSet::has(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.first == name) return true;
  return false;
}

at::Tensor TensorSet::take_optional(std::initializer_list<const char*> names) {
  for (const char* n : names)
    for (size_t i = 0; i < tensors_.size(); ++i) {
      if (tensors_[i].first != n) continue;
      const at::Tensor& t = tensors_[i].second;
      if (!t.is_floating_point())
        throw InputError(file_ + ": tensor `" + n + "` is not floating point (" +
                         std::string(c10::toString(t.scalar_type())) + ")");
      taken_[i] = true;
      // A copy: the file's mapping must not be written through.
      return t.to(at::kFloat).clone();
    }
  return {};
}

at::Tensor TensorSet::take_raw(const std::string& name) {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].first == name) {
      taken_[i] = true;
      return tensors_[i].second;
    }
  return {};
}

at::Tensor TensorSet::take(std::initializer_list<const char*> names) {
  at::Tensor t = take_optional(names);
  if (t.defined()) return t;
  std::string msg = file_ + ": no tensor `" + *names.begin() + "`";
  if (names.size() > 1) {
    msg += " (nor";
    for (auto it = names.begin() + 1; it != names.end(); ++it) msg += std::string(" `") + *it + "`";
    msg += ")";
  }
  msg += "; it holds:";
  for (const auto& p : tensors_) msg += " " + p.first + shape_string(p.second.sizes());
  throw InputError(msg);
}

void TensorSet::expect_shape(const at::Tensor& t, const char* name, std::vector<int64_t> shape) const {
  if (t.sizes() != at::IntArrayRef(shape))
    throw InputError(file_ + ": tensor `" + name + "` has shape " + shape_string(t.sizes()) + ", expected " +
                     shape_string(shape));
}

std::string TensorSet::stored_dtype(const std::string& name) const {
  for (const auto& t : tensors_) {
    if (t.first != name) continue;
    switch (t.second.scalar_type()) {
      case at::kHalf: return "float16";
      case at::kBFloat16: return "bfloat16";
      case at::kDouble: return "float64";
      default: return "float32";
    }
  }
  return "float32";
}

void TensorSet::expect_all_taken(const std::string& what) const {
  std::string extra;
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (!taken_[i]) extra += (extra.empty() ? "`" : ", `") + tensors_[i].first + "`";
  if (!extra.empty())
    throw InputError(file_ + ": tensors " + extra + " do not belong to " + what);
}

}  // namespace saescope::sae
