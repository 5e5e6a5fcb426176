#pragma once
// The demo's headless report: the evaluation table as CSV and a short text
// summary of PS-Eval per layer (with the no-SAE baseline at each hook and the
// reconstruction numbers beside it). Charts are drawn by the desktop app
// (`saescope --export-report`), which the CLI runs when it is installed.
#include <string>
#include <vector>

namespace saescope::store {
class Workspace;
}

namespace saescope::demo {

// Writes <out_dir>/evaluation.csv and <out_dir>/pseval_summary.txt atomically;
// returns their paths. `title` heads the summary.
std::vector<std::string> write_demo_report(store::Workspace& ws, const std::string& out_dir,
                                           const std::string& title);

// The summary's text (also printed by `saescope-cli demo`).
std::string pseval_summary(store::Workspace& ws, const std::string& title);

}  // namespace saescope::demo
