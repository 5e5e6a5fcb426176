#pragma once
// The readers sae_formats.cpp lists, one file each.
#include "core/sae/formats/sae_formats.h"

namespace saescope::sae {

SaeFormat saelens_format();              // saelens.cpp
SaeFormat gemma_scope_format();          // gemma_scope.cpp
SaeFormat gemma_scope_2_format();        // gemma_scope_2.cpp
SaeFormat llama_scope_format();          // llama_scope.cpp
SaeFormat sparsify_format();             // sparsify.cpp
SaeFormat dictionary_learning_format();  // dictionary_learning.cpp
SaeFormat openai_format();               // openai.cpp

}  // namespace saescope::sae
