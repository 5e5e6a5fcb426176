// `saescope-cli workspace info FILE` (inputs and results, read only),
// `saescope-cli workspace recover FILE` (a damaged workspace: keep inputs and notes) and
// `saescope-cli workspace upgrade FILE` (an older schema, which `info` only reads).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/store/workspace.h"

namespace saescope::cli {
namespace {

using nlohmann::json;

struct WorkspaceArgs {
  std::string file;
  bool as_json = false;
};

std::string opt(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

int print_info(store::Workspace& ws, const WorkspaceArgs& a) {
  json inputs = json::array(), results = json::array();
  for (const auto& in : ws.inputs())
    inputs.push_back({{"id", in.id}, {"kind", store::to_string(in.kind)}, {"path", in.path},
                      {"content_hash", in.content_hash}, {"config", in.config}, {"added_at", in.added_at}});
  for (const auto& r : ws.results()) {
    json j = {{"id", r.id}, {"kind", r.kind}, {"status", r.done ? "done" : "running"},
              {"model_id", r.model_id ? json(*r.model_id) : json()},
              {"sae_id", r.sae_id ? json(*r.sae_id) : json()},
              {"data_id", r.data_id ? json(*r.data_id) : json()},
              {"params", r.params}, {"metrics", r.metrics}, {"created_at", r.created_at},
              {"finished_at", r.finished_at}};
    if (!r.done) j["progress"] = r.progress;
    results.push_back(j);
  }
  if (a.as_json) {
    std::cout << json({{"workspace", ws.path()}, {"inputs", inputs}, {"results", results}})
                     .dump(2, ' ', false, json::error_handler_t::replace)
              << "\n";
    return 0;
  }
  std::cout << ws.path() << "\ninputs:\n";
  for (const auto& in : ws.inputs())
    std::cout << "  " << in.id << "  " << store::to_string(in.kind) << "  " << in.path << "  "
              << in.content_hash.substr(0, 12) << "\n";
  std::cout << "results:\n";
  for (const auto& r : ws.results()) {
    std::cout << "  " << r.id << "  " << r.kind << "  " << (r.done ? "done" : "running") << "  model "
              << opt(r.model_id) << "  sae " << opt(r.sae_id) << "  data " << opt(r.data_id);
    if (r.kind == "harvest") std::cout << "  " << r.params.value("tokens", int64_t(0)) << " tokens";
    if (!r.done && r.progress.is_object() && r.progress.contains("pass"))
      std::cout << "  (pass " << r.progress["pass"] << ", window " << r.progress.value("next_window", int64_t(0)) << ")";
    std::cout << "\n";
  }
  return 0;
}

int run_info(const WorkspaceArgs& a) {
  if (!std::filesystem::exists(a.file)) throw InputError(a.file + ": no such workspace file");
  auto ws = store::Workspace::open(a.file, store::IntegrityCheck::Full, store::Access::ReadOnly);
  return store::reading_stored_json(*ws, [&] { return print_info(*ws, a); });
}

int run_upgrade(const WorkspaceArgs& a) {
  if (!std::filesystem::exists(a.file)) throw InputError(a.file + ": no such workspace file");
  auto ws = store::Workspace::open(a.file);  // opening read-write migrates
  std::cout << a.file << ": workspace schema version " << ws->db().user_version() << "\n";
  return 0;
}

int run_recover(const WorkspaceArgs& a) {
  if (!std::filesystem::exists(a.file)) throw InputError(a.file + ": no such workspace file");
  const store::RecoveryReport r = store::Workspace::recover(a.file);
  if (a.as_json) {
    std::cout << json({{"workspace", a.file}, {"damaged_copy", r.damaged_copy}, {"inputs_kept", r.inputs_kept},
                       {"notes_kept", r.notes_kept}, {"problems", r.problems}})
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << "recovered " << a.file << ": kept " << r.inputs_kept << " input(s) and " << r.notes_kept
            << " note(s); results are recomputed on demand\n"
            << "the damaged file is now " << r.damaged_copy << "\n";
  for (const auto& p : r.problems) std::cout << "not carried over: " << p << "\n";
  return 0;
}

const bool registered = register_command(
    "workspace", "Workspace file: info (inputs, results), recover (a damaged one) or upgrade (an older one)", [](CLI::App* sub) {
      sub->require_subcommand(1);
      auto info = std::make_shared<WorkspaceArgs>();
      auto recover = std::make_shared<WorkspaceArgs>();
      auto upgrade = std::make_shared<WorkspaceArgs>();
      CLI::App* i = sub->add_subcommand("info", "Inputs and results of a workspace");
      i->add_option("file", info->file, "Workspace file")->check(non_empty_path())->required();
      i->add_flag("--json", info->as_json, "Print as JSON");
      CLI::App* r = sub->add_subcommand("recover",
                                        "Move a damaged workspace aside and start a fresh one with its inputs and notes");
      r->add_option("file", recover->file, "Workspace file")->check(non_empty_path())->required();
      r->add_flag("--json", recover->as_json, "Print as JSON");
      CLI::App* u = sub->add_subcommand("upgrade", "Bring a workspace from an older SAEScope to this one's schema");
      u->add_option("file", upgrade->file, "Workspace file")->check(non_empty_path())->required();
      return [=] {
        if (i->parsed()) return run_info(*info);
        return u->parsed() ? run_upgrade(*upgrade) : run_recover(*recover);
      };
    });

}  // namespace
}  // namespace saescope::cli
