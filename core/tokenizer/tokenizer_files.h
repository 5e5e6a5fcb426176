#pragma once
// Readers for the ways a HF model folder describes its BPE tokenizer:
// vocab.json + merges.txt (GPT-2), or tokenizer.json with the
// tokenizer_config.json beside it. Every problem is an InputError naming the
// file and the field; a type we do not implement is named, with the list of
// those we do.
#include <filesystem>

#include "core/tokenizer/tokenizer_spec.h"

namespace saescope::tokenizer {

TokenizerSpec read_vocab_and_merges(const std::filesystem::path& vocab_json,
                                    const std::filesystem::path& merges_txt);

// model.type must be "BPE"; merges may be written as ["a b", ...] or as
// [["a", "b"], ...] (newer files). tokenizer_config.json, when present,
// gives add_bos_token / add_eos_token (they override the post_processor, as
// transformers' llama and gemma tokenizers do) and eos_token.
TokenizerSpec read_tokenizer_json(const std::filesystem::path& tokenizer_json);

}  // namespace saescope::tokenizer
