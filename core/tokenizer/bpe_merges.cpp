#include "core/tokenizer/bpe_merges.h"

#include <queue>

namespace saescope::tokenizer {

std::size_t BpeMerges::slot_of(std::uint64_t key) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
  while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
  return i;
}

void BpeMerges::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{kEmpty, {0, 0}});
  for (const Slot& s : old)
    if (s.key != kEmpty) slots_[slot_of(s.key)] = s;
}

void BpeMerges::add(TokenId left, TokenId right, TokenId merged) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const std::uint64_t key = key_of(left, right);
  Slot& slot = slots_[slot_of(key)];
  if (slot.key == kEmpty) ++count_;
  slot = Slot{key, {next_rank_++, merged}};
}

const BpeMerges::Rule* BpeMerges::find(TokenId left, TokenId right) const {
  if (slots_.empty()) return nullptr;
  const Slot& slot = slots_[slot_of(key_of(left, right))];
  return slot.key == kEmpty ? nullptr : &slot.rule;
}

void BpeMerges::apply(std::vector<TokenId>& symbols, std::vector<std::uint32_t>* lengths) const {
  const int n = static_cast<int>(symbols.size());
  if (n < 2) return;
  // Symbols form a linked list over their starting positions; a merged-away
  // symbol gets id -1.
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  // Candidates are (rank << 32 | position): the smallest is the lowest rank,
  // leftmost first. Ranks are unique per rule, so a candidate is still valid
  // when the pair now at its position has a rule of the same rank.
  const auto candidate = [&](int pos) -> std::uint64_t {
    if (pos < 0 || next[pos] < 0) return kEmpty;
    const Rule* rule = find(symbols[pos], symbols[next[pos]]);
    return rule ? (static_cast<std::uint64_t>(rule->rank) << 32) | static_cast<std::uint32_t>(pos)
                : kEmpty;
  };
  std::vector<std::uint64_t> heap;
  heap.reserve(n);
  for (int i = 0; i + 1 < n; ++i)
    if (const std::uint64_t c = candidate(i); c != kEmpty) heap.push_back(c);
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<std::uint64_t>> queue(
      std::greater<std::uint64_t>(), std::move(heap));  // heapify: O(n)

  while (!queue.empty()) {
    const std::uint64_t top = queue.top();
    queue.pop();
    const int pos = static_cast<int>(top & 0xFFFFFFFFu);
    if (symbols[pos] < 0 || next[pos] < 0) continue;  // merged away, or now last
    const Rule* rule = find(symbols[pos], symbols[next[pos]]);
    if (!rule || rule->rank != static_cast<std::int32_t>(top >> 32)) continue;  // stale
    const int right = next[pos];
    symbols[pos] = rule->merged;
    symbols[right] = -1;
    if (lengths) (*lengths)[pos] += (*lengths)[right];
    next[pos] = next[right];
    if (next[pos] >= 0) prev[next[pos]] = pos;
    if (const std::uint64_t c = candidate(prev[pos]); c != kEmpty) queue.push(c);
    if (const std::uint64_t c = candidate(pos); c != kEmpty) queue.push(c);
  }

  int out = 0;
  for (int i = 0; i >= 0; i = next[i]) {
    if (lengths) (*lengths)[out] = (*lengths)[i];
    symbols[out++] = symbols[i];
  }
  symbols.resize(out);
  if (lengths) lengths->resize(out);
}

}  // namespace saescope::tokenizer
