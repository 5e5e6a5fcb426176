#pragma once
// VERIFY_MESSAGE(msg, parts...): fails unless `msg` (an InputError's what(),
// "" when none was thrown) holds every one of `parts` — the file, the tensor,
// the fault. Shared by the suites that check what people are told.
#include <QtTest>
#include <string>
#include <vector>

#define VERIFY_MESSAGE(msg, ...)                                                                    \
  do {                                                                                              \
    const std::string m_ = (msg);                                                                   \
    QVERIFY2(!m_.empty(), "no InputError thrown");                                                  \
    for (const std::string& part_ : std::vector<std::string>{__VA_ARGS__})                          \
      QVERIFY2(m_.find(part_) != std::string::npos, ("'" + part_ + "' not in: " + m_).c_str());     \
  } while (0)
