// saescope-cli demo --out DIR: the README's main job without a display. Builds
// the demo workspace (or reuses it), writes the evaluation table (CSV), a PS-Eval
// summary per layer and — through the desktop app's charts, when it is
// installed — the MSE–L0–separation and layer-comparison charts as PNG and PDF.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/analysis/opening_feature.h"
#include "core/demo/demo_assets.h"
#include "core/demo/demo_report.h"
#include "core/demo/demo_workspace.h"
#include "core/model/model_registry.h"
#include "core/store/workspace.h"

namespace saescope::cli {
namespace {
namespace fs = std::filesystem;

struct DemoArgs {
  std::string out;
  std::string demo_dir;
  demo::DemoBuildOptions build;
  bool charts = true;
};

jobs::CancelFlag* g_cancel = nullptr;
extern "C" void on_demo_interrupt(int) {
  if (g_cancel) g_cancel->cancel();  // every step stops at a safe point; rerun resumes
  std::signal(SIGINT, SIG_DFL);
}

// The desktop app beside this binary draws the charts (QCustomPlot, the
// same ones the Evaluation view shows): `saescope --export-report DIR WS`.
// Returns its exit status, or -1 when it is not installed.
int export_charts(const std::string& workspace, const std::string& out_dir) {
  std::error_code ec;
  const fs::path gui = fs::read_symlink("/proc/self/exe", ec).parent_path() / "saescope";
  if (ec || !fs::is_regular_file(gui)) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setenv("QT_QPA_PLATFORM", "offscreen", 1);
    const std::string exe = gui.string();
    execl(exe.c_str(), exe.c_str(), "--export-report", out_dir.c_str(), workspace.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int run_demo(DemoArgs& a) {
  const demo::DemoAssets assets = demo::find_demo_assets(a.demo_dir);
  if (a.build.workspace_path.empty())
    a.build.workspace_path = (fs::path(a.out) / "demo.saescope").string();
  std::cerr << "saescope-cli: demo from " << assets.root << " (" << assets.sae_dirs.size()
            << " SAEs); workspace " << a.build.workspace_path << "\n";
  jobs::CancelFlag cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_demo_interrupt);
  jobs::ProgressSink progress(jobs::stderr_progress_line(), &cancel);
  const demo::DemoBuildResult built = demo::build_demo_workspace(assets, a.build, progress);
  std::signal(SIGINT, SIG_DFL);
  g_cancel = nullptr;
  for (const auto& line : built.log) std::cerr << "saescope-cli: " << line << "\n";

  const model::ModelInfo config = model::read_model_info(assets.model_dir);
  // train-lm leaves training.json in the model folder: the shipped demo model
  // says where it came from, so it is never taken for OpenAI's GPT-2.
  const bool ours = fs::is_regular_file(fs::path(assets.model_dir) / "training.json");
  const std::string title =
      "SAEScope demo: a " + std::to_string(config.n_layer) + "-layer, d_model " +
      std::to_string(config.d_model) + " " + config.model_type + "-architecture model" +
      (ours ? " trained by `saescope-cli train-lm` (not OpenAI's GPT-2)" : "") + ", from " +
      assets.model_dir;
  auto ws = store::Workspace::open(built.workspace_path);
  std::vector<std::string> files = demo::write_demo_report(*ws, a.out, title);
  std::cout << demo::pseval_summary(*ws, title) << "\n";
  ws.reset();
  if (a.charts) {
    const int rc = export_charts(built.workspace_path, a.out);
    if (rc == -1)
      std::cerr << "saescope-cli: charts not drawn: the desktop app (saescope) is not installed "
                   "beside saescope-cli; the table and summary are written\n";
    else if (rc != 0)
      throw InternalError("saescope --export-report failed (exit " + std::to_string(rc) +
                          "); the table and summary are in " + a.out);
    else
      for (const auto& e : fs::directory_iterator(a.out))
        if (e.path().extension() == ".png" || e.path().extension() == ".pdf")
          files.push_back(e.path().string());
  }
  std::sort(files.begin() + 2, files.end());
  std::cout << "written:\n";
  for (const auto& f : files) std::cout << "  " << f << "\n";
  auto reopened = store::Workspace::open(built.workspace_path);
  const analysis::OpeningSelection pick = analysis::opening_selection(*reopened);
  std::cout << "workspace: " << built.workspace_path << "\nopen it with: saescope "
            << built.workspace_path;
  if (pick.sae_id >= 0 && pick.feature >= 0)
    std::cout << " --sae " << pick.sae_id << " --feature " << pick.feature << "   (" << pick.hook
              << ", the feature the app opens on)";
  std::cout << "\n";
  return 0;
}

const bool registered = register_command(
    "demo", "Build the embedded demo's workspace and write its report (CSV, summary, charts)",
    [](CLI::App* sub) {
      auto a = std::make_shared<DemoArgs>();
      sub->add_option("--out", a->out, "Folder for the report (and the workspace)")->check(non_empty_path())->required();
      sub->add_option("--workspace", a->build.workspace_path,
                      "Workspace file (default: OUT/demo.saescope)")->check(non_empty_path());
      sub->add_option("--demo-dir", a->demo_dir,
                      "The demo's folder (default: installed, or this build's source tree)");
      sub->add_option("--wordnet-dir", a->build.wordnet_dir, "WordNet 3.0 database folder")
          ->capture_default_str();
      sub->add_option("--device", a->build.device, "cpu, cuda or cuda:N")->capture_default_str();
      sub->add_option("--harvest-tokens", a->build.harvest_tokens)->capture_default_str();
      sub->add_option("--eval-tokens", a->build.eval_tokens)->capture_default_str();
      sub->add_option("--pseval-split", a->build.pseval_split,
                      "WordNet pairs of this split (dev, test; \"\" for all)")
          ->capture_default_str();
      sub->add_flag("!--no-charts", a->charts, "Skip the charts (PNG/PDF)");
      return [a] { return run_demo(*a); };
    });

}  // namespace
}  // namespace saescope::cli
