// The restricted pickle machine. Values live as shared Objs while the pickle
// runs (the memo and APPEND/SETITEM need Python's reference semantics), then
// the result is converted into immutable PickleValues with its depth checked,
// and every container is emptied so that a hostile cycle or chain is freed
// without recursion. Opcode meanings: CPython's Lib/pickle.py and pickletools.
#include "core/io/weights_unpickler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "core/common/error.h"

namespace saescope::io {
namespace {

// What GLOBAL may name. Storage classes carry the dtype of their bytes.
enum class Global { OrderedDict, RebuildTensorV2, RebuildParameter, RebuildParameterWithState, Storage };

struct AllowedGlobal {
  const char* module;
  const char* name;
  Global global;
  c10::ScalarType dtype;
};

constexpr AllowedGlobal kAllowed[] = {
    {"collections", "OrderedDict", Global::OrderedDict, c10::ScalarType::Undefined},
    {"torch._utils", "_rebuild_tensor_v2", Global::RebuildTensorV2, c10::ScalarType::Undefined},
    {"torch._utils", "_rebuild_parameter", Global::RebuildParameter, c10::ScalarType::Undefined},
    {"torch._utils", "_rebuild_parameter_with_state", Global::RebuildParameterWithState, c10::ScalarType::Undefined},
    {"torch", "FloatStorage", Global::Storage, c10::ScalarType::Float},
    {"torch", "DoubleStorage", Global::Storage, c10::ScalarType::Double},
    {"torch", "HalfStorage", Global::Storage, c10::ScalarType::Half},
    {"torch", "BFloat16Storage", Global::Storage, c10::ScalarType::BFloat16},
    {"torch", "LongStorage", Global::Storage, c10::ScalarType::Long},
    {"torch", "IntStorage", Global::Storage, c10::ScalarType::Int},
    {"torch", "ShortStorage", Global::Storage, c10::ScalarType::Short},
    {"torch", "CharStorage", Global::Storage, c10::ScalarType::Char},
    {"torch", "ByteStorage", Global::Storage, c10::ScalarType::Byte},
    {"torch", "BoolStorage", Global::Storage, c10::ScalarType::Bool},
    // torch 2.x pickles a raw (untyped) storage by its class; its numel is bytes.
    {"torch", "UntypedStorage", Global::Storage, c10::ScalarType::Byte},
    {"torch.storage", "UntypedStorage", Global::Storage, c10::ScalarType::Byte},
};

constexpr size_t kMaxMemo = size_t(1) << 24;
constexpr size_t kMaxStack = size_t(1) << 24;
constexpr size_t kMaxDims = 64;

struct Obj;
using ObjPtr = std::shared_ptr<Obj>;

struct Obj {
  enum class Kind { None, Bool, Int, Float, String, Tensor, List, Tuple, Dict, Global, Storage } kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                 // String; for Global, "module.name"
  at::Tensor t;                  // Tensor; Storage (1-D)
  const AllowedGlobal* global = nullptr;
  std::vector<ObjPtr> items;     // List, Tuple
  std::vector<std::pair<ObjPtr, ObjPtr>> entries;       // Dict
  std::unordered_map<std::string, size_t> key_index;    // Dict: encoded key -> entry
};

const char* kind_name(const Obj& o) {
  switch (o.kind) {
    case Obj::Kind::None: return "None";
    case Obj::Kind::Bool: return "bool";
    case Obj::Kind::Int: return "int";
    case Obj::Kind::Float: return "float";
    case Obj::Kind::String: return "str";
    case Obj::Kind::Tensor: return "tensor";
    case Obj::Kind::List: return "list";
    case Obj::Kind::Tuple: return "tuple";
    case Obj::Kind::Dict: return "dict";
    case Obj::Kind::Global: return "class or function";
    case Obj::Kind::Storage: return "storage";
  }
  return "?";
}

std::string opcode_text(uint8_t op) {
  char buf[32];
  if (op >= 0x20 && op < 0x7f)
    std::snprintf(buf, sizeof buf, "0x%02x ('%c')", op, op);
  else
    std::snprintf(buf, sizeof buf, "0x%02x", op);
  return buf;
}

// Names of opcodes that exist but are not read, for a clearer refusal.
const char* unsupported_name(uint8_t op) {
  switch (op) {
    case 'I': return "INT"; case 'L': return "LONG"; case 'S': return "STRING"; case 'V': return "UNICODE";
    case 'F': return "FLOAT"; case 'P': return "PERSID"; case 'o': return "OBJ"; case 'i': return "INST";
    case 'p': return "PUT"; case 'g': return "GET"; case 'B': return "BINBYTES"; case 'C': return "SHORT_BINBYTES";
    case 0x82: return "EXT1"; case 0x83: return "EXT2"; case 0x84: return "EXT4"; case 0x8b: return "LONG4";
    case 0x8e: return "BINBYTES8"; case 0x8f: return "EMPTY_SET"; case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET"; case 0x92: return "NEWOBJ_EX"; case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER"; case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

class Unpickler {
 public:
  Unpickler(const std::string& data, const std::string& where, const StorageLoader& load)
      : data_(data), where_(where), load_(load) {}

  // Empties every container first: their Objs then die one by one, however
  // the pickle linked them (cycles, million-deep chains).
  ~Unpickler() {
    for (const ObjPtr& c : containers_) {
      c->items.clear();
      c->entries.clear();
    }
  }

  PickleValue run();

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(where_ + ": pickle: " + what + " (opcode " + opcode_text(op_) + " at offset " +
                     std::to_string(op_pos_) + ")");
  }

  const uint8_t* take(uint64_t n) {
    if (n > data_.size() - pos_) fail("the data ends inside this opcode's argument (truncated)");
    const auto* p = reinterpret_cast<const uint8_t*>(data_.data()) + pos_;
    pos_ += n;
    return p;
  }
  uint64_t take_le(int n) {
    const uint8_t* p = take(uint64_t(n));
    uint64_t v = 0;
    for (int b = 0; b < n; ++b) v |= uint64_t(p[b]) << (8 * b);
    return v;
  }
  std::string take_string(uint64_t n) { return std::string(reinterpret_cast<const char*>(take(n)), n); }
  std::string take_line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string::npos || end - pos_ > 256) fail("GLOBAL's module or name is not a line of text");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  ObjPtr make(Obj::Kind kind) {
    auto o = std::make_shared<Obj>();
    o->kind = kind;
    if (kind == Obj::Kind::List || kind == Obj::Kind::Tuple || kind == Obj::Kind::Dict) containers_.push_back(o);
    return o;
  }
  void push(ObjPtr o) {
    if (stack_.size() >= kMaxStack) fail("stack holds more than 2^24 items");
    stack_.push_back(std::move(o));
  }
  ObjPtr pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back())) fail("pops from an empty stack");
    ObjPtr o = std::move(stack_.back());
    stack_.pop_back();
    return o;
  }
  ObjPtr& top() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back())) fail("uses the top of an empty stack");
    return stack_.back();
  }
  // The items pushed since the last MARK, which is removed.
  std::vector<ObjPtr> pop_to_mark() {
    if (marks_.empty()) fail("needs a MARK and there is none");
    const size_t at = marks_.back();
    marks_.pop_back();
    std::vector<ObjPtr> items(std::make_move_iterator(stack_.begin() + long(at)), std::make_move_iterator(stack_.end()));
    stack_.resize(at);
    return items;
  }
  ObjPtr& expect(ObjPtr& o, Obj::Kind kind, const char* what) {
    if (o->kind != kind) fail(std::string(what) + " onto a " + kind_name(*o) + ", which a weights file never does");
    return o;
  }

  ObjPtr tuple(std::vector<ObjPtr> items) {
    ObjPtr t = make(Obj::Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  void set_item(Obj& dict, ObjPtr key, ObjPtr value);
  void memo_put(uint64_t index) {
    if (memo_.size() >= kMaxMemo && !memo_.count(index)) fail("memo holds more than 2^24 objects");
    memo_[index] = top();
  }
  ObjPtr memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo index " + std::to_string(index) + " refers to nothing stored");
    return it->second;
  }

  void global(const std::string& module, const std::string& name);
  ObjPtr persistent_load(const ObjPtr& pid);
  ObjPtr reduce(const ObjPtr& callable, const ObjPtr& args);
  ObjPtr rebuild_tensor(const std::vector<ObjPtr>& args);
  PickleValue convert(const ObjPtr& o, int depth, int& height);

  const std::string& data_;
  const std::string& where_;
  const StorageLoader& load_;
  size_t pos_ = 0, op_pos_ = 0;
  uint8_t op_ = 0;
  std::vector<ObjPtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ObjPtr> memo_;
  std::vector<ObjPtr> containers_;
  std::unordered_map<const Obj*, std::pair<PickleValue, int>> converted_;
  std::unordered_set<const Obj*> converting_;
};

void Unpickler::set_item(Obj& dict, ObjPtr key, ObjPtr value) {
  std::string code;
  if (key->kind == Obj::Kind::String)
    code = "s" + key->s;
  else if (key->kind == Obj::Kind::Int)
    code = "i" + std::to_string(key->i);
  else
    fail(std::string("a dict key is a ") + kind_name(*key) + "; only str and int keys are read");
  const auto [it, added] = dict.key_index.emplace(code, dict.entries.size());
  if (added)
    dict.entries.emplace_back(std::move(key), std::move(value));
  else
    dict.entries[it->second].second = std::move(value);  // Python: a repeated key replaces the value
}

void Unpickler::global(const std::string& module, const std::string& name) {
  for (const AllowedGlobal& g : kAllowed) {
    if (module == g.module && name == g.name) {
      ObjPtr o = make(Obj::Kind::Global);
      o->global = &g;
      o->s = module + "." + name;
      push(o);
      return;
    }
  }
  fail("refers to the global '" + module + "." + name +
       "'; a weights-only file holds tensors, storages and OrderedDicts only, so it is refused and "
       "nothing in it was run");
}

ObjPtr Unpickler::persistent_load(const ObjPtr& pid) {
  const auto& f = pid->items;
  if (pid->kind != Obj::Kind::Tuple || f.size() != 5 || f[0]->kind != Obj::Kind::String || f[0]->s != "storage" ||
      f[1]->kind != Obj::Kind::Global || f[1]->global->global != Global::Storage ||
      f[2]->kind != Obj::Kind::String || f[3]->kind != Obj::Kind::String || f[4]->kind != Obj::Kind::Int)
    fail("a persistent id that is not ('storage', <storage class>, key, location, numel)");
  if (f[4]->i < 0) fail("storage '" + f[2]->s + "' has a negative size");
  ObjPtr o = make(Obj::Kind::Storage);
  o->t = load_(f[2]->s, f[1]->global->dtype, f[4]->i);
  return o;
}

ObjPtr Unpickler::rebuild_tensor(const std::vector<ObjPtr>& a) {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  const auto all_ints = [](const ObjPtr& t) {
    if (t->kind != Obj::Kind::Tuple || t->items.size() > kMaxDims) return false;
    for (const ObjPtr& v : t->items)
      if (v->kind != Obj::Kind::Int || v->i < 0) return false;
    return true;
  };
  if ((a.size() != 6 && a.size() != 7) || a[0]->kind != Obj::Kind::Storage || a[1]->kind != Obj::Kind::Int ||
      a[1]->i < 0 || !all_ints(a[2]) || !all_ints(a[3]) || a[2]->items.size() != a[3]->items.size() ||
      a[4]->kind != Obj::Kind::Bool || a[5]->kind != Obj::Kind::Dict || (a.size() == 7 && a[6]->kind != Obj::Kind::Dict))
    fail("_rebuild_tensor_v2 with arguments other than (storage, offset, size, stride, requires_grad, hooks)");
  const at::Tensor& storage = a[0]->t;
  std::vector<int64_t> size, stride;
  bool empty = false;
  // The highest element index the view touches must lie inside the storage.
  uint64_t last = uint64_t(a[1]->i);
  bool overflow = false;
  for (size_t d = 0; d < a[2]->items.size(); ++d) {
    size.push_back(a[2]->items[d]->i);
    stride.push_back(a[3]->items[d]->i);
    if (size.back() == 0) empty = true;
    uint64_t reach = 0;
    overflow |= __builtin_mul_overflow(uint64_t(size.back() ? size.back() - 1 : 0), uint64_t(stride.back()), &reach);
    overflow |= __builtin_add_overflow(last, reach, &last);
  }
  const uint64_t numel = uint64_t(storage.numel());
  if (empty ? uint64_t(a[1]->i) > numel : (overflow || last >= numel))
    fail("a tensor of size " + c10::str(at::IntArrayRef(size)) + ", stride " + c10::str(at::IntArrayRef(stride)) +
         " at offset " + std::to_string(a[1]->i) + " reaches past its storage of " + std::to_string(numel) + " elements");
  // A view can hold more elements than its storage only by reading some twice
  // (stride 0: an expanded tensor). Weights never are; a few bytes of pickle
  // could otherwise make a tensor that the first copy of it allocates
  // terabytes for.
  uint64_t view_numel = 1;
  bool view_overflow = false;
  for (int64_t s : size) view_overflow |= __builtin_mul_overflow(view_numel, uint64_t(s), &view_numel);
  if (!empty && (view_overflow || view_numel > numel))
    fail("a tensor of size " + c10::str(at::IntArrayRef(size)) + ", stride " + c10::str(at::IntArrayRef(stride)) +
         " holds more elements than its storage of " + std::to_string(numel) +
         " (an expanded or overlapping view; weights files hold none)");
  ObjPtr o = make(Obj::Kind::Tensor);
  o->t = empty ? at::empty(size, storage.options()) : storage.as_strided(size, stride, a[1]->i);
  return o;
}

ObjPtr Unpickler::reduce(const ObjPtr& callable, const ObjPtr& args) {
  if (callable->kind != Obj::Kind::Global) fail(std::string("calls a ") + kind_name(*callable) + ", not a function");
  if (args->kind != Obj::Kind::Tuple) fail("calls " + callable->s + " with arguments that are not a tuple");
  const auto& a = args->items;
  switch (callable->global->global) {
    case Global::OrderedDict:
      if (!a.empty()) fail("calls collections.OrderedDict with arguments; a weights file builds it empty");
      return make(Obj::Kind::Dict);
    case Global::RebuildTensorV2:
      return rebuild_tensor(a);
    case Global::RebuildParameter:
    case Global::RebuildParameterWithState: {
      // (tensor, requires_grad, backward_hooks[, state]): the tensor is the weight.
      const size_t n = callable->global->global == Global::RebuildParameter ? 3 : 4;
      if (a.size() != n || a[0]->kind != Obj::Kind::Tensor || a[1]->kind != Obj::Kind::Bool || a[2]->kind != Obj::Kind::Dict)
        fail("calls " + callable->s + " with arguments other than (tensor, requires_grad, hooks)");
      return a[0];
    }
    case Global::Storage:
      break;
  }
  fail("calls " + callable->s + ", which a weights file never calls");
}

// `height`: how many container levels the value spans (0 for a scalar). A
// container seen before is reused, not copied, so shared items stay shared and
// a pickle of repeated references cannot blow up; its height still counts.
PickleValue Unpickler::convert(const ObjPtr& o, int depth, int& height) {
  height = 0;
  switch (o->kind) {
    case Obj::Kind::None: return PickleValue();
    case Obj::Kind::Bool: return PickleValue::boolean(o->b);
    case Obj::Kind::Int: return PickleValue::integer(o->i);
    case Obj::Kind::Float: return PickleValue::real(o->f);
    case Obj::Kind::String: return PickleValue::string(o->s);
    case Obj::Kind::Tensor: return PickleValue::tensor(o->t);
    case Obj::Kind::Global: fail("the result holds " + o->s + " itself, not a value");
    case Obj::Kind::Storage: fail("the result holds a bare storage, not a tensor");
    default: break;
  }
  const std::string too_deep = "values nested more than " + std::to_string(kMaxPickleNesting) + " levels deep";
  if (const auto it = converted_.find(o.get()); it != converted_.end()) {
    height = it->second.second;
    if (depth + height > kMaxPickleNesting) fail(too_deep);
    return it->second.first;
  }
  if (depth + 1 > kMaxPickleNesting) fail(too_deep);
  if (!converting_.insert(o.get()).second) fail(std::string("a ") + kind_name(*o) + " holds itself");
  int child = 0;
  PickleValue out;
  if (o->kind == Obj::Kind::Dict) {
    PickleValue::DictItems items;
    for (const auto& [k, v] : o->entries) {
      PickleValue key = convert(k, depth + 1, child);
      items.emplace_back(std::move(key), convert(v, depth + 1, child));
      height = std::max(height, child);
    }
    out = PickleValue::dict(std::move(items));
  } else {
    PickleValue::Items items;
    for (const ObjPtr& v : o->items) {
      items.push_back(convert(v, depth + 1, child));
      height = std::max(height, child);
    }
    out = o->kind == Obj::Kind::List ? PickleValue::list(std::move(items)) : PickleValue::tuple(std::move(items));
  }
  ++height;
  converting_.erase(o.get());
  converted_.emplace(o.get(), std::make_pair(out, height));
  return out;
}

PickleValue Unpickler::run() {
  using K = Obj::Kind;
  while (true) {
    op_pos_ = pos_;
    if (pos_ >= data_.size())
      throw InputError(where_ + ": pickle: ends at offset " + std::to_string(pos_) + " without STOP (truncated)");
    op_ = uint8_t(data_[pos_++]);
    switch (op_) {
      case 0x80: {  // PROTO
        const uint64_t v = take_le(1);
        if (v < 2 || v > 5) fail("pickle protocol " + std::to_string(v) + " (2 to 5 are read)");
        break;
      }
      case 0x95: {  // FRAME: a length prefix for buffering, no meaning of its own
        if (take_le(8) > data_.size() - pos_) fail("a FRAME longer than the rest of the pickle (truncated)");
        break;
      }
      case '.': {  // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack, not 1");
        int height = 0;
        return convert(stack_.back(), 0, height);
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '0':  // POP: the top item, or an open MARK when no item is above it
        if (!marks_.empty() && stack_.size() == marks_.back())
          marks_.pop_back();
        else
          pop();
        break;
      case '1': pop_to_mark(); break;  // POP_MARK
      case '2': push(top()); break;    // DUP
      case '}': push(make(K::Dict)); break;
      case ']': push(make(K::List)); break;
      case ')': push(make(K::Tuple)); break;
      case 't': push(tuple(pop_to_mark())); break;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        std::vector<ObjPtr> items(size_t(op_ - 0x84));
        for (size_t k = items.size(); k-- > 0;) items[k] = pop();
        push(tuple(std::move(items)));
        break;
      }
      case 'l': {  // LIST
        ObjPtr l = make(K::List);
        l->items = pop_to_mark();
        push(l);
        break;
      }
      case 'd': {  // DICT
        std::vector<ObjPtr> items = pop_to_mark();
        if (items.size() % 2) fail("DICT with an odd number of items");
        ObjPtr d = make(K::Dict);
        for (size_t k = 0; k < items.size(); k += 2) set_item(*d, items[k], items[k + 1]);
        push(d);
        break;
      }
      case 'a': {  // APPEND
        ObjPtr v = pop();
        expect(top(), K::List, "APPEND")->items.push_back(std::move(v));
        break;
      }
      case 'e': {  // APPENDS
        std::vector<ObjPtr> items = pop_to_mark();
        auto& dst = expect(top(), K::List, "APPENDS")->items;
        dst.insert(dst.end(), items.begin(), items.end());
        break;
      }
      case 's': {  // SETITEM
        ObjPtr v = pop(), k = pop();
        set_item(*expect(top(), K::Dict, "SETITEM"), std::move(k), std::move(v));
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<ObjPtr> items = pop_to_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        Obj& d = *expect(top(), K::Dict, "SETITEMS");
        for (size_t k = 0; k < items.size(); k += 2) set_item(d, items[k], items[k + 1]);
        break;
      }
      case 'q': memo_put(take_le(1)); break;  // BINPUT
      case 'r': memo_put(take_le(4)); break;  // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
      case 'h': push(memo_get(take_le(1))); break;  // BINGET
      case 'j': push(memo_get(take_le(4))); break;  // LONG_BINGET
      case 'J': case 'K': case 'M': {  // BININT (signed 4), BININT1, BININT2
        ObjPtr o = make(K::Int);
        o->i = op_ == 'J' ? int64_t(int32_t(uint32_t(take_le(4)))) : int64_t(take_le(op_ == 'K' ? 1 : 2));
        push(o);
        break;
      }
      case 0x8a: {  // LONG1: little-endian two's complement of n bytes
        const uint64_t n = take_le(1);
        if (n > 8) fail("an integer of " + std::to_string(n) + " bytes, more than int64 holds");
        uint64_t v = n ? take_le(int(n)) : 0;
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
        ObjPtr o = make(K::Int);
        o->i = int64_t(v);
        push(o);
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int b = 0; b < 8; ++b) bits = bits << 8 | p[b];
        ObjPtr o = make(K::Float);
        std::memcpy(&o->f, &bits, 8);
        push(o);
        break;
      }
      case 'N': push(make(K::None)); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        ObjPtr o = make(K::Bool);
        o->b = op_ == 0x88;
        push(o);
        break;
      }
      case 'X': case 0x8c: case 0x8d: case 'T': case 'U': {  // BINUNICODE(8), SHORT_BINUNICODE, (SHORT_)BINSTRING
        const int width = op_ == 0x8c || op_ == 'U' ? 1 : op_ == 0x8d ? 8 : 4;
        uint64_t n = take_le(width);
        if (op_ == 'T' && n > 0x7FFFFFFF) fail("a BINSTRING of negative length");
        ObjPtr o = make(K::String);
        o->s = take_string(n);
        push(o);
        break;
      }
      case 'c': {  // GLOBAL module\nname\n
        const std::string module = take_line();
        global(module, take_line());
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        ObjPtr name = pop(), module = pop();
        if (name->kind != K::String || module->kind != K::String) fail("STACK_GLOBAL of values that are not strings");
        global(module->s, name->s);
        break;
      }
      case 'Q': push(persistent_load(pop())); break;  // BINPERSID
      case 'R': {  // REDUCE: callable(*args), for the allowed callables only
        ObjPtr args = pop(), callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 0x81: {  // NEWOBJ: cls.__new__(cls, *args); only OrderedDict
        ObjPtr args = pop(), cls = pop();
        if (cls->kind != K::Global || cls->global->global != Global::OrderedDict)
          fail("NEWOBJ of " + (cls->kind == K::Global ? cls->s : std::string("a ") + kind_name(*cls)) +
               "; only collections.OrderedDict is created");
        push(reduce(cls, args));
        break;
      }
      case 'b': {  // BUILD: obj.__setstate__(state); only a dict's (ignored) attributes
        pop();
        expect(top(), K::Dict, "BUILD (setting an object's state)");
        break;
      }
      default: {
        const char* name = unsupported_name(op_);
        fail(name ? std::string("opcode ") + name + " is not read by a weights-only reader"
                  : std::string("an unknown opcode"));
      }
    }
  }
}

}  // namespace

PickleValue unpickle_weights(const std::string& pickle, const std::string& where, const StorageLoader& load_storage) {
  return Unpickler(pickle, where, load_storage).run();
}

}  // namespace saescope::io
