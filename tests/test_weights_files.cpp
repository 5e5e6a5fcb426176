// SAE weights as released outside safetensors: numpy .npz/.npy (core/io/npy.h)
// and torch.save .pt files (core/io/torch_pt.h), both inside zip archives
// (core/io/zip_archive.h). Fixtures come from tools/make_weights_file_fixtures.py
// (numpy and PyTorch themselves, plus hand-written hostile pickles); zip
// malformations are built byte by byte here. Expected values are the script's
// arange formulas, recomputed.
#include <ATen/ATen.h>

#include <QDir>
#include <QFile>
#include <QtTest>
#include <fstream>
#include <sstream>

#include "core/common/error.h"
#include "core/io/npy.h"
#include "core/io/torch_pt.h"
#include "core/io/zip_archive.h"
#include "verify_message.h"

using saescope::InputError;
using namespace saescope::io;
using Kind = PickleValue::Kind;

namespace {

std::string fixture(const std::string& name) {
  return std::string(SAESCOPE_FIXTURES_DIR) + "/weights_files/" + name;
}

std::string out_dir(const std::string& sub) {
  const std::string dir = std::string(SAESCOPE_TEST_OUTPUT_DIR) + "/weights_files/" + sub;
  QDir().mkpath(QString::fromStdString(dir));
  return dir;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return path;
}

template <typename F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Same dtype, shape and values (compared as doubles: exact for every fixture).
bool same(const at::Tensor& got, const at::Tensor& want) {
  return got.defined() && got.scalar_type() == want.scalar_type() && got.sizes() == want.sizes() &&
         at::equal(got.to(at::kDouble), want.to(at::kDouble));
}

#define VERIFY_SAME(got, want) QVERIFY2(same(got, want), (std::string(#got) + " differs").c_str())

// ---- a zip writer for malformed archives -------------------------------------

uint32_t crc32_of(const std::string& s) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : s) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

void put(std::string& out, uint64_t v, int bytes) {
  for (int b = 0; b < bytes; ++b) out.push_back(char((v >> (8 * b)) & 0xFF));
}

struct Member {
  std::string name;
  std::string payload;  // the bytes as they lie in the file
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t size = 0;        // declared uncompressed size
  uint64_t compressed = 0;  // declared compressed size
};

Member stored(const std::string& name, const std::string& data) {
  return {name, data, 0, 0, crc32_of(data), data.size(), data.size()};
}

// Deflated with one "stored" deflate block (BFINAL, BTYPE 00, LEN, NLEN):
// valid raw deflate without needing a compressor here.
Member deflated(const std::string& name, const std::string& data) {
  std::string block(1, '\x01');
  put(block, data.size(), 2);
  put(block, ~data.size() & 0xFFFF, 2);
  return {name, block + data, 8, 0, crc32_of(data), data.size(), block.size() + data.size()};
}

// Local headers, data, central directory, end record; with `zip64`, every
// size and offset goes through ZIP64 extra fields and a ZIP64 end record.
std::string zip_bytes(const std::vector<Member>& members, bool zip64 = false, const std::string& comment = "") {
  std::string out, central;
  for (const Member& m : members) {
    const uint64_t offset = out.size();
    put(out, 0x04034b50, 4);
    put(out, 20, 2);
    put(out, m.flags, 2);
    put(out, m.method, 2);
    put(out, 0, 4);  // time, date
    put(out, m.crc, 4);
    put(out, zip64 ? 0xFFFFFFFF : m.compressed, 4);
    put(out, zip64 ? 0xFFFFFFFF : m.size, 4);
    put(out, m.name.size(), 2);
    put(out, 0, 2);
    out += m.name + m.payload;

    std::string extra;
    if (zip64) {
      put(extra, 1, 2);
      put(extra, 24, 2);
      put(extra, m.size, 8);
      put(extra, m.compressed, 8);
      put(extra, offset, 8);
    }
    put(central, 0x02014b50, 4);
    put(central, 45, 2);
    put(central, 45, 2);
    put(central, m.flags, 2);
    put(central, m.method, 2);
    put(central, 0, 4);
    put(central, m.crc, 4);
    put(central, zip64 ? 0xFFFFFFFF : m.compressed, 4);
    put(central, zip64 ? 0xFFFFFFFF : m.size, 4);
    put(central, m.name.size(), 2);
    put(central, extra.size(), 2);
    put(central, 0, 2);   // comment
    put(central, 0, 2);   // disk
    put(central, 0, 2);   // internal attributes
    put(central, 0, 4);   // external attributes
    put(central, zip64 ? 0xFFFFFFFF : offset, 4);
    central += m.name + extra;
  }
  const uint64_t cd_offset = out.size();
  out += central;
  if (zip64) {
    const uint64_t record = out.size();
    put(out, 0x06064b50, 4);
    put(out, 44, 8);
    put(out, 45, 2);
    put(out, 45, 2);
    put(out, 0, 4);
    put(out, 0, 4);
    put(out, members.size(), 8);
    put(out, members.size(), 8);
    put(out, central.size(), 8);
    put(out, cd_offset, 8);
    put(out, 0x07064b50, 4);
    put(out, 0, 4);
    put(out, record, 8);
    put(out, 1, 4);
  }
  put(out, 0x06054b50, 4);
  put(out, 0, 4);
  put(out, zip64 ? 0xFFFF : members.size(), 2);
  put(out, zip64 ? 0xFFFF : members.size(), 2);
  put(out, zip64 ? 0xFFFFFFFF : central.size(), 4);
  put(out, zip64 ? 0xFFFFFFFF : cd_offset, 4);
  put(out, comment.size(), 2);
  return out + comment;
}

std::string zip_file(const std::string& name, const std::string& bytes) {
  return write_bytes(out_dir("zip") + "/" + name, bytes);
}

// A .npy file's bytes (version 1.0) with the given header dict and data.
std::string npy_bytes(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  put(out, header.size(), 2);
  return out + header + data;
}

}  // namespace

class TestWeightsFiles : public QObject {
  Q_OBJECT

 private slots:
  // ---- .npz / .npy ----------------------------------------------------------

  void npzStoredAndDeflated() {
    for (const char* file : {"stored.npz", "deflated.npz"}) {
      const auto arrays = read_npz(fixture(file));
      std::vector<std::string> keys;
      std::map<std::string, at::Tensor> got;
      for (const auto& [k, t] : arrays) keys.push_back(k), got[k] = t;
      const std::vector<std::string> order = {"f32", "f16", "f64", "i64", "i8", "u8", "u16",
                                              "bool", "fortran", "big_i4", "big_f8", "scalar", "empty"};
      QVERIFY2(keys == order, file);
      const auto f = at::TensorOptions().dtype(at::kFloat);
      VERIFY_SAME(got["f32"], at::arange(12, f).reshape({3, 4}) / 4);
      VERIFY_SAME(got["f16"], (at::arange(6, f) - 2.5).to(at::kHalf));
      VERIFY_SAME(got["f64"], at::arange(5, at::kDouble) / 8);
      VERIFY_SAME(got["i64"], (at::arange(6, at::kLong) - 3) * int64_t(1000000000000));
      VERIFY_SAME(got["i8"], at::arange(-4, 4, at::kChar));
      VERIFY_SAME(got["u8"], at::arange(250, 256, at::kByte));
      VERIFY_SAME(got["u16"], at::arange(3, at::kInt) * 30000);  // widened: int32 holds every u16
      VERIFY_SAME(got["bool"], at::arange(7, at::kLong).remainder(3).eq(0));
      VERIFY_SAME(got["fortran"], at::arange(6, f).reshape({2, 3}));
      QVERIFY(got["fortran"].is_contiguous());
      VERIFY_SAME(got["big_i4"], at::arange(4, at::kInt) * -7);
      VERIFY_SAME(got["big_f8"], (at::arange(3, at::kDouble) + 1) / 4);
      VERIFY_SAME(got["scalar"], at::scalar_tensor(3.5, f));
      QCOMPARE(got["scalar"].dim(), int64_t(0));
      VERIFY_SAME(got["empty"], at::zeros({0, 3}, f));
    }
  }

  void npyVersions() {
    for (const char* file : {"v1.npy", "v2.npy", "v3.npy"})
      VERIFY_SAME(parse_npy(read_bytes(fixture(file)), file), at::arange(6, at::kFloat).reshape({2, 3}));
  }

  void npzObjectArrayRefused() {
    const std::string path = fixture("object.npz");
    VERIFY_MESSAGE(input_error_of([&] { read_npz(path); }), path, "objects.npy", "object array",
                   "pickled Python objects", "not read");
  }

  void npyMalformed() {
    const std::string four(16, '\0');
    const struct {
      std::string bytes;
      std::vector<std::string> parts;
    } cases[] = {
        {"not numpy at all", {"not a .npy array"}},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", four), {"holds 16 data bytes", "need 20"}},
        {npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", four), {"structured dtype"}},
        {npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", four), {"'<c8'", "complex"}},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", four), {"unknown key 'x'"}},
        {npy_bytes("{'descr': '<f4', 'shape': (4,), }", four), {"lacks one of"}},
        {npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }", four), {"not True or False"}},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", four), {"non-negative integers"}},
        {npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", four), {"not a tuple"}},
        {npy_bytes("{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }", std::string(16, '\xff')),
         {"above 2^63-1"}},
        {npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "\x80\x02N."), {"object array"}},
    };
    for (const auto& c : cases) {
      const std::string msg = input_error_of([&] { parse_npy(c.bytes, "w.npz: x.npy"); });
      VERIFY_MESSAGE(msg, "w.npz: x.npy");
      for (const std::string& part : c.parts) VERIFY_MESSAGE(msg, part);
    }
  }

  // ---- torch.save files -----------------------------------------------------

  void ptModuleStateDict() {
    const TorchPtDict d = read_torch_pt_dict(fixture("module_state.pt"));
    QCOMPARE(d.tensors.size(), size_t(2));
    QVERIFY(d.others.empty());  // the OrderedDict's _metadata (BUILD) is not an entry
    QCOMPARE(d.tensors[0].first, std::string("weight"));
    QCOMPARE(d.tensors[1].first, std::string("bias"));
    VERIFY_SAME(d.tensors[0].second, at::arange(12, at::kFloat).reshape({3, 4}) / 8);
    VERIFY_SAME(d.tensors[1].second, at::arange(3, at::kFloat) - 1);
  }

  void ptNestedValues() {
    const PickleValue top = read_torch_pt(fixture("nested.pt"));
    QVERIFY(top.is(Kind::Dict));
    QCOMPARE(top.dict_items().size(), size_t(3));
    VERIFY_SAME(top.find("W_enc")->as_tensor(), at::arange(8, at::kFloat).reshape({2, 4}));
    QCOMPARE(top.find("step")->as_int(), int64_t(1000));
    const PickleValue& cfg = *top.find("cfg");
    QCOMPARE(cfg.find("d_in")->as_int(), int64_t(4));
    QCOMPARE(cfg.find("name")->as_string(), std::string("sae"));
    QCOMPARE(cfg.find("lr")->as_float(), 0.001);
    QCOMPARE(cfg.find("neg")->as_int(), int64_t(-5));
    QCOMPARE(cfg.find("big")->as_int(), int64_t(1) << 40);
    QCOMPARE(cfg.find("flag")->as_bool(), true);
    QCOMPARE(cfg.find("off")->as_bool(), false);
    QVERIFY(cfg.find("none")->is(Kind::None));
    QVERIFY(cfg.find("missing") == nullptr);
    const auto& layers = *cfg.find("layers");
    QVERIFY(layers.is(Kind::List));
    QCOMPARE(layers.items().size(), size_t(3));
    QCOMPARE(layers.items()[2].as_int(), int64_t(3));
    const auto& shape = *cfg.find("shape");
    QVERIFY(shape.is(Kind::Tuple));
    QCOMPARE(shape.items()[0].as_int(), int64_t(4));
    QCOMPARE(shape.items()[1].as_int(), int64_t(8));
    const auto& deeper = cfg.find("nested")->find("deeper")->items();
    QVERIFY(deeper[0].is(Kind::Tuple));
    QCOMPARE(deeper[0].items()[1].as_string(), std::string("a"));
    QCOMPARE(deeper[1].find("k")->as_float(), 2.5);
  }

  void ptViewsAndSharedStorage() {
    const PickleValue top = read_torch_pt(fixture("views.pt"));
    const at::Tensor base = at::arange(24, at::kFloat).reshape({4, 6});
    const at::Tensor view = top.find("view")->as_tensor();
    VERIFY_SAME(view, base.slice(0, 1).slice(1, 2, 5).t());
    QCOMPARE(view.storage_offset(), int64_t(8));
    QCOMPARE(view.stride(0), int64_t(1));
    QCOMPARE(view.stride(1), int64_t(6));
    const at::Tensor a = top.find("a")->as_tensor(), b = top.find("b")->as_tensor();
    VERIFY_SAME(a, at::arange(2, 6, at::kFloat));
    VERIFY_SAME(b, at::arange(10, at::kFloat).reshape({2, 5}));
    QVERIFY(a.is_alias_of(b));  // saved from one storage, loaded into one
    QCOMPARE(a.storage_offset(), int64_t(2));
  }

  void ptDtypesAndParameter() {
    const PickleValue top = read_torch_pt(fixture("dtypes.pt"));
    VERIFY_SAME(top.find("bf16")->as_tensor(), at::tensor({1.5f, -2.0f, 0.25f}).to(at::kBFloat16));
    VERIFY_SAME(top.find("f16")->as_tensor(), at::tensor({0.5f, -1.0f, 65504.0f}).to(at::kHalf));
    VERIFY_SAME(top.find("i8")->as_tensor(), at::arange(-2, 2, at::kChar));
    VERIFY_SAME(top.find("i32")->as_tensor(), at::arange(3, at::kInt) * 100000);
    VERIFY_SAME(top.find("bool")->as_tensor(), at::tensor({1, 0, 1}, at::kLong).to(at::kBool));
    VERIFY_SAME(top.find("empty")->as_tensor(), at::zeros({0, 3}, at::kFloat));
    const TorchPtDict p = read_torch_pt_dict(fixture("parameter.pt"));
    QCOMPARE(p.tensors.size(), size_t(1));
    VERIFY_SAME(p.tensors[0].second, at::arange(4, at::kFloat));
  }

  void ptLegacyAndForeignRefused() {
    const std::string legacy = fixture("legacy.pt");
    VERIFY_MESSAGE(input_error_of([&] { read_torch_pt(legacy); }), legacy, "legacy (pre-1.6) format",
                   "re-save it with torch.save");
    const std::string npz = fixture("stored.npz");
    VERIFY_MESSAGE(input_error_of([&] { read_torch_pt(npz); }), npz, "not a torch.save file", "data.pkl");
    const std::string text = write_bytes(out_dir("pt") + "/text.pt", "hello, not a zip");
    VERIFY_MESSAGE(input_error_of([&] { read_torch_pt(text); }), text, "not a zip archive");
    const std::string big = zip_file("big_endian.pt", zip_bytes({stored("a/data.pkl", "\x80\x02N."),
                                                                 stored("a/byteorder", "big")}));
    VERIFY_MESSAGE(input_error_of([&] { read_torch_pt(big); }), big, "byte order 'big'");
    QVERIFY(read_torch_pt(zip_file("none.pt", zip_bytes({stored("a/data.pkl", "\x80\x02N.")}))).is(Kind::None));
    const std::string list = zip_file("list.pt", zip_bytes({stored("a/data.pkl", "\x80\x02]K\x01\x61.")}));
    VERIFY_MESSAGE(input_error_of([&] { read_torch_pt_dict(list); }), list, "holds a list");
  }

  // Each hostile pickle is refused, naming the file and the global or opcode,
  // and its payload (a `touch` in the working folder) never ran.
  void ptHostilePicklesRefused() {
    const std::string dir = out_dir("hostile");
    const QString previous = QDir::currentPath();
    QVERIFY(QDir::setCurrent(QString::fromStdString(dir)));
    for (const char* marker : {"saescope_pwned_os_system", "saescope_pwned_eval"})
      QFile::remove(QString::fromStdString(dir + "/" + marker));
    const struct {
      const char* file;
      std::vector<std::string> parts;
    } cases[] = {
        {"hostile_os_system.pt", {"global 'os.system'", "nothing in it was run", "0x63 ('c')", "offset 2"}},
        {"hostile_builtins_eval.pt", {"global 'builtins.eval'", "0x93"}},
        {"hostile_ordereddict_arg.pt", {"collections.OrderedDict with arguments", "0x52 ('R')"}},
        {"hostile_build_class.pt", {"BUILD", "onto a class or function", "0x62 ('b')"}},
        {"hostile_unknown_opcode.pt", {"unknown opcode", "0xff", "offset 3"}},
        {"hostile_truncated.pt", {"truncated", "0x58 ('X')"}},
        {"hostile_memo.pt", {"memo index 7", "0x68 ('h')"}},
        {"hostile_deep.pt", {"nested more than 1000 levels"}},
        {"hostile_cycle.pt", {"list holds itself"}},
        {"hostile_view.pt", {"reaches past its storage of 4 elements"}},
    };
    for (const auto& c : cases) {
      const std::string path = fixture(c.file);
      const std::string msg = input_error_of([&] { read_torch_pt(path); });
      VERIFY_MESSAGE(msg, path);
      for (const std::string& part : c.parts) VERIFY_MESSAGE(msg, part);
    }
    QDir::setCurrent(previous);
    QVERIFY(!QFile::exists(QString::fromStdString(dir + "/saescope_pwned_os_system")));
    QVERIFY(!QFile::exists(QString::fromStdString(dir + "/saescope_pwned_eval")));
  }

  // Found writing bench/fuzz's fuzz_pickle (its input regress_expanded_view.pkl;
  // ten minutes of fuzzing had not reached it): parameter.pt's pickle with size
  // (2^33,) and stride (0,) over its storage of 4 floats passed the bounds
  // check, so a 215-byte pickle gave a tensor whose first copy allocated 32 GiB.
  void ptExpandedViewRefused() {
    const std::string original = ZipArchive::open(fixture("parameter.pt"))->read("parameter/data.pkl");
    std::string pickle = original;
    QCOMPARE(pickle.substr(145, 9), std::string("K\x00K\x04\x85q\tK\x01", 9));
    pickle = pickle.substr(0, 147) + std::string("\x8a\x05\x00\x00\x00\x00\x02", 7) + pickle.substr(149, 3) +
             std::string("K\x00", 2) + pickle.substr(154);
    const std::string path = write_bytes(out_dir("pt") + "/expanded.pt",
                                         zip_bytes({stored("a/data.pkl", pickle), stored("a/data/0", std::string(16, '\0'))}));
    const std::string error = input_error_of([&] { read_torch_pt(path); });
    QVERIFY2(error.find(path) == 0 && error.find("more elements than its storage of 4") != std::string::npos,
             error.c_str());
    // The same pickle with its real size and stride still reads.
    write_bytes(path, zip_bytes({stored("a/data.pkl", original), stored("a/data/0", std::string(16, '\0'))}));
    QCOMPARE(read_torch_pt(path).find("p")->as_tensor().numel(), int64_t(4));
  }

  // Every truncation of a real state dict's pickle, and every byte of it set
  // to 0x00, 0x80 and 0xff, is either read or refused with an InputError:
  // never another exception, a crash or (under ASan) a bad access.
  void ptMutatedPicklesReadOrRefused() {
    const auto zip = ZipArchive::open(fixture("module_state.pt"));
    const std::string pickle = zip->read("module_state/data.pkl");
    const Member s0 = stored("a/data/0", zip->read("module_state/data/0"));
    const Member s1 = stored("a/data/1", zip->read("module_state/data/1"));
    std::vector<std::string> variants;
    for (size_t n = 0; n < pickle.size(); ++n) variants.push_back(pickle.substr(0, n));
    for (size_t i = 0; i < pickle.size(); ++i)
      for (char v : {'\x00', '\x80', '\xff'}) {
        std::string m = pickle;
        m[i] = v;
        variants.push_back(m);
      }
    const std::string path = out_dir("pt") + "/mutated.pt";
    int refused = 0;
    for (const std::string& v : variants) {
      write_bytes(path, zip_bytes({stored("a/data.pkl", v), s0, s1}));
      try {
        read_torch_pt(path);
      } catch (const InputError& e) {
        ++refused;
        QVERIFY2(std::string(e.what()).find(path) == 0, e.what());
      } catch (const std::exception& e) {
        QFAIL((std::string("not an InputError: ") + e.what()).c_str());
      }
    }
    QVERIFY(refused > int(pickle.size()));  // every truncation at least
  }

  // ---- the zip reader -------------------------------------------------------

  void zipReadsStoredDeflatedZip64AndComment() {
    const std::string a = "first member", b(300, 'x');
    for (bool zip64 : {false, true}) {
      const std::string path = zip_file(zip64 ? "ok64.zip" : "ok.zip",
                                        zip_bytes({stored("a.txt", a), deflated("dir/b.bin", b)}, zip64,
                                                  "a comment, PK"));
      QVERIFY(looks_like_zip(path));
      const auto zip = ZipArchive::open(path);
      QVERIFY(zip->names() == (std::vector<std::string>{"a.txt", "dir/b.bin"}));
      QVERIFY(zip->has("dir/b.bin") && !zip->has("b.bin"));
      QCOMPARE(zip->size("dir/b.bin"), uint64_t(300));
      QCOMPARE(zip->read("a.txt"), a);
      QCOMPARE(zip->read("dir/b.bin"), b);
      VERIFY_MESSAGE(input_error_of([&] { zip->read("c"); }), path, "no member 'c'");
    }
    const std::string empty = zip_file("empty.zip", zip_bytes({}));
    QVERIFY(looks_like_zip(empty));
    QVERIFY(ZipArchive::open(empty)->names().empty());
    QVERIFY(!looks_like_zip(fixture("legacy.pt")));
  }

  void zipMalformationsRefused() {
    const std::string data = "some bytes of a member";
    const std::string good = zip_bytes({stored("m", data)});
    const uint64_t cd_offset = good.size() - 22 - 46 - 1;

    const std::string not_zip = zip_file("not_zip.pt", "plain text, no records at all, long enough to search");
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(not_zip); }), not_zip,
                   "not a zip archive (no end-of-central-directory record)");
    // Cut inside the central directory, the end record kept: it points past the end.
    const std::string cut = zip_file("cut_directory.zip", good.substr(0, cd_offset + 10) + good.substr(good.size() - 22));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(cut); }), cut, "truncated", "central directory");
    // The end record claims more entries than the directory holds.
    std::string more = good;
    more[good.size() - 22 + 8] = more[good.size() - 22 + 10] = 2;
    const std::string more_path = zip_file("more_entries.zip", more);
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(more_path); }), more_path, "central directory");

    Member huge = stored("m", data);
    huge.size = huge.compressed = 1000000000;
    const std::string huge_path = zip_file("huge.zip", zip_bytes({huge}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(huge_path); }), huge_path, "member 'm'",
                   "past the end of the file");

    Member bad_crc = stored("m", data);
    bad_crc.crc ^= 1;
    const std::string crc_path = zip_file("crc.zip", zip_bytes({bad_crc}));
    const auto crc_zip = ZipArchive::open(crc_path);  // sizes are fine: the fault shows when read
    VERIFY_MESSAGE(input_error_of([&] { crc_zip->read("m"); }), crc_path, "member 'm'", "CRC-32 mismatch");

    Member bzip2 = stored("m", data);
    bzip2.method = 12;
    const std::string bzip2_path = zip_file("bzip2.zip", zip_bytes({bzip2}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(bzip2_path); }), bzip2_path, "member 'm'",
                   "compression method 12 (bzip2)");

    Member locked = stored("m", data);
    locked.flags = 1;
    const std::string locked_path = zip_file("encrypted.zip", zip_bytes({locked}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(locked_path); }), locked_path, "member 'm'", "encrypted");

    const std::string dotdot = zip_file("dotdot.zip", zip_bytes({stored("../evil.npy", data)}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(dotdot); }), dotdot, "'../evil.npy'", "'..'");

    const std::string twice = zip_file("twice.zip", zip_bytes({stored("m", data), stored("m", data)}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(twice); }), twice, "'m'", "twice");

    Member short_decl = deflated("m", data);
    short_decl.size = 5;
    const std::string short_path = zip_file("inflates_more.zip", zip_bytes({short_decl}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(short_path)->read("m"); }), short_path,
                   "inflates to more than its declared 5 bytes");
    Member long_decl = deflated("m", data);
    long_decl.size = 40;
    const std::string long_path = zip_file("inflates_less.zip", zip_bytes({long_decl}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(long_path)->read("m"); }), long_path,
                   "inflates to 22 bytes, not its declared 40");
    Member liar = deflated("m", data);
    liar.size = uint64_t(1) << 40;
    const std::string liar_path = zip_file("ratio.zip", zip_bytes({liar}, /*zip64=*/true));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(liar_path); }), liar_path, "more than its",
                   "deflated bytes can hold");
    Member garbage = deflated("m", data);
    garbage.payload[0] = '\x07';  // BTYPE 11: reserved, an invalid block
    const std::string garbage_path = zip_file("corrupt_deflate.zip", zip_bytes({garbage}));
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(garbage_path)->read("m"); }), garbage_path,
                   "corrupt deflated data");

    const std::string npz = zip_file("not_npy.npz", zip_bytes({stored("readme.txt", data)}));
    VERIFY_MESSAGE(input_error_of([&] { read_npz(npz); }), npz, "'readme.txt' is not a .npy array");
    VERIFY_MESSAGE(input_error_of([&] { ZipArchive::open(out_dir("zip") + "/absent.zip"); }), "absent.zip",
                   "cannot open");
  }
};

QTEST_GUILESS_MAIN(TestWeightsFiles)
#include "test_weights_files.moc"
