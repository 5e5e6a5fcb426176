#pragma once
// Chart builders over QCustomPlot and their export (PNG with size and DPI, PDF,
// SVG). Colours follow the window palette so light and dark themes both read.
#include <QString>
#include <vector>

#include "core/store/feature_store.h"

class QCustomPlot;

namespace saescope::ui {

void applyPalette(QCustomPlot* plot);
// Activation histogram on a log-x axis, titled with the density.
void plotHistogram(QCustomPlot* plot, const store::Histogram& h, double density);
// Top positive (green) and negative (red) logit effects as horizontal bars.
void plotLogitEffects(QCustomPlot* plot, const std::vector<store::LogitEffect>& effects);

// Writes the chart by the file's extension: .png (width×height px at dpi),
// .pdf, .svg. Returns false and fills `error` naming the file on failure.
bool exportChart(QCustomPlot* plot, const QString& path, int width, int height, int dpi,
                 QString* error);

// Adds "Export chart…" to the chart's context menu: asks for file, size, DPI.
void addExportAction(QCustomPlot* plot);

}  // namespace saescope::ui
