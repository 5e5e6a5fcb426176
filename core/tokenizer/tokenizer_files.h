#pragma once
// Readers for the two ways a HF model folder describes a GPT-2-style BPE
// tokenizer: vocab.json + merges.txt, or one tokenizer.json. Every problem is
// an InputError naming the file and the line or field.
#include <filesystem>

#include "core/tokenizer/bpe_vocabulary.h"

namespace saescope::tokenizer {

BpeVocabulary read_vocab_and_merges(const std::filesystem::path& vocab_json,
                                    const std::filesystem::path& merges_txt);

// model.type must be "BPE"; merges may be written as ["a b", ...] or as
// [["a", "b"], ...] (newer files); added_tokens become AddedTokens.
BpeVocabulary read_tokenizer_json(const std::filesystem::path& tokenizer_json);

}  // namespace saescope::tokenizer
