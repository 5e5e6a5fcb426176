#include "core/polysemy/pseval_template.h"

#include "core/common/error.h"

namespace saescope::polysemy {
namespace {

[[noreturn]] void bad(const std::string& tmpl, const std::string& why) {
  throw InputError("prompt template \"" + tmpl + "\": " + why +
                   " (fields: {context} and {target_word}; write {{ and }} for braces)");
}

// One pass over the template; `on_field` gets "context" or "target_word".
template <typename Text, typename Field>
void walk(const std::string& tmpl, Text&& on_text, Field&& on_field) {
  for (std::size_t i = 0; i < tmpl.size();) {
    const char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      on_text('{');
      i += 2;
    } else if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
      on_text('}');
      i += 2;
    } else if (c == '{') {
      const std::size_t close = tmpl.find('}', i);
      if (close == std::string::npos) bad(tmpl, "'{' at byte " + std::to_string(i) + " is never closed");
      const std::string name = tmpl.substr(i + 1, close - i - 1);
      if (name != "context" && name != "target_word") bad(tmpl, "unknown field {" + name + "}");
      on_field(name);
      i = close + 1;
    } else if (c == '}') {
      bad(tmpl, "single '}' at byte " + std::to_string(i));
    } else {
      on_text(c);
      ++i;
    }
  }
}

}  // namespace

void check_prompt_template(const std::string& tmpl) {
  bool has_context = false;
  walk(tmpl, [](char) {}, [&](const std::string& f) { has_context = has_context || f == "context"; });
  if (!has_context) bad(tmpl, "no {context} field");
}

FilledPrompt fill_prompt_template(const std::string& tmpl, const std::string& context,
                                  const std::string& target_word) {
  FilledPrompt out;
  bool context_seen = false;
  walk(
      tmpl, [&](char c) { out.text.push_back(c); },
      [&](const std::string& field) {
        if (field == "context") {
          if (!context_seen) out.context_offset = out.text.size();
          context_seen = true;
          out.text += context;
        } else {
          out.text += target_word;
        }
      });
  if (!context_seen) bad(tmpl, "no {context} field");
  return out;
}

}  // namespace saescope::polysemy
