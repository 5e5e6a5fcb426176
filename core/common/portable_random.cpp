#include "core/common/portable_random.h"

#include "core/common/error.h"

namespace saescope::polysemy {

std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  if (n == 0) throw InternalError("uniform_below: empty range");
  // The largest multiple of n that fits: draws at or above it would bias the
  // low residues, so they are redrawn (at most half of all draws, usually none).
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % n + 1) % n;
  std::uint64_t x = rng();
  while (x > limit) x = rng();
  return x % n;
}

}  // namespace saescope::polysemy
