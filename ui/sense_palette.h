#pragma once
// One colour per sense of a word, the same in the Senses view and the report.
#include <QColor>

namespace saescope::ui {

// Sense `i` of a word (0-based); grey for -1 (no sense).
QColor senseColourAt(int i);

}  // namespace saescope::ui
