#pragma once
// The ranked merge rules of a BPE vocabulary and the merge loop itself: a
// piece starts as one symbol per byte, and the adjacent pair whose rule has
// the lowest rank is merged until no pair has a rule. Among equal ranks the
// leftmost pair goes first, which gives the same result as GPT-2's
// encoder.py (merge every occurrence of the best pair, left to right).
#include <cstdint>
#include <vector>

namespace saescope::tokenizer {

using TokenId = std::int32_t;

class BpeMerges {
 public:
  struct Rule {
    std::int32_t rank;
    TokenId merged;
  };

  // Rules must be added in rank order; a pair given twice keeps the later
  // rank, as encoder.py's dict and HF tokenizers do.
  void add(TokenId left, TokenId right, TokenId merged);
  std::size_t size() const { return count_; }

  const Rule* find(TokenId left, TokenId right) const;

  // Merges `symbols` in place. O(n log n), so that a megabyte-long run of
  // spaces (one piece) stays fast. `lengths`, when given, holds each
  // symbol's length in bytes of text and is summed along with the merges.
  void apply(std::vector<TokenId>& symbols, std::vector<std::uint32_t>* lengths = nullptr) const;

 private:
  struct Slot {
    std::uint64_t key;
    Rule rule;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static std::uint64_t key_of(TokenId left, TokenId right) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
           static_cast<std::uint32_t>(right);
  }
  std::size_t slot_of(std::uint64_t key) const;
  void grow();

  // Open addressing with linear probing: a pair lookup is the hot operation
  // of a cache miss, and this is a few times faster than std::unordered_map.
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
  std::int32_t next_rank_ = 0;
};

}  // namespace saescope::tokenizer
