#include "core/polysemy/report_word_pages.h"

#include <algorithm>
#include <map>

#include "core/polysemy/stored_occurrences.h"
#include "core/polysemy/sense_label.h"
#include "core/store/evaluation_store.h"
#include "core/store/workspace.h"

namespace saescope::polysemy {
namespace {

// The PS-Eval result whose words are best separated on average (NMI).
struct Chosen {
  int64_t result_id = -1;
  std::string sae, hook;
  std::vector<store::WordScore> scores;
};

Chosen best_result(store::Workspace& ws) {
  Chosen best;
  double best_mean = -1;
  store::EvaluationStore ev(ws.db());
  for (const store::ResultRecord& r : ws.results("pseval")) {
    if (!r.done) continue;
    std::vector<store::WordScore> scores;
    for (const std::string& w : ev.words(r.id))
      if (const auto s = ev.word_score(r.id, w); s && s->occurrences > 0) scores.push_back(*s);
    if (scores.empty()) continue;
    // Weighted by occurrences: a word seen twice scores NMI 0 or 1 by chance.
    double mean = 0, n = 0;
    for (const auto& s : scores) {
      mean += s.nmi * static_cast<double>(s.occurrences);
      n += static_cast<double>(s.occurrences);
    }
    mean /= n;
    if (mean <= best_mean) continue;
    best_mean = mean;
    best.result_id = r.id;
    best.scores = std::move(scores);
    best.sae = r.sae_id ? ws.input(*r.sae_id)->path : std::string();
    best.hook = r.metrics.value("hook", std::string());
  }
  return best;
}

WordPage page_for(store::EvaluationStore& ev, const Chosen& c, const store::WordScore& score, bool best,
                  int max_rows) {
  WordPage page;
  page.word = score.word;
  page.sae = c.sae;
  page.hook = c.hook;
  page.best = best;
  page.nmi = score.nmi;
  page.purity = score.purity;
  page.occurrences = score.occurrences;
  std::map<std::string, int> index;
  for (const store::SenseRow& s : ev.senses(c.result_id, score.word)) {
    index.emplace(s.sense_id, static_cast<int>(page.senses.size()));
    page.senses.push_back(sense_label(score.word, s.sense_id, s.gloss, 70));
  }
  const std::vector<store::OccurrenceRow> occ = ev.occurrences(c.result_id, score.word);
  const auto majority = majority_sense(stored_sense_feature_table(occ, score.word));
  // Round-robin over the senses, so each shows before any repeats.
  std::vector<std::vector<const store::OccurrenceRow*>> by_sense(page.senses.size());
  for (const auto& o : occ)
    if (const auto it = index.find(o.sense_id); it != index.end()) by_sense[static_cast<size_t>(it->second)].push_back(&o);
  for (size_t round = 0; static_cast<int>(page.rows.size()) < max_rows; ++round) {
    bool any = false;
    for (size_t s = 0; s < by_sense.size() && static_cast<int>(page.rows.size()) < max_rows; ++s) {
      if (round >= by_sense[s].size()) continue;
      any = true;
      const store::OccurrenceRow& o = *by_sense[s][round];
      const auto b = static_cast<size_t>(std::clamp<int64_t>(o.char_start, 0, static_cast<int64_t>(o.context.size())));
      const auto e = static_cast<size_t>(std::clamp<int64_t>(o.char_end, static_cast<int64_t>(b), static_cast<int64_t>(o.context.size())));
      WordPageOccurrence row{o.context.substr(0, b), o.context.substr(b, e - b), o.context.substr(e), static_cast<int>(s),
                             o.argmax_feature, -1};
      if (const auto m = majority.find(o.argmax_feature); m != majority.end())
        if (const auto it = index.find(m->second); it != index.end()) row.feature_sense = it->second;
      page.rows.push_back(std::move(row));
    }
    if (!any) break;
  }
  return page;
}

}  // namespace

std::vector<WordPage> report_word_pages(store::Workspace& ws, int per_end, int max_rows) {
  Chosen c = best_result(ws);
  if (c.result_id < 0) return {};
  // Words whose NMI means something: a feature must have had the chance to
  // recur within a sense, so at least two senses seen twice or more (one
  // occurrence per sense gives NMI 1 by construction), and at least 8
  // occurrences; the bar is lowered only when too few words pass it.
  store::EvaluationStore counts_store(ws.db());
  const auto counts = counts_store.sense_counts(c.result_id);
  const auto repeated_senses = [&](const std::string& word) {
    const auto it = counts.find(word);
    int64_t n = 0;
    if (it != counts.end())
      for (int64_t k : it->second) n += k >= 2;
    return n;
  };
  const size_t wanted = 2 * static_cast<size_t>(std::max(per_end, 0));
  for (int64_t least = 8; least >= 1; least /= 2) {
    std::vector<store::WordScore> kept;
    for (const auto& s : c.scores)
      if (s.occurrences >= least && (least == 1 || repeated_senses(s.word) >= 2)) kept.push_back(s);
    if (kept.size() >= wanted || least == 1) {
      if (!kept.empty()) c.scores = std::move(kept);
      break;
    }
  }
  std::stable_sort(c.scores.begin(), c.scores.end(), [](const store::WordScore& a, const store::WordScore& b) {
    if (a.nmi != b.nmi) return a.nmi > b.nmi;
    if (a.occurrences != b.occurrences) return a.occurrences > b.occurrences;  // the better evidenced first
    return a.word < b.word;
  });
  store::EvaluationStore ev(ws.db());
  std::vector<WordPage> pages;
  const size_t n = c.scores.size(), k = static_cast<size_t>(std::max(per_end, 0));
  if (n <= 2 * k) {
    for (size_t i = 0; i < n; ++i) pages.push_back(page_for(ev, c, c.scores[i], i < (n + 1) / 2, max_rows));
    return pages;
  }
  for (size_t i = 0; i < k; ++i) pages.push_back(page_for(ev, c, c.scores[i], true, max_rows));
  for (size_t i = n - k; i < n; ++i) pages.push_back(page_for(ev, c, c.scores[i], false, max_rows));
  return pages;
}

}  // namespace saescope::polysemy
