#pragma once
// Seeded sampling whose output is the same on every platform and standard
// library. std::mt19937_64's sequence is fixed by the C++ standard, but
// std::uniform_int_distribution and std::shuffle are not (libstdc++, libc++
// and MSVC differ), so datasets built from a seed use these instead.
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace saescope::polysemy {

// Uniform in [0, n) by rejection sampling (no modulo bias); n must be > 0.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n);

// Fisher-Yates from the back, drawing with uniform_below.
template <class T>
void portable_shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(uniform_below(rng, i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace saescope::polysemy
