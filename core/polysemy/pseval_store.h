#pragma once
// PS-Eval results in a workspace (core/store/SCHEMA.md). A result of kind
// "pseval" per SAE, keyed by Workspace::result_key("pseval", {model hash,
// SAE hash, dataset hash [, occurrence file hash] [, tokenizer hash]},
// params): a changed file or parameter never returns a stale result, an
// identical request never recomputes. Its metrics are the CLI's JSON object
// (pseval_report.h); per-word confusion goes to pseval_words, senses and
// occurrences (context, byte span, argmax feature, activation, PCA x/y) to
// senses / sense_occurrences.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/polysemy/pseval_report.h"
#include "core/polysemy/pseval_score.h"
#include "core/polysemy/sense_occurrence.h"
#include "core/store/workspace.h"

namespace saescope::polysemy {

// Bumped whenever the procedure changes what it computes, so older stored
// results stop matching.
inline constexpr int kPsEvalProcedureVersion = 1;

// Everything but the input files that decides a result. Batch size and device
// are left out: they change how fast, not what.
nlohmann::json pseval_params(const PsEvalOptions& options, const std::string& split,
                             bool center_writing_weights, const std::string& dtype);

// Writes one computed result (begin, tables, finish). The caller holds the
// Transaction, so a run's results land together or not at all.
int64_t write_pseval_result(store::Workspace& ws, const std::string& key, int64_t model_id,
                            int64_t sae_id, int64_t data_id, const nlohmann::json& params,
                            const nlohmann::json& metrics, const PsEvalScore& score,
                            const std::vector<SenseOccurrence>& occurrences);

// The per-word rows of a stored result (confusions, and sense scores
// recomputed from its stored occurrences).
std::vector<PerWordRow> stored_per_word_rows(store::Workspace& ws, int64_t result_id,
                                             const std::string& sae, const std::string& hook);

}  // namespace saescope::polysemy
