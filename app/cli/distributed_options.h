#pragma once
// The options every command that can run distributed takes, and joining the
// ranks (torchrun / srun / `saescope-cli launch` set the environment).
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>

#include "core/distributed/process_group.h"

namespace saescope::cli {

struct DistributedOptions {
  int timeout_s = 600;  // a rank that dies or hangs stops the others within this
};

inline void add_distributed_options(CLI::App* sub, DistributedOptions& o) {
  sub->add_option("--dist-timeout", o.timeout_s,
                  "Distributed runs: seconds before a rank that died or hung stops the others (default 600)");
}

// The run's group (nullptr for one process).
inline dist::ProcessGroup* join_ranks(const DistributedOptions& o) {
  return dist::join_from_environment(std::chrono::milliseconds(int64_t(o.timeout_s) * 1000));
}

// Only rank 0 prints results (every rank prints its own errors).
inline bool prints_results() { return !dist::world() || dist::world()->is_root(); }

}  // namespace saescope::cli
