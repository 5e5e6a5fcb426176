#pragma once
// Errors the engine reports to people. Every message names the file (and the
// tensor, line or field) that is wrong, so the CLI and GUI can show it as is.
#include <stdexcept>
#include <string>

namespace saescope {

// Input the user gave us is wrong (bad file, bad argument): CLI exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something failed that is not the user's fault: CLI exit code 1.
class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user (or a job's owner) asked the work to stop; never an error to show.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace saescope
