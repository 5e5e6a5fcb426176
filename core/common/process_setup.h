#pragma once
// Process-wide settings that must be in place before LibTorch's OpenMP runtime
// starts, i.e. before main() runs: it reads OMP_WAIT_POLICY once, when the
// library loads. With OpenMP's default spinning waits, its idle threads and
// OpenBLAS's threads fight over the cores: measured on the 2-core machine, a
// GPT-2-small forward ran at 0.49 of matmul peak (679 tokens/s) instead of
// 0.81 (1,130 tokens/s) with passive waits. So the apps re-execute themselves
// once with OMP_WAIT_POLICY=PASSIVE unless the user set it (any value).
namespace saescope {

// Call first thing in main(). Returns only when no re-exec was needed or it
// failed (the process then runs with the default policy).
void ensure_passive_openmp(char** argv);

}  // namespace saescope
