#pragma once
// Readers for the parts of a tokenizer.json around its model: normalizer,
// pre_tokenizer, decoder, post_processor, and tokenizer_config.json. Internal
// to tokenizer_files.cpp; each names `where` in its InputErrors and lists the
// types it supports when it meets another.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer_spec.h"

namespace saescope::tokenizer {

// j["type"] as a string, "(missing)" when absent.
std::string type_name(const nlohmann::json& j);

std::vector<NormalizerStep> read_normalizer(const nlohmann::json& j, const std::string& where);
std::vector<PreTokenizerStep> read_pre_tokenizer(const nlohmann::json& j, const std::string& where);
DecoderSpec read_decoder(const nlohmann::json& j, const std::string& where);
// Fills spec.special_prefix / special_suffix; ids checked against `vocab`.
void read_post_processor(const nlohmann::json& j, const std::string& where,
                         const BpeVocabulary& vocab, TokenizerSpec& spec);
void read_tokenizer_config(const nlohmann::json& j, const std::string& where, TokenizerSpec& spec);

}  // namespace saescope::tokenizer
