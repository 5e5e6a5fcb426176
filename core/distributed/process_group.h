#pragma once
// A group of ranks on PyTorch's c10d with Gloo (CPU tensors), held directly
// and used only through the collectives LibTorch 1.13 and 2.x share
// (allreduce, allgather, broadcast, barrier), each with an explicit timeout.
// The rendezvous is c10d's TCPStore, hosted by rank 0. A collective that
// fails (a rank died, or hung past the timeout) throws DistributedError
// naming the ranks that stopped answering. c10d stays out of this header.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/distributed/dist_env.h"

namespace saescope::dist {

// The run cannot go on: another rank failed or hung, or the rendezvous could
// not be reached. Exit code 2, as bad input: nothing was written.
class DistributedError : public InputError {
 public:
  using InputError::InputError;
};

class ProcessGroup {
 public:
  // Joins the rendezvous at env.master_addr:master_port, waiting up to
  // `timeout` for every rank. Network device: GLOO_SOCKET_IFNAME's interface
  // when set, loopback for a local master, else the host's own address.
  static std::unique_ptr<ProcessGroup> join(const DistEnv& env, std::chrono::milliseconds timeout);
  ~ProcessGroup();

  int rank() const;
  int size() const;
  bool is_root() const { return rank() == 0; }
  std::chrono::milliseconds timeout() const;

  // In place, CPU tensors; `what` names the step in errors.
  void allreduce_sum(at::Tensor& t, const std::string& what);
  void broadcast(at::Tensor& t, int root, const std::string& what);
  // Every rank's `t` (same shape and dtype on each), in rank order.
  std::vector<at::Tensor> allgather(const at::Tensor& t, const std::string& what);
  // Every rank's bytes (any length each), in rank order: sizes gathered
  // first, then one gather padded to the longest.
  std::vector<std::string> allgather_bytes(const std::string& mine, const std::string& what);
  // `wait` > 0: how long to wait here instead of the group's timeout (one
  // rank's long solo step, such as building an activation cache; a rank that
  // dies is still noticed at once, by its closed connection).
  void barrier(const std::string& what, std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // DistributedError unless every rank holds the same `value` (e.g. the
  // inputs' content hashes), naming the ranks that differ from rank 0.
  void check_same(const std::string& value, const std::string& what);
  // Bytes this process has sent through collectives so far (a ring
  // allreduce of n bytes sends about 2n(W-1)/W; counted so).
  double bytes_sent() const;

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The process's group when it was started distributed (WORLD_SIZE > 1),
// joined on the first call; nullptr for one process. world() returns it
// afterwards (nullptr before, or for one process).
ProcessGroup* join_from_environment(std::chrono::milliseconds timeout);
ProcessGroup* world();

// Whether this build has c10d's Gloo backend (libgloo-dev at build time).
bool available();

}  // namespace saescope::dist
