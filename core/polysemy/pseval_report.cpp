#include "core/polysemy/pseval_report.h"

#include <cstdio>
#include <map>

#include "core/io/atomic_file.h"

namespace saescope::polysemy {
namespace {

nlohmann::ordered_json skipped_json(const SkipCounts& counts, std::size_t reference_lookup, bool compat) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < kSkipReasonCount; ++i) {
    const auto reason = static_cast<SkipReason>(i);
    std::size_t n = counts[i];
    if (reason == SkipReason::not_found) n -= reference_lookup;
    j[skip_reason_name(reason)] = n;
  }
  if (compat) j["reference_lookup"] = reference_lookup;
  return j;
}

nlohmann::ordered_json cosine_json(const CosineMeans& m) {
  return {{"same", m.same}, {"different", m.different}, {"same_pairs", m.same_pairs},
          {"different_pairs", m.different_pairs}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

nlohmann::ordered_json pseval_score_json(const PsEvalScore& s, const PsEvalOptions& options) {
  nlohmann::ordered_json j;
  if (!s.baseline) j["sae"] = s.name;
  j["hook"] = s.hook;
  j["baseline"] = s.baseline;
  if (s.baseline) j["argmax_of"] = "raw activation";
  j["headline"] = "f1";
  j["positive"] = "the two prompts share their argmax feature";
  const Confusion& c = s.pairs.confusion;
  const ClassificationMetrics& m = s.pairs.metrics;
  j["tp"] = c.tp;
  j["fp"] = c.fp;
  j["tn"] = c.tn;
  j["fn"] = c.fn;
  j["accuracy"] = m.accuracy;
  j["precision"] = m.precision;
  j["recall"] = m.recall;
  j["specificity"] = m.specificity;
  j["f1"] = m.f1;
  if (s.has_geometry) {
    j["cos_enc"] = cosine_json(s.cos_enc);
    j["cos_dec"] = cosine_json(s.cos_dec);
  }
  j["skipped"] = skipped_json(s.pairs.skipped, s.reference_lookup, options.reference_compat);
  j["pairs"] = c.total();
  j["pairs_total"] = s.pairs_total;
  j["not_selected"] = s.pairs.not_selected;
  if (s.has_reconstruction) {
    j["mse"] = s.mse;
    j["l0"] = s.l0;
    j["mse_prompts"] = s.reconstruction_prompts;
  }
  if (s.has_senses) {
    const ClusterScore& k = s.senses;
    j["purity"] = k.mean_purity;
    j["inverse_purity"] = k.mean_inverse_purity;
    j["nmi"] = k.mean_nmi;
    std::size_t scored = 0;
    for (const auto& w : k.words) scored += w.occurrences;
    j["senses"] = {{"occurrences", scored + k.skipped_total},
                   {"scored", scored},
                   {"words", k.words.size()},
                   {"words_averaged", k.words_averaged},
                   {"skipped", skipped_json(k.skipped, 0, false)}};
  }
  j["reference_compat"] = options.reference_compat;
  j["template"] = options.prompt_template;
  j["target_rule"] = target_rule_name(options.target);
  if (options.reference_compat) j["all_zero_as_feature_0"] = s.all_zero_as_feature_0;
  return j;
}

std::vector<PerWordRow> per_word_rows(const PsEvalScore& s) {
  std::map<std::string, PerWordRow> rows;
  for (const auto& [word, confusion] : s.pairs.per_word) {
    PerWordRow& r = rows[word];
    r.has_pairs = true;
    r.confusion = confusion;
  }
  if (s.has_senses)
    for (const WordClusterScore& w : s.senses.words) {
      PerWordRow& r = rows[w.word];
      r.has_senses = true;
      r.senses = w;
    }
  std::vector<PerWordRow> out;
  for (auto& [word, r] : rows) {
    r.sae = s.name;
    r.hook = s.hook;
    r.word = word;
    out.push_back(std::move(r));
  }
  return out;
}

void write_per_word_csv(const std::string& path, const std::vector<PerWordRow>& rows) {
  std::string text =
      "sae,hook,word,tp,fp,tn,fn,pairs,accuracy,f1,occurrences,senses,features,purity,"
      "inverse_purity,nmi\n";
  for (const PerWordRow& r : rows) {
    text += csv_field(r.sae) + "," + csv_field(r.hook) + "," + csv_field(r.word) + ",";
    if (r.has_pairs) {
      const Confusion& c = r.confusion;
      const ClassificationMetrics m = classification_metrics(c);
      text += std::to_string(c.tp) + "," + std::to_string(c.fp) + "," + std::to_string(c.tn) + "," +
              std::to_string(c.fn) + "," + std::to_string(c.total()) + "," + number(m.accuracy) + "," +
              number(m.f1) + ",";
    } else {
      text += ",,,,,,,";
    }
    if (r.has_senses) {
      const WordClusterScore& w = r.senses;
      text += std::to_string(w.occurrences) + "," + std::to_string(w.senses) + "," +
              std::to_string(w.features) + "," + number(w.purity) + "," + number(w.inverse_purity) +
              "," + number(w.nmi);
    } else {
      text += ",,,,,";
    }
    text += "\n";
  }
  io::AtomicFileWriter out(path);
  out.write(text.data(), text.size());
  out.commit();
}

}  // namespace saescope::polysemy
