#pragma once
// Process-wide settings that must be in place before LibTorch's OpenMP runtime
// starts, i.e. before main() runs: it reads OMP_WAIT_POLICY once, when the
// library loads. With OpenMP's default spinning waits, its idle threads and
// OpenBLAS's threads fight over the cores: measured on the 2-core machine, a
// GPT-2-small forward ran at 0.49 of matmul peak (679 tokens/s) instead of
// 0.81 (1,130 tokens/s) with passive waits. So the apps re-execute themselves
// once with OMP_WAIT_POLICY=PASSIVE unless the user set it (any value), from
// the executable's .preinit_array: the dynamic loader runs that before any
// shared library's constructor, so the first start does not pay LibTorch's
// ~1 s of static initialisation (a re-exec from main() paid it twice). The
// same re-exec sets glibc's malloc to keep large freed blocks for reuse
// (GLIBC_TUNABLES, unless the user set it; why in process_setup.cpp).
namespace saescope {

// What SAESCOPE_PASSIVE_OPENMP_AT_LOAD registers: the re-exec, at load.
void passive_openmp_preinit(int argc, char** argv, char** envp);

// Call first thing in main(): a fallback for a binary without the preinit
// entry. Re-executes once with the variables set unless they are set already;
// returns only when no re-exec was needed or it failed.
void ensure_passive_openmp(char** argv);

}  // namespace saescope

// Once, at namespace scope, in the executable's main file (not in a library:
// only an executable's .preinit_array is run).
#define SAESCOPE_PASSIVE_OPENMP_AT_LOAD                                          \
  __attribute__((section(".preinit_array"), used)) static void (*saescope_preinit_entry)( \
      int, char**, char**) = &saescope::passive_openmp_preinit;
