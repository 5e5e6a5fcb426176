// saescope-cli: the engine without Qt, for servers and scripts.
// Exit codes: 0 ok, 2 bad input (file, argument), 1 internal failure.
#include <csignal>
#include <iostream>
#include <map>

#include "app/cli/command.h"
#include "core/common/error.h"
#include "core/common/process_setup.h"
#include "core/common/runtime_info.h"

SAESCOPE_PASSIVE_OPENMP_AT_LOAD

namespace saescope::cli {
namespace {
struct Registered {
  std::string description;
  CommandSetup setup;
};
std::map<std::string, Registered>& registry() {
  static std::map<std::string, Registered> commands;
  return commands;
}
}  // namespace

bool register_command(const std::string& name, const std::string& description,
                      CommandSetup setup) {
  registry()[name] = {description, std::move(setup)};
  return true;
}

}  // namespace saescope::cli

int main(int argc, char** argv) {
  using namespace saescope;
  ensure_passive_openmp(argv);
  // A file-size limit (ulimit -f, a quota) then fails a write with EFBIG, as a
  // full disk does with ENOSPC: an error naming the file instead of a kill.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"SAEScope engine, headless: sparse autoencoders on language-model activations"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("saescope-cli ") + SAESCOPE_VERSION);
  int threads = 0;
  app.add_option("--threads", threads, "Intra-op threads (default: all cores)");

  std::map<CLI::App*, std::function<int()>> actions;
  for (auto& [name, cmd] : cli::registry()) {
    CLI::App* sub = app.add_subcommand(name, cmd.description);
    actions[sub] = cmd.setup(sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  set_engine_threads(threads);
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
  } catch (const InputError& e) {
    std::cerr << "saescope-cli: error: " << e.what() << "\n";
    return 2;
  } catch (const Cancelled&) {
    std::cerr << "saescope-cli: cancelled\n";
    return 130;
  } catch (const std::exception& e) {
    std::cerr << "saescope-cli: internal error: " << e.what() << "\n";
    return 1;
  }
  return 1;
}
