// Runtime facts the CLI's `info` reports, and the CLI's exit-code contract.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "core/common/runtime_info.h"

namespace {

// `saescope-cli info --json` run with `env`; *finished: it ended within a minute.
QJsonObject cliInfo(const QProcessEnvironment& env, bool* finished) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(QStringLiteral(SAESCOPE_CLI_PATH), {QStringLiteral("info"), QStringLiteral("--json")});
  *finished = p.waitForFinished(60000);
  return QJsonDocument::fromJson(p.readAllStandardOutput()).object();
}

}  // namespace

class TestCommon : public QObject {
  Q_OBJECT
 private slots:
  void runtimeInfoNamesBlasAndThreads() {
    saescope::set_engine_threads(2);
    const auto info = saescope::runtime_info();
    QCOMPARE(info.intra_op_threads, 2);
    QVERIFY(!info.torch_version.empty());
    // The BLAS is resolved from the process's own mappings: it must exist.
    QVERIFY2(!info.blas_library.empty(), "no BLAS library mapped into the process");
    QVERIFY(QFileInfo::exists(QString::fromStdString(info.blas_library)));
  }

  void cliInfoJson() {
    QProcess p;
    p.start(QStringLiteral(SAESCOPE_CLI_PATH), {QStringLiteral("info"), QStringLiteral("--json")});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 0);
    const auto doc = QJsonDocument::fromJson(p.readAllStandardOutput());
    QVERIFY(doc.isObject());
    for (const char* key : {"libtorch", "blas", "threads", "cuda"})
      QVERIFY2(doc.object().contains(QLatin1String(key)), key);
  }

  void cliRunsWithPassiveOpenMpWaits() {
    // Without the variable the CLI runs with it; a user's own setting is kept.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("OMP_WAIT_POLICY"));
    bool finished = false;
    QJsonObject info = cliInfo(env, &finished);
    QVERIFY(finished);
    QCOMPARE(info["omp_wait_policy"].toString(), QStringLiteral("PASSIVE"));
    env.insert(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("ACTIVE"));
    info = cliInfo(env, &finished);
    QVERIFY(finished);
    QCOMPARE(info["omp_wait_policy"].toString(), QStringLiteral("ACTIVE"));
  }

  void cliKeepsFreedMemoryForReuse() {
    // Large tensors from the heap, freed memory kept (process_setup.cpp);
    // a user's own GLIBC_TUNABLES are kept as they are.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("GLIBC_TUNABLES"));
    bool finished = false;
    QJsonObject info = cliInfo(env, &finished);
    QVERIFY(finished);
    QVERIFY2(info["glibc_tunables"].toString().contains(QStringLiteral("glibc.malloc.mmap_max=0")),
             qPrintable(info["glibc_tunables"].toString()));
    QCOMPARE(info["omp_wait_policy"].toString(), env.value(QStringLiteral("OMP_WAIT_POLICY"), QStringLiteral("PASSIVE")));
    env.insert(QStringLiteral("GLIBC_TUNABLES"), QStringLiteral("glibc.malloc.check=0"));
    info = cliInfo(env, &finished);
    QVERIFY(finished);
    QCOMPARE(info["glibc_tunables"].toString(), QStringLiteral("glibc.malloc.check=0"));
  }

  void cliBadArgumentsExitTwo() {
    QProcess p;
    p.start(QStringLiteral(SAESCOPE_CLI_PATH), {QStringLiteral("no-such-command")});
    QVERIFY(p.waitForFinished(60000));
    QCOMPARE(p.exitCode(), 2);
  }
};

QTEST_GUILESS_MAIN(TestCommon)
#include "test_common.moc"
