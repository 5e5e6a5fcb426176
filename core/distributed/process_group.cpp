#include "core/distributed/process_group.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/common/sha256.h"

#ifdef SAESCOPE_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace saescope::dist {
namespace {

std::unique_ptr<ProcessGroup>& the_world() {
  static std::unique_ptr<ProcessGroup> group;
  return group;
}

std::string seconds(std::chrono::milliseconds t) { return std::to_string(t.count() / 1000) + " s"; }

// The local address the kernel routes to `host` by (a UDP connect sends
// nothing): the address the other ranks can reach this one at, where the
// hostname may resolve to loopback (containers, network namespaces).
std::string address_towards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return "";
  std::string out;
  for (addrinfo* a = found; a && out.empty(); a = a->ai_next) {
    const int s = ::socket(a->ai_family, SOCK_DGRAM, 0);
    if (s < 0) continue;
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    char text[INET6_ADDRSTRLEN] = {};
    if (::connect(s, a->ai_addr, a->ai_addrlen) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      const void* ip = local.ss_family == AF_INET
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
      if (::inet_ntop(local.ss_family, ip, text, sizeof text)) out = text;
    }
    ::close(s);
  }
  ::freeaddrinfo(found);
  return out;
}

}  // namespace

#ifdef SAESCOPE_HAVE_GLOO

struct ProcessGroup::Impl {
  DistEnv env;
  std::chrono::milliseconds timeout;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  int64_t sequence = 0;  // collectives so far: the same on every rank
  double sent = 0;

  // After a failed collective: every rank still alive says so in the store;
  // the ranks that do not within a few seconds are the ones that stopped.
  std::string silent_ranks() {
    const std::string prefix = "saescope/alive/" + std::to_string(sequence) + "/";
    try {
      store->set(prefix + std::to_string(env.rank), std::vector<uint8_t>{1});
      std::vector<int> silent;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      do {
        silent.clear();
        for (int r = 0; r < env.world_size; ++r)
          if (!store->check({prefix + std::to_string(r)})) silent.push_back(r);
        if (silent.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      } while (std::chrono::steady_clock::now() < deadline);
      if (silent.empty()) return "";
      std::string names;
      for (int r : silent) names += (names.empty() ? "" : ", ") + std::to_string(r);
      return (silent.size() == 1 ? "rank " : "ranks ") + names;
    } catch (const std::exception&) {
      return "rank 0 (it hosts the rendezvous at " + env.master_addr + ":" + std::to_string(env.master_port) + ")";
    }
  }

  template <typename F>
  void collective(const std::string& what, F&& run) {
    ++sequence;
    try {
      run();
    } catch (const std::exception& e) {
      const std::string who = silent_ranks();
      throw DistributedError("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": " +
                             what + " failed: " + (who.empty() ? std::string("a rank") : who) +
                             " stopped answering (died, or hung past the " + seconds(timeout) +
                             " timeout, --dist-timeout); nothing was written (" + e.what() + ")");
    }
  }
};

std::unique_ptr<ProcessGroup> ProcessGroup::join(const DistEnv& env, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->timeout = timeout;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    // torchrun's agent may host the store itself (TORCHELASTIC_USE_AGENT_STORE):
    // then rank 0 joins it as a client, as torch's env:// rendezvous does.
    const char* agent_store = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    so.isServer = env.rank == 0 && !(agent_store && std::string(agent_store) == "True");
    so.numWorkers = static_cast<std::size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // c10d's C++ side ignores GLOO_SOCKET_IFNAME (only its Python binding
    // reads it): honoured here. Otherwise the address that routes to the
    // master, not the hostname's (which may be loopback: checked with two
    // network namespaces joined by a veth pair).
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    const bool local = env.master_addr == "127.0.0.1" || env.master_addr == "localhost" || env.master_addr == "::1";
    const std::string routed = local ? std::string() : address_towards(env.master_addr, env.master_port);
    if (ifname && *ifname)
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (local)
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else if (!routed.empty())
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(routed));
    else
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 2;
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                           ": cannot join the rendezvous at " + where + " (MASTER_ADDR:MASTER_PORT) within " +
                           seconds(timeout) + ": " + e.what());
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

int ProcessGroup::rank() const { return impl_->env.rank; }
int ProcessGroup::size() const { return impl_->env.world_size; }
std::chrono::milliseconds ProcessGroup::timeout() const { return impl_->timeout; }
double ProcessGroup::bytes_sent() const { return impl_->sent; }

namespace {

// Gloo writes results from its own threads, outside any InferenceMode, which
// may not update tensors made inside one (a harvest's): those go through a
// normal copy, written back by the caller's thread.
at::Tensor writable(const at::Tensor& t) {
  if (!t.is_inference()) return t;
  c10::InferenceMode off(false);
  return t.clone();
}

}  // namespace

void ProcessGroup::allreduce_sum(at::Tensor& t, const std::string& what) {
  at::Tensor work = writable(t);
  impl_->collective(what, [&] {
    std::vector<at::Tensor> ts{work};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = impl_->timeout;
    impl_->group->allreduce(ts, o)->wait();
  });
  if (!work.is_same(t)) t.copy_(work);
  const double W = size();
  impl_->sent += 2.0 * static_cast<double>(t.nbytes()) * (W - 1) / W;
}

void ProcessGroup::broadcast(at::Tensor& t, int root, const std::string& what) {
  at::Tensor work = writable(t);
  impl_->collective(what, [&] {
    std::vector<at::Tensor> ts{work};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.timeout = impl_->timeout;
    impl_->group->broadcast(ts, o)->wait();
  });
  if (!work.is_same(t)) t.copy_(work);
  if (rank() == root) impl_->sent += static_cast<double>(t.nbytes()) * (size() - 1);
}

std::vector<at::Tensor> ProcessGroup::allgather(const at::Tensor& t, const std::string& what) {
  std::vector<std::vector<at::Tensor>> out(1);
  {
    c10::InferenceMode off(false);  // see writable()
    for (int r = 0; r < size(); ++r) out[0].push_back(at::empty_like(t));
  }
  impl_->collective(what, [&] {
    std::vector<at::Tensor> in{t.contiguous()};
    c10d::AllgatherOptions o;
    o.timeout = impl_->timeout;
    impl_->group->allgather(out, in, o)->wait();
  });
  impl_->sent += static_cast<double>(t.nbytes()) * (size() - 1);
  return out[0];
}

void ProcessGroup::barrier(const std::string& what, std::chrono::milliseconds wait) {
  impl_->collective(what, [&] {
    c10d::BarrierOptions o;
    o.timeout = wait.count() > 0 ? wait : impl_->timeout;
    impl_->group->barrier(o)->wait();
  });
}

#else  // a LibTorch or system without Gloo's headers

struct ProcessGroup::Impl {};

std::unique_ptr<ProcessGroup> ProcessGroup::join(const DistEnv& env, std::chrono::milliseconds) {
  throw DistributedError("WORLD_SIZE is " + std::to_string(env.world_size) +
                         " but this SAEScope was built without distributed support (c10d's Gloo headers: "
                         "install libgloo-dev and rebuild)");
}
ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
int ProcessGroup::rank() const { return 0; }
int ProcessGroup::size() const { return 1; }
std::chrono::milliseconds ProcessGroup::timeout() const { return {}; }
double ProcessGroup::bytes_sent() const { return 0; }
void ProcessGroup::allreduce_sum(at::Tensor&, const std::string&) {}
void ProcessGroup::broadcast(at::Tensor&, int, const std::string&) {}
std::vector<at::Tensor> ProcessGroup::allgather(const at::Tensor& t, const std::string&) { return {t}; }
void ProcessGroup::barrier(const std::string&, std::chrono::milliseconds) {}

#endif

std::vector<std::string> ProcessGroup::allgather_bytes(const std::string& mine, const std::string& what) {
  const at::Tensor size = at::tensor(std::vector<int64_t>{static_cast<int64_t>(mine.size())}, at::kLong);
  std::vector<int64_t> sizes;
  int64_t longest = 0;
  for (const at::Tensor& s : allgather(size, what)) {
    sizes.push_back(s.item<int64_t>());
    longest = std::max(longest, sizes.back());
  }
  at::Tensor padded = at::zeros({std::max<int64_t>(longest, 1)}, at::kByte);
  std::memcpy(padded.data_ptr<uint8_t>(), mine.data(), mine.size());
  std::vector<std::string> out;
  const std::vector<at::Tensor> all = allgather(padded, what);
  for (size_t r = 0; r < all.size(); ++r)
    out.emplace_back(reinterpret_cast<const char*>(all[r].data_ptr<uint8_t>()), static_cast<size_t>(sizes[r]));
  return out;
}

void ProcessGroup::check_same(const std::string& value, const std::string& what) {
  // The value's SHA-256, gathered: the same small size however long it is.
  const std::string hex = sha256_hex(value);
  const at::Tensor mine = at::tensor(std::vector<int64_t>(hex.begin(), hex.end()), at::kLong);
  const std::vector<at::Tensor> all = allgather(mine, "comparing " + what);
  std::string differ;
  for (int r = 1; r < size(); ++r)
    if (!all[static_cast<size_t>(r)].equal(all[0])) differ += (differ.empty() ? "" : ", ") + std::to_string(r);
  if (!differ.empty())
    throw DistributedError("rank " + std::to_string(rank()) + ": " + what + " differ between rank 0 and rank(s) " +
                           differ + ": every rank must be given the same files; nothing was run");
}

ProcessGroup* join_from_environment(std::chrono::milliseconds timeout) {
  if (the_world()) return the_world().get();
  const auto env = dist_env_from_environment();
  if (!env) return nullptr;
  the_world() = ProcessGroup::join(*env, timeout);
  return the_world().get();
}

ProcessGroup* world() { return the_world().get(); }

bool available() {
#ifdef SAESCOPE_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

}  // namespace saescope::dist
