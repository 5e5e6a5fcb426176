#pragma once
// A sense as people read it: "bank (n.): sloping land beside a body of water",
// not its WordNet offset. The offset stays in tooltips and CSV.
#include <cstddef>
#include <string>

namespace saescope::polysemy {

// `word` (lemma), the part of speech from `pos` ("N", "V", "A", "R", "S" as
// WiC and WordNet write them) or else a WordNet id's suffix ("09213565-n"),
// and the gloss cut at a word boundary to at most `max_chars` bytes (with
// "…"). Without a gloss, the sense id itself.
std::string sense_label(const std::string& word, const std::string& sense_id, const std::string& gloss,
                        std::size_t max_chars = 60, const std::string& pos = "");

}  // namespace saescope::polysemy
