// safetensors: round trips, zero-copy aliasing, atomic writes, sharded
// checkpoints, every malformation a reader must reject (files built byte by
// byte here), an independent reference file, and the CLI's `tensors`.
#include <ATen/ATen.h>

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/common/error.h"
#include "core/io/safetensors.h"

using saescope::InputError;
using namespace saescope::io;

namespace {

std::string out_dir(const std::string& sub) {
  const std::string dir = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/io/" + sub;
  QDir().mkpath(QString::fromStdString(dir));
  return dir;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A safetensors file written by hand: 8-byte length (the header's own size
// unless `length` overrides it), the header text as given, then `data`.
std::string raw_file(const std::string& name, const std::string& header, const std::string& data,
                     int64_t length = -1) {
  const std::string path = out_dir("bad") + "/" + name;
  const uint64_t n = length < 0 ? header.size() : static_cast<uint64_t>(length);
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  write_bytes(path, bytes + header + data);
  return path;
}

// The InputError message of `f`, or "" when it did not throw one.
template <typename F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

QStringList temp_files_in(const std::string& dir) {
  return QDir(QString::fromStdString(dir)).entryList({"*.tmp-*"}, QDir::Files | QDir::Hidden);
}

}  // namespace

// Checks that `msg` names every one of `parts` (the file, the tensor, the fault).
#define VERIFY_MESSAGE(msg, ...)                                                   \
  do {                                                                             \
    const std::string m_ = (msg);                                                  \
    QVERIFY2(!m_.empty(), "no InputError thrown");                                 \
    for (const std::string& part_ : std::vector<std::string>{__VA_ARGS__})         \
      QVERIFY2(m_.find(part_) != std::string::npos, ("'" + part_ + "' not in: " + m_).c_str()); \
  } while (0)

class TestIo : public QObject {
  Q_OBJECT
 private slots:
  void roundTripEveryDtype() {
    const std::string path = out_dir("roundtrip") + "/all.safetensors";
    const std::vector<at::ScalarType> types = {at::kFloat, at::kHalf,  at::kBFloat16, at::kDouble,
                                               at::kLong,  at::kInt,   at::kShort,    at::kChar,
                                               at::kByte,  at::kBool};
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (auto type : types) {
      const std::string t = c10::toString(type);
      // Values that every dtype holds exactly (bool: alternating).
      at::Tensor base = at::arange(0, 24, at::kDouble).reshape({2, 3, 4}).remainder(7) - 3;
      if (type == at::kBool) base = base.gt(0);
      if (type == at::kByte) base = base + 3;
      tensors.push_back({t + ".matrix", base.to(type)});
      tensors.push_back({t + ".scalar", at::scalar_tensor(1, at::TensorOptions().dtype(type))});
      tensors.push_back({t + ".empty", at::zeros({3, 0, 2}, at::TensorOptions().dtype(type))});
    }
    const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "héllo"}};
    write_safetensors(path, tensors, metadata);

    const auto file = SafetensorsFile::open(path);
    QCOMPARE(file->metadata(), metadata);
    QCOMPARE(file->tensors().size(), tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      const auto& [name, expected] = tensors[i];
      QCOMPARE(file->tensors()[i].name, name);  // file order is the order given
      const at::Tensor got = file->tensor(name);
      QVERIFY2(got.scalar_type() == expected.scalar_type(), name.c_str());
      QVERIFY2(got.sizes() == expected.sizes(), name.c_str());
      QVERIFY2(got.equal(expected), name.c_str());
    }
    QCOMPARE(file->tensor("Float.scalar").dim(), 0);
    QCOMPARE(file->tensor("Float.empty").numel(), 0);
  }

  void headerIsPaddedAndDataContiguous() {
    const std::string path = out_dir("roundtrip") + "/layout.safetensors";
    write_safetensors(path, {{"a", at::ones({3}, at::kChar)}, {"b", at::ones({2}, at::kFloat)}});
    const std::string bytes = read_bytes(path);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    QCOMPARE(n % 8, uint64_t(0));
    QCOMPARE(bytes.size(), size_t(8 + n + 3 + 8));
    QCOMPARE(bytes[8 + n - 1], ' ');  // padded with spaces (the JSON alone is not a multiple of 8)
    const auto file = SafetensorsFile::open(path);
    QCOMPARE(file->info("a").begin, uint64_t(0));
    QCOMPARE(file->info("b").begin, uint64_t(3));
    QCOMPARE(file->info("b").end, uint64_t(11));
  }

  void unalignedDataIsCopiedCorrectly() {
    // "b" starts 3 bytes into an 8-aligned data area: not aligned for float.
    const std::string path = out_dir("roundtrip") + "/unaligned.safetensors";
    const at::Tensor b = at::tensor({1.5f, -2.25f, 3.0f});
    write_safetensors(path, {{"a", at::ones({3}, at::kChar)}, {"b", b}, {"c", at::ones({1}, at::kChar)}});
    const auto file = SafetensorsFile::open(path);
    QVERIFY(!file->is_zero_copy("b"));
    QVERIFY(file->tensor("b").equal(b));
    QVERIFY(reinterpret_cast<uintptr_t>(file->tensor("b").data_ptr()) % alignof(float) == 0);
    QVERIFY(file->is_zero_copy("a"));  // bytes are always aligned
  }

  void tensorsAliasTheMapping() {
    const std::string path = out_dir("roundtrip") + "/alias.safetensors";
    write_safetensors(path, {{"x", at::randn({64, 8})}, {"y", at::randn({5})}});
    const auto file = SafetensorsFile::open(path);
    QVERIFY(file->is_zero_copy("x"));
    const at::Tensor a = file->tensor("x"), b = file->tensor("x"), y = file->tensor("y");
    QCOMPARE(a.data_ptr(), b.data_ptr());  // a copy would get fresh memory each call
    // Both tensors sit in one mapped data area at their header offsets.
    QCOMPARE(static_cast<const char*>(y.data_ptr()) - static_cast<const char*>(a.data_ptr()),
             ptrdiff_t(file->info("y").begin - file->info("x").begin));
  }

  void tensorOutlivesTheFileHandle() {
    const std::string path = out_dir("roundtrip") + "/outlive.safetensors";
    const at::Tensor expected = at::arange(0, 1000, at::kFloat);
    write_safetensors(path, {{"x", expected}});
    at::Tensor t;
    {
      auto file = SafetensorsFile::open(path);
      t = file->tensor("x");
    }  // the handle is gone; the tensor's storage keeps the mapping
    QVERIFY(t.equal(expected));
    QCOMPARE(t.sum().item<float>(), 499500.0f);
  }

  void writeAcceptsNonContiguousAndOtherLayouts() {
    const std::string path = out_dir("roundtrip") + "/layouts.safetensors";
    const at::Tensor base = at::arange(0, 12, at::kFloat).reshape({3, 4});
    const at::Tensor sparse = at::eye(3).to_sparse();
    write_safetensors(path, {{"t", base.t()}, {"s", sparse}, {"step", base.slice(1, 0, 4, 2)}});
    const auto file = SafetensorsFile::open(path);
    QVERIFY(file->tensor("t").equal(base.t().contiguous()));
    QVERIFY(file->tensor("s").equal(at::eye(3)));
    QVERIFY(file->tensor("step").equal(base.slice(1, 0, 4, 2).contiguous()));
  }
};

QTEST_GUILESS_MAIN(TestIo)
#include "test_io.moc"
