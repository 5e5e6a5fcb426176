#include "core/io/pickle_value.h"

#include "core/common/error.h"

namespace saescope::io {

PickleValue PickleValue::boolean(bool v) {
  PickleValue p;
  p.kind_ = Kind::Bool;
  p.bool_ = v;
  return p;
}

PickleValue PickleValue::integer(int64_t v) {
  PickleValue p;
  p.kind_ = Kind::Int;
  p.int_ = v;
  return p;
}

PickleValue PickleValue::real(double v) {
  PickleValue p;
  p.kind_ = Kind::Float;
  p.float_ = v;
  return p;
}

PickleValue PickleValue::string(std::string v) {
  PickleValue p;
  p.kind_ = Kind::String;
  p.string_ = std::move(v);
  return p;
}

PickleValue PickleValue::tensor(at::Tensor v) {
  PickleValue p;
  p.kind_ = Kind::Tensor;
  p.tensor_ = std::move(v);
  return p;
}

PickleValue PickleValue::list(Items items) {
  PickleValue p;
  p.kind_ = Kind::List;
  p.items_ = std::make_shared<const Items>(std::move(items));
  return p;
}

PickleValue PickleValue::tuple(Items items) {
  PickleValue p = list(std::move(items));
  p.kind_ = Kind::Tuple;
  return p;
}

PickleValue PickleValue::dict(DictItems items) {
  PickleValue p;
  p.kind_ = Kind::Dict;
  p.dict_ = std::make_shared<const DictItems>(std::move(items));
  return p;
}

const char* PickleValue::kind_name() const {
  switch (kind_) {
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Tensor: return "Tensor";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
  }
  return "?";
}

void PickleValue::expect(Kind k, const char* what) const {
  if (kind_ != k) throw InternalError(std::string("PickleValue::") + what + " on a " + kind_name());
}

bool PickleValue::as_bool() const { return expect(Kind::Bool, "as_bool"), bool_; }
int64_t PickleValue::as_int() const { return expect(Kind::Int, "as_int"), int_; }
double PickleValue::as_float() const {
  if (kind_ == Kind::Int) return double(int_);
  return expect(Kind::Float, "as_float"), float_;
}
const std::string& PickleValue::as_string() const { return expect(Kind::String, "as_string"), string_; }
const at::Tensor& PickleValue::as_tensor() const { return expect(Kind::Tensor, "as_tensor"), tensor_; }

const PickleValue::Items& PickleValue::items() const {
  if (kind_ != Kind::Tuple) expect(Kind::List, "items");
  return *items_;
}

const PickleValue::DictItems& PickleValue::dict_items() const {
  return expect(Kind::Dict, "dict_items"), *dict_;
}

const PickleValue* PickleValue::find(const std::string& key) const {
  if (kind_ != Kind::Dict) return nullptr;
  for (const auto& [k, v] : *dict_)
    if (k.kind_ == Kind::String && k.string_ == key) return &v;
  return nullptr;
}

}  // namespace saescope::io
