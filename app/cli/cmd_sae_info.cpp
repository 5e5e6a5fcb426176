// `saescope-cli sae-info PATH`: what SAEScope reads from an SAE in any of the
// layouts it knows (sae_formats.h): the layout, the architecture, the sizes,
// the hooks in and out, the input normalisation and every assumption the
// reader made that the files do not state.
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/sae/formats/sae_formats.h"

namespace saescope::cli {
namespace {

struct SaeInfoArgs {
  std::string path, hook;
  bool as_json = false;
};

nlohmann::json describe(const sae::Sae& s, const sae::SaeFormat& format) {
  const sae::SaeConfig& c = s.config();
  nlohmann::json norm = {{"kind", sae::to_string(c.normalize_activations)}};
  if (c.scaling_factor) norm["scaling_factor"] = *c.scaling_factor;
  if (c.output_scaling_factor) norm["output_scaling_factor"] = *c.output_scaling_factor;
  nlohmann::json j = {
      {"path", s.source()},
      {"format", format.name},
      {"format_title", format.title},
      {"kind", !c.transcoder ? "sae" : c.skip_connection ? "skip_transcoder" : "transcoder"},
      {"architecture", sae::to_string(c.architecture)},
      {"saelens_architecture", sae::saelens_architecture(c)},
      {"d_in", c.d_in},
      {"d_sae", c.d_sae},
      {"d_out", c.output_width()},
      {"hook_in", c.meta.hook_name},
      {"hook_out", c.output_hook()},
      {"apply_b_dec_to_input", c.apply_b_dec_to_input},
      {"normalization", norm},
      {"dtype", c.dtype},
      {"center_writing_weights", c.center_writing_weights},
      {"center_writing_weights_source", c.center_writing_weights_source},
      {"assumptions", c.assumptions}};
  if (c.k > 0) j["k"] = c.k;
  if (c.meta.hook_layer) j["layer"] = *c.meta.hook_layer;
  if (!c.meta.model_name.empty()) j["model_name"] = c.meta.model_name;
  return j;
}

int run_sae_info(const SaeInfoArgs& a) {
  sae::LoadOptions lo;
  lo.hook = a.hook;
  const sae::Sae s = sae::open_sae(a.path, lo);
  // open_sae detected the layout; its name is in the config.
  const sae::SaeFormat* format = nullptr;
  for (const sae::SaeFormat& f : sae::sae_formats())
    if (s.config().format == f.name) format = &f;
  const nlohmann::json j = describe(s, *format);
  const sae::SaeConfig& c = s.config();
  if (a.as_json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << a.path << "\n  layout        " << format->title << "\n  kind          " << j["kind"].get<std::string>()
            << " (" << j["saelens_architecture"].get<std::string>() << ")\n  sizes         d_in " << c.d_in
            << ", d_sae " << c.d_sae << ", d_out " << c.output_width()
            << (c.k > 0 ? ", k " + std::to_string(c.k) : std::string()) << "\n  hook in       "
            << j["hook_in"].get<std::string>() << "\n  hook out      " << j["hook_out"].get<std::string>()
            << "\n  normalisation " << j["normalization"].dump() << "\n  b_dec on input "
            << (c.apply_b_dec_to_input ? "subtracted" : "not subtracted") << "\n  stored dtype  "
            << c.dtype << "\n";
  for (const std::string& note : c.assumptions) std::cout << "  assumed: " << note << "\n";
  return 0;
}

const bool registered = register_command(
    "sae-info", "Say what an SAE file or folder is: layout, architecture, sizes, hooks, assumptions",
    [](CLI::App* sub) {
      auto a = std::make_shared<SaeInfoArgs>();
      sub->add_option("path", a->path, "An SAE folder, or a .npz / .pt / .safetensors file")
          ->check(non_empty_path())->required();
      sub->add_option("--hook", a->hook, "The SAE's input hook, overriding what its files say or its path implies");
      sub->add_flag("--json", a->as_json, "Print JSON");
      return [a] { return run_sae_info(*a); };
    });

}  // namespace
}  // namespace saescope::cli
