#pragma once
// The evaluation table: one row per SAE of a workspace with its latest
// reconstruction and PS-Eval results (results.metrics). The desktop app's
// Evaluation view and the headless demo report both read it, so a CSV written
// by either has the same columns and numbers.
#include <optional>
#include <string>
#include <vector>

namespace saescope::store {

class Workspace;

struct EvaluationTableRow {
  int64_t sae_id = 0;
  std::string sae_path, model, hook, hook_kind /* "resid_post" */, architecture, sparsity, dataset;
  std::string family;  // hook kind + architecture + width + sparsity: one line on a layer chart
  int layer = -1;      // from blocks.N.*; -1 when the hook has none
  long long d_sae = 0;
  std::optional<double> mse, l0, explained_variance, ce_recovered;
  std::optional<double> accuracy, precision, recall, specificity, f1, purity, nmi;
};

std::vector<EvaluationTableRow> evaluation_table(Workspace& ws);

// Column names, and one row's cells (empty for a missing number), in CSV order.
std::vector<std::string> evaluation_csv_header();
std::vector<std::string> evaluation_csv_cells(const EvaluationTableRow& row);
// The whole table as RFC 4180 CSV (header, rows, trailing newline).
std::string evaluation_csv(const std::vector<EvaluationTableRow>& rows);

}  // namespace saescope::store
