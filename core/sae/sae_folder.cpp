#include "core/sae/sae_folder.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/common/json_file.h"
#include "core/io/safetensors.h"
#include "core/sae/arch/architecture.h"

namespace saescope::sae {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCfg = "cfg.json";
constexpr const char* kWeights = "sae_weights.safetensors";
constexpr const char* kSparsity = "sparsity.safetensors";
constexpr const char* kScaler = "activation_scaler.json";

// Names each architecture stores. Anything else in the file means the config
// and the weights disagree (e.g. a JumpReLU file labelled "standard").
bool tensor_belongs(const SaeConfig& cfg, const std::string& name) {
  if (name == "W_enc" || name == "W_dec" || name == "b_dec") return true;
  if (name == "W_skip") return cfg.skip_connection;
  // A BatchTopK training checkpoint keeps its one threshold so.
  if (name == "topk_threshold") return cfg.architecture == Architecture::JumpReLU;
  for (const auto& t : architecture_spec(cfg.architecture).tensors)
    if (t.first == name) return true;
  return false;
}

// The legacy "finetuning scaling factor" multiplies features before the decoder.
void fold_legacy_scaling_factor(const json& cfg_doc, const at::Tensor& raw, SaeConfig& cfg,
                                SaeWeights& w, const std::string& file) {
  at::Tensor s = raw.to(at::kFloat);
  if (s.dim() != 1 || s.size(0) != cfg.d_sae)
    throw InputError(file + ": tensor `scaling_factor` must have shape [" +
                     std::to_string(cfg.d_sae) + "]");
  if (!at::isfinite(s).all().item<bool>())
    throw InputError(file + ": tensor `scaling_factor` holds NaN or infinite values");
  if (s.eq(1.0f).all().item<bool>()) return;  // all ones: SAELens drops it too
  auto flag = cfg_doc.find("finetuning_scaling_factor");
  if (flag == cfg_doc.end() || !flag->is_boolean() || !flag->get<bool>())
    throw InputError(file +
                     ": tensor `scaling_factor` is not all ones but cfg.json does not "
                     "set finetuning_scaling_factor");
  if (cfg.rescale_acts_by_decoder_norm)
    throw InputError(file +
                     ": a finetuning `scaling_factor` with rescale_acts_by_decoder_norm "
                     "is not supported");
  if (!w.W_dec.defined()) return;  // reported as missing by the Sae constructor
  w.W_dec = w.W_dec.to(at::kFloat) * s.unsqueeze(1);
}

std::optional<double> read_scaler(const std::string& path) {
  const json j = read_json_file(path);
  if (!j.is_object()) throw InputError(path + ": not a JSON object");
  auto it = j.find("scaling_factor");
  if (it == j.end() || it->is_null()) return std::nullopt;  // SAELens writes null once folded
  if (!it->is_number()) throw InputError(path + ": scaling_factor must be a number");
  const double s = it->get<double>();
  if (!std::isfinite(s) || s <= 0)
    throw InputError(path + ": scaling_factor must be finite and positive");
  return s;
}

void write_file_synced(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(path + ": cannot create (" + std::strerror(errno) + ")");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      throw InputError(path + ": write failed (" + std::strerror(e) + ")");
    }
    done += static_cast<size_t>(n);
  }
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw InputError(path + ": fsync failed");
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Swaps two paths in one step (Linux renameat2 RENAME_EXCHANGE). False when
// the filesystem or kernel cannot, so the caller falls back to two renames.
bool exchange_paths(const fs::path& a, const fs::path& b) {
#if defined(__linux__) && defined(SYS_renameat2)
  constexpr unsigned kRenameExchange = 1u << 1;
  return ::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), kRenameExchange) == 0;
#else
  (void)a;
  (void)b;
  return false;
#endif
}

fs::path sibling_temp(const fs::path& target, const char* tag) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() /
         ("." + target.filename().string() + "." + tag + "-" + std::to_string(::getpid()) + "-" +
          std::to_string(counter.fetch_add(1)));
}

void write_folder_contents(const Sae& sae, const fs::path& dir,
                           const std::function<void(const std::string&)>& on_file_written) {
  const SaeWeights& w = sae.weights();
  std::vector<std::pair<std::string, at::Tensor>> tensors = {
      {"W_enc", w.W_enc}, {"W_dec", w.W_dec}, {"b_dec", w.b_dec}};
  for (const auto& [name, slot] : architecture_spec(sae.config().architecture).tensors)
    tensors.emplace_back(name, w.*slot);
  if (w.W_skip.defined()) tensors.emplace_back("W_skip", w.W_skip);
  // Stored in the config's dtype (float16 halves a shipped SAE; SAELens reads
  // it back the same way); held as float32 in memory either way.
  const std::string& dtype = sae.config().dtype;
  const at::ScalarType stored = dtype == "float16"    ? at::kHalf
                                : dtype == "bfloat16" ? at::kBFloat16
                                : dtype == "float64"  ? at::kDouble
                                                      : at::kFloat;
  for (auto& [name, t] : tensors) t = t.to(at::kCPU).to(stored).contiguous();
  const auto notify = [&](const char* f) {
    if (on_file_written) on_file_written(f);
  };

  io::write_safetensors((dir / kWeights).string(), tensors);
  notify(kWeights);
  if (sae.log_sparsity().defined()) {
    io::write_safetensors((dir / kSparsity).string(),
                          {{"sparsity", sae.log_sparsity().to(at::kCPU).contiguous()}});
    notify(kSparsity);
  }
  const SaeConfig& cfg = sae.config();
  if (cfg.normalize_activations == Normalization::ExpectedAverageOnlyIn && cfg.scaling_factor) {
    write_file_synced((dir / kScaler).string(),
                      json{{"scaling_factor", *cfg.scaling_factor}}.dump(2) + "\n");
    notify(kScaler);
  }
  // cfg.json last: a folder with a config is a complete one.
  write_file_synced((dir / kCfg).string(), to_saelens_json(cfg).dump(2) + "\n");
  notify(kCfg);
  fsync_dir(dir);
}

}  // namespace

Sae load_sae(const std::string& folder, const LoadOptions& options) {
  // "" (an unset variable in a script) would otherwise read as ": not a folder".
  if (folder.empty()) throw InputError("SAE folder: the path is empty (name a SAELens SAE folder)");
  const fs::path dir(folder);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(folder + ": not a folder (expected a SAELens SAE folder with cfg.json and " +
                     kWeights + ")");
  const std::string cfg_path = (dir / kCfg).string();
  const std::string weights_path = (dir / kWeights).string();
  if (!fs::exists(cfg_path)) throw InputError(cfg_path + ": missing");
  if (!fs::exists(weights_path)) throw InputError(weights_path + ": missing");

  const json cfg_doc = read_json_file(cfg_path);
  SaeConfig cfg = parse_sae_config(cfg_doc, cfg_path);
  if (fs::exists(dir / kScaler)) {
    if (auto s = read_scaler((dir / kScaler).string())) cfg.scaling_factor = s;
  }
  if (options.scaling_factor) cfg.scaling_factor = options.scaling_factor;
  apply_hook_override(cfg, options);

  auto file = io::SafetensorsFile::open(weights_path);
  SaeWeights w;
  std::map<std::string, at::Tensor*> slots = {
      {"W_enc", &w.W_enc}, {"W_dec", &w.W_dec}, {"b_dec", &w.b_dec}, {"W_skip", &w.W_skip}};
  for (const auto& [name, slot] : architecture_spec(cfg.architecture).tensors) slots[name] = &(w.*slot);
  at::Tensor legacy_scaling, topk_threshold;
  for (const auto& info : file->tensors()) {
    const std::string& name = info.name;
    if (name == "scaling_factor") {
      legacy_scaling = file->tensor(name);
      continue;
    }
    if (!tensor_belongs(cfg, name))
      throw InputError(weights_path + ": tensor `" + name + "` does not belong to a " +
                       saelens_architecture(cfg) + " SAE (is cfg.json's architecture right?)");
    if (name == "topk_threshold") {  // a BatchTopK training checkpoint
      topk_threshold = file->tensor(name);
      continue;
    }
    const at::Tensor t = file->tensor(name);
    if (!t.is_floating_point())
      throw InputError(weights_path + ": tensor `" + name + "` has dtype " + info.dtype +
                       "; SAE weights are floating point");
    // Copy out of the mapping: weights may be trained further in place.
    *slots.at(name) = t.to(at::kFloat).clone();
  }
  if (!w.threshold.defined() && topk_threshold.defined()) {
    if (topk_threshold.numel() != 1)
      throw InputError(weights_path + ": tensor `topk_threshold` must hold one value");
    w.threshold = at::full({cfg.d_sae}, topk_threshold.to(at::kDouble).item<double>(),
                           at::TensorOptions().dtype(at::kFloat));
  }
  if (legacy_scaling.defined())
    fold_legacy_scaling_factor(cfg_doc, legacy_scaling, cfg, w, weights_path);

  if (cfg.normalize_activations == Normalization::ExpectedAverageOnlyIn && !cfg.scaling_factor)
    throw InputError(cfg_path +
                     ": normalize_activations is expected_average_only_in but the "
                     "scaling factor is unknown (no " +
                     std::string(kScaler) +
                     ", no norm_scaling_factor); it is not part of the weights");

  // Weight errors name the weights file; afterwards the SAE is known by its folder.
  Sae sae(std::move(cfg), std::move(w), weights_path);
  sae.set_source(folder);
  if (fs::exists(dir / kSparsity)) {
    const std::string sp = (dir / kSparsity).string();
    auto sf = io::SafetensorsFile::open(sp);
    if (!sf->has("sparsity")) throw InputError(sp + ": no tensor `sparsity`");
    sae.set_log_sparsity(sf->tensor("sparsity"), sp);
  }
  return sae;
}

void save_sae(const Sae& sae, const std::string& folder,
              const std::function<void(const std::string& file)>& on_file_written) {
  fs::path target = fs::absolute(fs::path(folder)).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw InputError(folder + ": cannot create its parent folder (" + ec.message() + ")");
  const bool replacing = fs::exists(target);
  if (replacing) {
    if (!fs::is_directory(target)) throw InputError(folder + ": exists and is not a folder");
    // Replacing removes the old folder's files: only ever do that to an SAE.
    if (!fs::exists(target / kCfg) && !fs::is_empty(target))
      throw InputError(folder +
                       ": exists and is not an SAE folder (no cfg.json); not replacing it");
  }

  const fs::path temp = sibling_temp(target, "saving");
  try {
    fs::create_directory(temp);
    write_folder_contents(sae, temp, on_file_written);
    if (!replacing) {
      fs::rename(temp, target);
    } else if (exchange_paths(temp, target)) {
      fs::remove_all(temp);  // now holds the previous SAE
    } else {
      const fs::path old = sibling_temp(target, "old");
      fs::rename(target, old);
      fs::rename(temp, target);
      fs::remove_all(old, ec);
    }
    fsync_dir(target.parent_path());
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(temp, ec);
    throw InputError(folder + ": cannot save (" + e.what() + ")");
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
}

}  // namespace saescope::sae

namespace saescope::sae {

void apply_hook_override(SaeConfig& cfg, const LoadOptions& options) {
  if (options.hook.empty() || options.hook == cfg.meta.hook_name) return;
  cfg.assumptions.push_back("input hook " + options.hook + " as given (--hook)" +
                            (cfg.meta.hook_name.empty() ? std::string() : ", instead of " + cfg.meta.hook_name));
  cfg.meta.hook_name = options.hook;
  cfg.meta.hook_layer = layer_of_hook(options.hook);
}

}  // namespace saescope::sae
