#include "core/sae/arch/architecture.h"

#include "core/common/error.h"

namespace saescope::sae {

ArchitectureSpec standard_architecture();              // standard.cpp
ArchitectureSpec topk_architecture();                  // topk.cpp
ArchitectureSpec batchtopk_architecture();             // batchtopk.cpp
ArchitectureSpec matryoshka_batchtopk_architecture();  // matryoshka_batchtopk.cpp
ArchitectureSpec jumprelu_architecture();              // jumprelu.cpp
ArchitectureSpec gated_architecture();                 // gated.cpp

const std::vector<ArchitectureSpec>& architectures() {
  static const std::vector<ArchitectureSpec> all = {
      standard_architecture(),  topk_architecture(),     batchtopk_architecture(),
      matryoshka_batchtopk_architecture(), jumprelu_architecture(), gated_architecture(),
  };
  return all;
}

const ArchitectureSpec& architecture_spec(Architecture a) {
  for (const ArchitectureSpec& s : architectures())
    if (s.id == a) return s;
  throw InternalError("architecture without a spec");
}

const ArchitectureSpec* find_architecture(const std::string& name) {
  for (const ArchitectureSpec& s : architectures())
    if (name == s.name) return &s;
  return nullptr;
}

std::string architecture_names(bool trainable_only) {
  std::string out;
  for (const ArchitectureSpec& s : architectures())
    if (!trainable_only || s.step) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

const char* sparsity_option(SparsityKnob k) {
  switch (k) {
    case SparsityKnob::L1: return "--l1";
    case SparsityKnob::K: return "--k";
    case SparsityKnob::L0: return "--l0-coefficient";
  }
  return "?";
}

}  // namespace saescope::sae
