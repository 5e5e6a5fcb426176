#pragma once
// The prompt PS-Eval feeds the model for one context: a template with two
// fields, `{context}` and `{target_word}`, filled as Python's str.format fills
// them (the reference script uses str.format): `{{` and `}}` stand for
// literal braces, any other `{field}` is an error.
#include <cstddef>
#include <string>

namespace saescope::polysemy {

// The paper's template (gouki510/PS-Eval wic_eval.py).
inline constexpr const char* kDefaultPromptTemplate = "{context} The {target_word} means";

struct FilledPrompt {
  std::string text;
  std::size_t context_offset = 0;  // byte offset of the first {context} in `text`
};

// InputError (naming the template) when it lacks {context}, has an unknown
// field or an unmatched brace.
void check_prompt_template(const std::string& prompt_template);

FilledPrompt fill_prompt_template(const std::string& prompt_template, const std::string& context,
                                  const std::string& target_word);

}  // namespace saescope::polysemy
