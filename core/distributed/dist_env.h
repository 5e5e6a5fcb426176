#pragma once
// Where this process sits in a distributed run, from torchrun's environment
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; Slurm's srun and
// `saescope-cli launch` set the same), so `torchrun … saescope-cli harvest …`
// works unchanged.
#include <optional>
#include <string>

namespace saescope::dist {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// nullopt when WORLD_SIZE is unset or 1 (one process). InputError naming the
// variable when the set is incomplete or inconsistent (RANK ≥ WORLD_SIZE, a
// port outside 1..65535, a value that is not a number).
std::optional<DistEnv> dist_env_from_environment();

}  // namespace saescope::dist
