#pragma once
// The SAE release layouts SAEScope reads, as data: one reader file per layout
// (this folder), one line each in sae_formats.cpp. open_sae() tries them in
// order on what a path holds and reads with the first that claims it; every
// reader produces the same in-memory Sae (hook in, hook out, processing flags,
// normalisation), and says in SaeConfig::assumptions what it inferred.
// Adding a layout: a file with a `SaeFormat <name>_format()` and a line in
// sae_formats.cpp (core/sae/README.md).
#include <string>
#include <vector>

#include "core/sae/sae.h"
#include "core/sae/sae_folder.h"

namespace saescope::sae {

struct SaeFormat {
  const char* name;   // "saelens", "gemma_scope", ...: what sae-info prints
  const char* title;  // "Gemma Scope (Gemma 2)"
  const char* needs;  // what the path must hold, for the "matches no layout" message
  // Whether `path` (a folder or a file, existing) is in this layout. Cheap:
  // looks at names and, at most, small files.
  bool (*claims)(const std::string& path);
  // Reads it; InputError naming the file and what is wrong.
  Sae (*read)(const std::string& path, const LoadOptions& options);
};

const std::vector<SaeFormat>& sae_formats();

// The layout `path` is in, or nullptr (also for a missing or empty path).
const SaeFormat* find_sae_format(const std::string& path);

// The layout `path` is in, or InputError: the path is empty or missing, or it
// matches no layout (the message lists each layout and what it needs).
const SaeFormat& detect_sae_format(const std::string& path);

// Reads the SAE at `path` (a folder, or a .npz / .pt / .safetensors file),
// whatever its layout. Every command's --sae goes through here.
Sae open_sae(const std::string& path, const LoadOptions& options = {});

}  // namespace saescope::sae
