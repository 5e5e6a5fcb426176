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
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/common/error.h"
#include "core/io/safetensors.h"
#include "verify_message.h"

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

struct CliResult {
  int code;
  QString out, err;
};

CliResult run_cli(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(SAESCOPE_CLI_PATH), args);
  if (!p.waitForFinished(60000)) return {-1, "", "timed out"};
  return {p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

}  // namespace

class TestIo : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {  // each run starts from an empty output folder
    QDir(QString(SAESCOPE_TEST_OUTPUT_DIR) + "/io").removeRecursively();
  }

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

  // --- Malformed files: each is rejected at open, naming the file and tensor.

  void rejectsFileShorterThanTheLength() {
    const std::string path = out_dir("bad") + "/short.safetensors";
    write_bytes(path, std::string("\x05\x00\x00", 3));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "too short");
  }

  void rejectsHeaderLengthBeyondTheFile() {
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string path = raw_file("length.safetensors", header, std::string(8, '\0'), 1 << 20);
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "header length 1048576");
  }

  void rejectsInvalidJson() {
    const std::string path = raw_file("json.safetensors", R"({"a":{"dtype":"F32",)", "");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "not valid JSON");
  }

  void rejectsJsonThatIsNotAnObject() {
    const std::string path = raw_file("array.safetensors", R"([1, 2, 3])", "");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "not an object");
  }

  void rejectsEntryThatIsNotAnObject() {
    const std::string path = raw_file("entry.safetensors", R"({"w":[0, 8]})", std::string(8, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'", "not a JSON object");
  }

  void rejectsMissingFields() {
    const std::map<std::string, std::string> without = {
        {"dtype", R"({"w":{"shape":[2],"data_offsets":[0,8]}})"},
        {"shape", R"({"w":{"dtype":"F32","data_offsets":[0,8]}})"},
        {"data_offsets", R"({"w":{"dtype":"F32","shape":[2]}})"}};
    for (const auto& [field, header] : without) {
      const std::string path = raw_file("missing_" + field + ".safetensors", header, std::string(8, '\0'));
      VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'",
                     "missing field \"" + field + "\"");
    }
  }

  void rejectsDtypeThatIsNotAString() {
    const std::string path = raw_file("dtype_type.safetensors",
                                      R"({"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'", "dtype is not a string: 4");
  }

  void rejectsNegativeOrNonIntegerShape() {
    for (const std::string dim : {"-2", "2.0", "\"2\"", "9223372036854775808"}) {
      const std::string header = R"({"w":{"dtype":"F32","shape":[1,)" + dim + R"(],"data_offsets":[0,8]}})";
      const std::string path = raw_file("shape.safetensors", header, std::string(8, '\0'));
      VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'",
                     "holds " + dim + ", not an integer in [0, 2^63)");
    }
  }

  void rejectsMalformedOffsets() {
    for (const std::string offsets :
         {"[0]", "[0,8,9]", "[-1,7]", "[0,8.5]", "\"0-8\"", "[0,9223372036854775808]"}) {
      const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":)" + offsets + "}}";
      const std::string path = raw_file("offsets.safetensors", header, std::string(8, '\0'));
      VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'",
                     "data_offsets must be [begin, end]");
    }
  }

  void rejectsOffsetsOutsideTheDataArea() {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[4000,4008]}})";
    const std::string path = raw_file("outside.safetensors", header, std::string(16, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'",
                   "outside the data area of 16 bytes");
  }

  void rejectsTruncatedFile() {
    // A valid file cut short inside its last tensor's bytes.
    const std::string good = out_dir("bad") + "/whole.safetensors";
    write_safetensors(good, {{"a", at::ones({4})}, {"last", at::ones({16})}});
    const std::string bytes = read_bytes(good);
    const std::string path = out_dir("bad") + "/truncated.safetensors";
    write_bytes(path, bytes.substr(0, bytes.size() - 5));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'last'",
                   "outside the data area of 75 bytes (file truncated?)");
  }

  void rejectsBeginAfterEnd() {
    const std::string header = R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})";
    const std::string path = raw_file("reversed.safetensors", header, std::string(8, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'", "begin 8 > end 4");
  }

  void rejectsOverlappingSpans() {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    const std::string path = raw_file("overlap.safetensors", header, std::string(12, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'b'", "overlap",
                   "tensor 'a' [0, 8)");
  }

  void rejectsOutOfOrderSpans() {
    // Disjoint spans, but the second tensor's bytes come first.
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string path = raw_file("order.safetensors", header, std::string(16, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'b'",
                   "out of order with those of tensor 'a'");
  }

  void rejectsSizeThatDisagreesWithShape() {
    const std::string header = R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}})";
    const std::string path = raw_file("size.safetensors", header, std::string(8, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'",
                   "span 8 bytes but dtype BF16 x shape [2,3] needs 12");
  }

  void rejectsShapeWhoseSizeOverflows() {
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})";
    const std::string path = raw_file("overflow.safetensors", header, "");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'", "more than 2^64");
  }

  void rejectsUnknownDtype() {
    const std::string header = R"({"w":{"dtype":"F12","shape":[2],"data_offsets":[0,3]}})";
    const std::string path = raw_file("dtype.safetensors", header, std::string(3, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "'w'", "unknown dtype 'F12'");
  }

  void rejectsNonStringMetadata() {
    const std::string header =
        R"({"__metadata__":{"format":"pt","step":1000},"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
    const std::string path = raw_file("metadata.safetensors", header, std::string(1, '\0'));
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(path); }), path, "__metadata__ key 'step'",
                   "not a string");
    const std::string not_object = raw_file("metadata2.safetensors", R"({"__metadata__":["pt"]})", "");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsFile::open(not_object); }), not_object,
                   "__metadata__ is not a JSON object");
  }

  void acceptsEmptyHeaderAndPaddingAndTrailingBytes() {
    // The limits of what is valid: no tensors, space padding, unused bytes after the data.
    const std::string empty = raw_file("empty_ok.safetensors", "{}      ", "");
    QVERIFY(SafetensorsFile::open(empty)->tensors().empty());
    const std::string header = R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}   )";
    const std::string path = raw_file("trailing_ok.safetensors", header, std::string("\x07\x09zz", 4));
    QVERIFY(SafetensorsFile::open(path)->tensor("w").equal(at::tensor({7, 9}, at::kByte)));
  }

  void unknownTensorNameIsAnInputError() {
    const std::string path = out_dir("roundtrip") + "/named.safetensors";
    write_safetensors(path, {{"x", at::ones({1})}});
    const auto file = SafetensorsFile::open(path);
    QVERIFY(!file->has("nope"));
    VERIFY_MESSAGE(input_error_of([&] { file->tensor("nope"); }), path, "no tensor named 'nope'");
  }

  // --- dtypes without a LibTorch counterpart: decoded into a wider dtype.

  void widensUnsignedAndFloat8() {
    std::string data;
    auto put = [&](const void* p, size_t n) { data.append(static_cast<const char*>(p), n); };
    const uint16_t u16[] = {0, 1, 65535};
    const uint32_t u32[] = {4294967295u, 7};
    const uint64_t u64[] = {9223372036854775807ull};
    const uint8_t e4m3[] = {0x38, 0x7E, 0xC0, 0x01, 0x7F};  // 1, 448, -2, 2^-9, NaN
    const uint8_t e5m2[] = {0x3C, 0x7C, 0xB8, 0x01};        // 1, inf, -0.5, 2^-16
    put(u16, 6); put(u32, 8); put(u64, 8); put(e4m3, 5); put(e5m2, 4);
    const std::string header =
        R"({"u16":{"dtype":"U16","shape":[3],"data_offsets":[0,6]},)"
        R"("u32":{"dtype":"U32","shape":[2],"data_offsets":[6,14]},)"
        R"("u64":{"dtype":"U64","shape":[],"data_offsets":[14,22]},)"
        R"("e4m3":{"dtype":"F8_E4M3","shape":[5],"data_offsets":[22,27]},)"
        R"("e5m2":{"dtype":"F8_E5M2","shape":[4],"data_offsets":[27,31]}})";
    const auto file = SafetensorsFile::open(raw_file("widen.safetensors", header, data));
    QVERIFY(file->tensor("u16").equal(at::tensor({0, 1, 65535}, at::kInt)));
    QVERIFY(file->tensor("u32").equal(at::tensor({int64_t(4294967295), int64_t(7)}, at::kLong)));
    QCOMPARE(file->tensor("u64").dim(), 0);
    QCOMPARE(file->tensor("u64").item<int64_t>(), int64_t(9223372036854775807));
    const at::Tensor f8 = file->tensor("e4m3");
    QVERIFY(f8.scalar_type() == at::kFloat);
    QVERIFY(f8.slice(0, 0, 4).equal(at::tensor({1.0f, 448.0f, -2.0f, std::ldexp(1.0f, -9)})));
    QVERIFY(std::isnan(f8[4].item<float>()));
    const at::Tensor f8b = file->tensor("e5m2");
    QCOMPARE(f8b[0].item<float>(), 1.0f);
    QVERIFY(std::isinf(f8b[1].item<float>()));
    QCOMPARE(f8b[2].item<float>(), -0.5f);
    QCOMPARE(f8b[3].item<float>(), std::ldexp(1.0f, -16));
    QVERIFY(!file->is_zero_copy("u16"));
  }

  void rejectsU64BeyondInt64() {
    const uint64_t big = 9223372036854775808ull;
    const std::string path = raw_file("u64.safetensors", R"({"big":{"dtype":"U64","shape":[1],"data_offsets":[0,8]}})",
                                      std::string(reinterpret_cast<const char*>(&big), 8));
    const auto file = SafetensorsFile::open(path);
    VERIFY_MESSAGE(input_error_of([&] { file->tensor("big"); }), path, "'big'", "does not fit int64");
  }

  // --- Atomic writes.

  void failedWriteKeepsThePreviousFile() {
    const std::string dir = out_dir("atomic");
    const std::string path = dir + "/keep.safetensors";
    write_safetensors(path, {{"x", at::arange(0, 10, at::kFloat)}});
    const std::string before = read_bytes(path);
    // Fails before any byte is written: safetensors has no complex dtype.
    VERIFY_MESSAGE(input_error_of([&] {
                     write_safetensors(path, {{"z", at::ones({2}, at::kComplexFloat)}});
                   }),
                   path, "'z'", "no safetensors equivalent");
    // Fails half-way: the first tensor is written, the meta tensor has no bytes.
    VERIFY_MESSAGE(input_error_of([&] {
                     write_safetensors(path, {{"ok", at::ones({1000})},
                                              {"m", at::empty({4}, at::TensorOptions().device(at::kMeta))}});
                   }),
                   path, "'m'", "cannot be copied to the CPU");
    QCOMPARE(read_bytes(path), before);
    QVERIFY(SafetensorsFile::open(path)->tensor("x").equal(at::arange(0, 10, at::kFloat)));
    QCOMPARE(temp_files_in(dir), QStringList());
  }

  void failedRenameLeavesNoTempFile() {
    // The target is a non-empty folder: everything is written, then rename fails.
    const std::string dir = out_dir("atomic");
    const std::string target = dir + "/is_a_folder.safetensors";
    QDir().mkpath(QString::fromStdString(target));
    write_bytes(target + "/inside", "keep");
    VERIFY_MESSAGE(input_error_of([&] { write_safetensors(target, {{"x", at::ones({3})}}); }), target,
                   "cannot replace the file");
    QCOMPARE(read_bytes(target + "/inside"), std::string("keep"));
    QCOMPARE(temp_files_in(dir), QStringList());
  }

  void unwritableFolderIsAnInputError() {
    const std::string path = out_dir("atomic") + "/no/such/folder/x.safetensors";
    VERIFY_MESSAGE(input_error_of([&] { write_safetensors(path, {{"x", at::ones({3})}}); }), path,
                   "cannot create a temporary file");
  }

  void rejectsRepeatedOrReservedNames() {
    const std::string path = out_dir("atomic") + "/names.safetensors";
    VERIFY_MESSAGE(input_error_of([&] {
                     write_safetensors(path, {{"x", at::ones({1})}, {"x", at::ones({1})}});
                   }),
                   path, "'x'", "given twice");
    VERIFY_MESSAGE(input_error_of([&] { write_safetensors(path, {{"__metadata__", at::ones({1})}}); }),
                   path, "reserved");
    VERIFY_MESSAGE(input_error_of([&] { write_safetensors(path, {{"u", at::Tensor()}}); }), path, "'u'",
                   "undefined");
    QVERIFY(!QFileInfo::exists(QString::fromStdString(path)));
  }

  // --- Sharded checkpoints.

  void shardedCheckpoint() {
    const std::string dir = out_dir("sharded");
    const at::Tensor a = at::randn({4, 3}), b = at::arange(0, 5, at::kLong), c = at::randn({2}).to(at::kHalf);
    write_safetensors(dir + "/model-00001-of-00002.safetensors", {{"a", a}, {"b", b}});
    write_safetensors(dir + "/model-00002-of-00002.safetensors", {{"c", c}, {"unlisted", a}});
    write_bytes(dir + "/model.safetensors.index.json",
                R"({"metadata":{"total_size":108},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
                R"("c":"model-00002-of-00002.safetensors","b":"model-00001-of-00002.safetensors"}})");
    for (const std::string& path : {dir, dir + "/model.safetensors.index.json"}) {
      const auto ckpt = SafetensorsCheckpoint::open(path);
      QCOMPARE(ckpt.names(), (std::vector<std::string>{"a", "b", "c"}));  // only the weight_map's
      QVERIFY(ckpt.tensor("a").equal(a));
      QVERIFY(ckpt.tensor("b").equal(b));
      QVERIFY(ckpt.tensor("c").equal(c));
      QCOMPARE(ckpt.info("c").dtype, std::string("F16"));
      QCOMPARE(ckpt.file_of("c"), dir + "/model-00002-of-00002.safetensors");
      QCOMPARE(ckpt.files().size(), size_t(2));
      QCOMPARE(ckpt.metadata().at("total_size"), std::string("108"));
      QVERIFY(!ckpt.has("unlisted"));
      VERIFY_MESSAGE(input_error_of([&] { ckpt.tensor("unlisted"); }), "no tensor named 'unlisted'");
    }
  }

  void shardMissingATensorIsAnError() {
    const std::string dir = out_dir("sharded_bad");
    write_safetensors(dir + "/s1.safetensors", {{"a", at::ones({2})}});
    const std::string index = dir + "/model.safetensors.index.json";
    write_bytes(index, R"({"weight_map":{"a":"s1.safetensors","ghost":"s1.safetensors"}})");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsCheckpoint::open(index); }), index, "'ghost'",
                   dir + "/s1.safetensors", "has no such tensor");
    write_bytes(index, R"({"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsCheckpoint::open(index); }), index, "'b'",
                   dir + "/s2.safetensors", "does not exist");
    write_bytes(index, R"({"weights":{}})");
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsCheckpoint::open(index); }), index, "weight_map");
  }

  void checkpointFolderForms() {
    const std::string single = out_dir("folder_single");
    write_safetensors(single + "/model.safetensors", {{"w", at::ones({2})}}, {{"format", "pt"}});
    const auto ckpt = SafetensorsCheckpoint::open(single);
    QCOMPARE(ckpt.names(), std::vector<std::string>{"w"});
    QCOMPARE(ckpt.metadata().at("format"), std::string("pt"));
    // A SAELens folder: no model.* but one weights file beside other files.
    const std::string sae = out_dir("folder_sae");
    write_safetensors(sae + "/sae_weights.safetensors", {{"W_enc", at::ones({2, 4})}});
    write_bytes(sae + "/cfg.json", "{}");
    QCOMPARE(SafetensorsCheckpoint::open(sae).names(), std::vector<std::string>{"W_enc"});
    write_safetensors(sae + "/sparsity.safetensors", {{"sparsity", at::ones({4})}});
    VERIFY_MESSAGE(input_error_of([&] { SafetensorsCheckpoint::open(sae); }), sae, "name one");
  }

  // --- A file written by an independent implementation (tools/make_safetensors_fixture.py).

  void readsTheReferenceFile() {
    const std::string path = std::string(SAESCOPE_FIXTURES_DIR) + "/io/reference.safetensors";
    const auto expected = nlohmann::json::parse(
        read_bytes(std::string(SAESCOPE_FIXTURES_DIR) + "/io/reference.expected.json"));
    const std::map<std::string, at::ScalarType> torch_of = {
        {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf},
        {"bfloat16", at::kBFloat16}, {"int64", at::kLong}, {"int32", at::kInt},
        {"int16", at::kShort}, {"int8", at::kChar}, {"uint8", at::kByte}, {"bool", at::kBool}};
    const auto file = SafetensorsFile::open(path);
    QCOMPARE(file->metadata(), (expected["metadata"].get<std::map<std::string, std::string>>()));
    QCOMPARE(file->tensors().size(), expected["tensors"].size());
    for (size_t i = 0; i < file->tensors().size(); ++i) {
      const auto& want = expected["tensors"][i];
      const std::string name = want["name"];
      QCOMPARE(file->tensors()[i].name, name);
      QCOMPARE(file->tensors()[i].dtype, want["dtype"].get<std::string>());
      const at::Tensor got = file->tensor(name);
      const at::ScalarType type = torch_of.at(want["torch"]);
      QVERIFY2(got.scalar_type() == type, name.c_str());
      QVERIFY2(got.sizes().vec() == want["shape"].get<std::vector<int64_t>>(), name.c_str());
      // Expected values go through the tensor's own dtype, so 0.001 is compared as a float32.
      at::Tensor values;
      if (at::isFloatingType(type)) {
        values = at::tensor(want["values"].get<std::vector<double>>(), at::kDouble);
      } else {
        std::vector<int64_t> ints;
        for (const auto& v : want["values"]) ints.push_back(v.is_boolean() ? int64_t(v.get<bool>()) : v.get<int64_t>());
        values = at::tensor(ints, at::kLong);
      }
      QVERIFY2(got.equal(values.to(type).reshape(got.sizes())), name.c_str());
    }
  }

  void writerMatchesTheReferenceBytes() {
    // Our writer, given the reference's LibTorch-native tensors in the same
    // order, must lay out the same data bytes as the independent writer.
    const auto ref = SafetensorsFile::open(std::string(SAESCOPE_FIXTURES_DIR) + "/io/reference.safetensors");
    std::vector<std::pair<std::string, at::Tensor>> native;
    uint64_t native_end = 0;
    for (const auto& t : ref->tensors()) {
      if (t.dtype == "U16") break;  // the rest are widened on reading: not the same bytes
      native.push_back({t.name, ref->tensor(t.name)});
      native_end = t.end;
    }
    QCOMPARE(native.size(), size_t(11));
    const std::string path = out_dir("roundtrip") + "/rewritten.safetensors";
    write_safetensors(path, native, ref->metadata());
    auto data_area = [](const std::string& p) {
      const std::string bytes = read_bytes(p);
      uint64_t n = 0;
      std::memcpy(&n, bytes.data(), 8);
      return bytes.substr(8 + n);
    };
    const std::string ours = data_area(path);
    QCOMPARE(ours.size(), size_t(native_end));
    QVERIFY(ours == data_area(ref->path()).substr(0, native_end));
  }

  // --- `saescope-cli tensors`.

  void cliListsTensorsAndMetadata() {
    const QString ref = QString(SAESCOPE_FIXTURES_DIR) + "/io/reference.safetensors";
    const CliResult r = run_cli({"tensors", ref});
    QCOMPARE(r.code, 0);
    const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
    QVERIFY(lines.contains(QRegularExpression(R"(^embed\.weight\s+F32\s+\[2, 3\]\s+24$)")));
    QVERIFY(lines.contains(QRegularExpression(R"(^scale\s+F64\s+\[\]\s+8$)")));
    QVERIFY(lines.contains(QRegularExpression(R"(^f8\s+F8_E5M2\s+\[4\]\s+4$)")));
    QVERIFY(lines.contains("14 tensors, 114 bytes"));
    QVERIFY(lines.contains("  format: pt"));
  }

  void cliJson() {
    const QString ref = QString(SAESCOPE_FIXTURES_DIR) + "/io/reference.safetensors";
    const CliResult r = run_cli({"tensors", "--json", ref});
    QCOMPARE(r.code, 0);
    const QJsonObject doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
    const QJsonArray tensors = doc["tensors"].toArray();
    QCOMPARE(tensors.size(), 14);
    const QJsonObject first = tensors[0].toObject();
    QCOMPARE(first["name"].toString(), QString("embed.weight"));
    QCOMPARE(first["dtype"].toString(), QString("F32"));
    QCOMPARE(first["shape"].toArray(), (QJsonArray{2, 3}));
    QCOMPARE(first["bytes"].toInt(), 24);
    QCOMPARE(tensors[1].toObject()["shape"].toArray(), QJsonArray());
    QCOMPARE(doc["metadata"].toObject()["format"].toString(), QString("pt"));
  }

  void cliShardedFolderAndIndex() {
    const std::string dir = out_dir("cli_sharded");
    write_safetensors(dir + "/model-1.safetensors", {{"w1", at::ones({2, 2})}});
    write_safetensors(dir + "/model-2.safetensors", {{"w2", at::ones({3}, at::kHalf)}});
    write_bytes(dir + "/model.safetensors.index.json",
                R"({"weight_map":{"w1":"model-1.safetensors","w2":"model-2.safetensors"}})");
    for (const std::string& arg : {dir, dir + "/model.safetensors.index.json"}) {
      const CliResult r = run_cli({"tensors", "--json", QString::fromStdString(arg)});
      QCOMPARE(r.code, 0);
      const QJsonArray tensors = QJsonDocument::fromJson(r.out.toUtf8()).object()["tensors"].toArray();
      QCOMPARE(tensors.size(), 2);
      QCOMPARE(tensors[1].toObject()["name"].toString(), QString("w2"));
      QCOMPARE(tensors[1].toObject()["dtype"].toString(), QString("F16"));
      QVERIFY(tensors[1].toObject()["file"].toString().endsWith("model-2.safetensors"));
    }
    const CliResult text = run_cli({"tensors", QString::fromStdString(dir)});
    QVERIFY(text.out.contains("2 tensors, 22 bytes in 2 shards"));
  }

  void cliBadFileExitsTwo() {
    const std::string path = raw_file("cli_bad.safetensors",
                                      R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                      std::string(8, '\0'));
    const CliResult r = run_cli({"tensors", QString::fromStdString(path)});
    QCOMPARE(r.code, 2);
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.contains(QString::fromStdString(path)) && r.err.contains("'w'"), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestIo)
#include "test_io.moc"
