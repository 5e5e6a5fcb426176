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

void BpeMerges::apply(std::vector<TokenId>& symbols) const {
  const int n = static_cast<int>(symbols.size());
  if (n < 2) return;
  // Symbols form a linked list over their starting positions; a merged-away
  // symbol gets id -1.
  std::vector<int> prev(n), next(n);
  for (int i = 0; i < n; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Candidate {
    std::int32_t rank;
    int pos;
    TokenId left, right, merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto offer = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    const TokenId left = symbols[pos], right = symbols[next[pos]];
    if (const Rule* rule = find(left, right)) queue.push({rule->rank, pos, left, right, rule->merged});
  };
  for (int i = 0; i + 1 < n; ++i) offer(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    // Stale when either side has merged since: a merged symbol is a longer
    // token, so its id can never equal what it was.
    const int right_pos = next[c.pos];
    if (symbols[c.pos] != c.left || right_pos < 0 || symbols[right_pos] != c.right) continue;
    symbols[c.pos] = c.merged;
    symbols[right_pos] = -1;
    next[c.pos] = next[right_pos];
    if (next[c.pos] >= 0) prev[next[c.pos]] = c.pos;
    offer(prev[c.pos]);
    offer(c.pos);
  }

  int out = 0;
  for (int i = 0; i >= 0; i = next[i]) symbols[out++] = symbols[i];
  symbols.resize(out);
}

}  // namespace saescope::tokenizer
