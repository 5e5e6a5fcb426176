#pragma once
// Running saescope-cli from a test: exit code, stdout and stderr, with
// OpenMP's idle threads passive (as the apps run); killed after `timeout_ms`.
#include <QProcess>
#include <QString>
#include <QStringList>
#include <string>

namespace cli_runner {

struct Cli {
  int code = -1;
  std::string out, err;
};

inline Cli run_cli(const QStringList& args, int timeout_ms = 120000) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_WAIT_POLICY", "passive");
  p.setProcessEnvironment(env);
  p.start(SAESCOPE_CLI_PATH, args);
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
  }
  return {p.exitCode(), p.readAllStandardOutput().toStdString(), p.readAllStandardError().toStdString()};
}

// Another program (bash, to set a limit before exec-ing saescope-cli).
inline Cli run_cli_program(const QString& program, const QStringList& args, int timeout_ms = 120000) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_WAIT_POLICY", "passive");
  p.setProcessEnvironment(env);
  p.start(program, args);
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished();
  }
  return {p.exitStatus() == QProcess::CrashExit ? -1 : p.exitCode(), p.readAllStandardOutput().toStdString(),
          p.readAllStandardError().toStdString()};
}

inline QString q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace cli_runner
