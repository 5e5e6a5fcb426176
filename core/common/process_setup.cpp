#include "core/common/process_setup.h"

#include <alloca.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace saescope {

namespace {

// The variables the apps run with, each added unless the user set it (to
// anything): the user's choice stands, and a re-executed process finds both
// set and goes on.
//  - OMP_WAIT_POLICY=PASSIVE: see process_setup.h.
//  - GLIBC_TUNABLES: LibTorch frees and allocates tensors of hundreds of MB
//    on every forward (a batch's logits over a 50k vocabulary); glibc maps
//    each afresh and unmaps it on free, so every forward page-faults and
//    zeroes them again. Served from the heap, and the heap kept, the next
//    forward reuses the pages: measured on the demo model, a 16k-token
//    sae-eval took 12.7 s instead of 18.4 s (13 s of it in the kernel
//    before). Worker threads' arenas still map what exceeds their 64 MB heaps.
constexpr const char* kVariables[] = {
    "OMP_WAIT_POLICY=PASSIVE",
    "GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736",
};
constexpr std::size_t kCount = sizeof kVariables / sizeof kVariables[0];

bool is_set(const char* const* env, const char* assignment) {
  const std::size_t name = std::strchr(assignment, '=') - assignment + 1;  // "NAME="
  for (std::size_t i = 0; env && env[i]; ++i)
    if (std::strncmp(env[i], assignment, name) == 0) return true;
  return false;
}

}  // namespace

void passive_openmp_preinit(int, char** argv, char** envp) {
  // Before any library constructor: getenv and setenv do not work yet (libc
  // installs environ from envp later), but execve does, and re-executing now
  // costs only the dynamic loader's work, not LibTorch's start-up (and the
  // malloc settings only take effect in a process started with them).
  std::size_t n = 0;
  while (envp && envp[n]) ++n;
  char** env = static_cast<char**>(alloca((n + kCount + 1) * sizeof(char*)));
  for (std::size_t i = 0; i < n; ++i) env[i] = envp[i];
  std::size_t added = 0;
  for (const char* v : kVariables)
    if (!is_set(envp, v)) env[n + added++] = const_cast<char*>(v);
  if (added == 0) return;  // set by the user, or by us
  env[n + added] = nullptr;
  execve("/proc/self/exe", argv, env);
  // exec failed (no /proc?): ensure_passive_openmp tries again from main().
}

void ensure_passive_openmp(char** argv) {
  bool added = false;
  for (const char* v : kVariables) {
    if (is_set(environ, v)) continue;  // the user's choice, or already re-executed
    const std::string assignment(v);
    const std::size_t eq = assignment.find('=');
    if (setenv(assignment.substr(0, eq).c_str(), assignment.c_str() + eq + 1, 1) != 0) return;
    added = true;
  }
  if (added) execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on with the defaults.
}

}  // namespace saescope
