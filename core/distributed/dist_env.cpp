#include "core/distributed/dist_env.h"

#include <cstdlib>
#include <string>

#include "core/common/error.h"

namespace saescope::dist {
namespace {

std::optional<std::string> variable(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

int integer(const char* name, const std::string& value, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (errno != 0 || end == value.c_str() || *end != '\0' || v < lo || v > hi)
    throw InputError(std::string("environment variable ") + name + "=" + value + " is not a whole number in " +
                     std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v);
}

}  // namespace

std::optional<DistEnv> dist_env_from_environment() {
  const auto world = variable("WORLD_SIZE");
  if (!world) return std::nullopt;
  DistEnv e;
  e.world_size = integer("WORLD_SIZE", *world, 1, 1 << 20);
  if (e.world_size == 1) return std::nullopt;
  const auto rank = variable("RANK");
  if (!rank) throw InputError("WORLD_SIZE is " + *world + " but RANK is not set: start the ranks with torchrun, "
                              "srun or `saescope-cli launch`");
  e.rank = integer("RANK", *rank, 0, e.world_size - 1);
  e.local_rank = variable("LOCAL_RANK") ? integer("LOCAL_RANK", *variable("LOCAL_RANK"), 0, 1 << 20) : 0;
  const auto addr = variable("MASTER_ADDR");
  if (!addr) throw InputError("WORLD_SIZE is " + *world + " but MASTER_ADDR (the rendezvous host) is not set");
  e.master_addr = *addr;
  if (const auto port = variable("MASTER_PORT")) e.master_port = integer("MASTER_PORT", *port, 1, 65535);
  return e;
}

}  // namespace saescope::dist
