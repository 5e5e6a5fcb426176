#include "ui/sense_palette.h"

#include <cmath>

namespace saescope::ui {

QColor senseColourAt(int i) {
  static const QColor colours[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                                   QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                                   QColor(227, 119, 194), QColor(188, 189, 34), QColor(23, 190, 207)};
  if (i < 0) return QColor(128, 128, 128);
  if (i < 9) return colours[i];
  // Words with more senses (WordNet gives "bank" 13): further hues by the
  // golden angle, darker, so no two senses of a word share a colour.
  return QColor::fromHsv(static_cast<int>(std::fmod(20.0 + (i - 9) * 137.508, 360.0)), 200, 150);
}

}  // namespace saescope::ui
