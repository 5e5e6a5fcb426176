#pragma once
// What the release readers share: a config for an SAE read from a layout
// other than SAELens's, and finding a file in a folder or taking the file.
#include <optional>
#include <string>

#include "core/sae/sae_config.h"

namespace saescope::sae {

// A config for releases trained on a model's own activations (not
// TransformerLens's centred residual stream, no folded value biases).
SaeConfig release_config(Architecture arch, const std::string& format_title);

// `path` itself when it is a file named `name` (or, with name empty, any
// file); path/name when `path` is a folder holding it; else nullopt.
std::optional<std::string> file_in(const std::string& path, const std::string& name);

// A path component: "…/gemma-scope-2b-pt-res/layer_3/…" has "layer_3" at some
// depth. Returns the components from the root down.
std::vector<std::string> path_components(const std::string& path);

}  // namespace saescope::sae
