#pragma once
// Each `saescope-cli` subcommand lives in its own cmd_*.cpp and registers itself
// here at static-initialisation time, so adding a command touches one file.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace saescope::cli {

// Declares the subcommand's options on `sub` and returns the action that runs
// it after parsing; the action returns the process exit code.
using CommandSetup = std::function<std::function<int()>(CLI::App* sub)>;

bool register_command(const std::string& name, const std::string& description,
                      CommandSetup setup);

// For options naming a file or folder: `--sae ""` (an unset shell variable)
// is refused while parsing ("--sae: empty path ..."), exit code 2, instead of
// reaching the engine as a nameless path.
inline CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](std::string& value) {
        return value.empty() ? std::string("empty path: name a file or folder") : std::string();
      },
      "", "NONEMPTY");
}

}  // namespace saescope::cli
