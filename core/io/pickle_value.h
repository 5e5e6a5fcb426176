#pragma once
// A value read from a weights-only pickle (see torch_pt.h): the handful of
// Python types a torch.save state dict is made of, and nothing that could
// run code. Immutable once built; containers share their items, so a copy is
// cheap and an object the pickle refers to twice is one object here too.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace saescope::io {

class PickleValue {
 public:
  enum class Kind { None, Bool, Int, Float, String, Tensor, List, Tuple, Dict };
  using Items = std::vector<PickleValue>;
  using DictItems = std::vector<std::pair<PickleValue, PickleValue>>;  // in insertion order

  PickleValue() = default;  // None
  static PickleValue boolean(bool v);
  static PickleValue integer(int64_t v);
  static PickleValue real(double v);
  static PickleValue string(std::string v);
  static PickleValue tensor(at::Tensor v);
  static PickleValue list(Items items);
  static PickleValue tuple(Items items);
  static PickleValue dict(DictItems items);  // keys: String or Int

  Kind kind() const { return kind_; }
  bool is(Kind k) const { return kind_ == k; }
  const char* kind_name() const;  // Python's name: "NoneType", "int", "dict", ... ("Tensor")

  // Each accessor throws InternalError when the value is of another kind:
  // callers check kind() first and tell the user what the file holds instead.
  bool as_bool() const;
  int64_t as_int() const;
  double as_float() const;  // a Float; an Int converts
  const std::string& as_string() const;
  const at::Tensor& as_tensor() const;
  const Items& items() const;          // List or Tuple
  const DictItems& dict_items() const; // Dict
  // The Dict's value under a string key, or nullptr (also for non-dicts).
  const PickleValue* find(const std::string& key) const;

 private:
  void expect(Kind k, const char* what) const;
  Kind kind_ = Kind::None;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string string_;
  at::Tensor tensor_;
  std::shared_ptr<const Items> items_;
  std::shared_ptr<const DictItems> dict_;
};

}  // namespace saescope::io
