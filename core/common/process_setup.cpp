#include "core/common/process_setup.h"

#include <alloca.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace saescope {

namespace {
constexpr char kVariable[] = "OMP_WAIT_POLICY=";
}

void passive_openmp_preinit(int, char** argv, char** envp) {
  // Before any library constructor: getenv and setenv do not work yet (libc
  // installs environ from envp later), but execve does, and re-executing now
  // costs only the dynamic loader's work, not LibTorch's start-up.
  std::size_t n = 0;
  for (; envp && envp[n]; ++n)
    if (std::strncmp(envp[n], kVariable, sizeof kVariable - 1) == 0) return;  // set by the user, or by us
  static char passive[] = "OMP_WAIT_POLICY=PASSIVE";
  char** env = static_cast<char**>(alloca((n + 2) * sizeof(char*)));
  for (std::size_t i = 0; i < n; ++i) env[i] = envp[i];
  env[n] = passive;
  env[n + 1] = nullptr;
  execve("/proc/self/exe", argv, env);
  // exec failed (no /proc?): ensure_passive_openmp tries again from main().
}

void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;  // the user's choice, or already re-executed
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on with the default policy.
}

}  // namespace saescope
