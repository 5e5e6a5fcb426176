#pragma once
// What the reliability suites (kill anywhere, disk full) compare between an
// interrupted-then-rerun command and an uninterrupted one: file hashes, and
// JSON output without the fields that differ between any two runs.
#include <QCryptographicHash>
#include <QFile>
#include <QStringList>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace run_outcomes {

inline std::string sha256_of(const std::string& path) {
  QFile f(QString::fromStdString(path));
  if (!f.open(QIODevice::ReadOnly)) return "";
  QCryptographicHash h(QCryptographicHash::Sha256);
  h.addData(&f);
  return h.result().toHex().toStdString();
}

// Timings, timestamps, result ids, "cached" and the workspace path removed.
inline nlohmann::json without_run_fields(nlohmann::json j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      const std::string k = it.key();
      if (k.find("second") != std::string::npos || k.find("per_s") != std::string::npos || k == "cached" ||
          k.find("_at") != std::string::npos || k == "result_id" || k == "workspace") {
        it = j.erase(it);
      } else {
        *it = without_run_fields(*it);
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (auto& v : j) v = without_run_fields(v);
  }
  return j;
}

// A command run in a folder, and what a finished run left there.
struct Command {
  const char* name;
  std::function<QStringList(const std::string& dir)> args;
  std::function<std::string(const std::string& dir)> outcome;
};

}  // namespace run_outcomes
