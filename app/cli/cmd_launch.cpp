// `saescope-cli launch --nproc N [--master-port P] -- <command> <args…>`:
// starts N local ranks of a saescope-cli command with torchrun's environment
// (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT),
// for users without torchrun. It only starts and watches processes: the
// rendezvous and collectives are c10d's (core/distributed). When a rank
// fails, the others are given the distributed timeout's chance to stop with
// their own error (naming it), then terminated; the exit code is the first
// failure's.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "app/cli/command.h"
#include "core/common/error.h"

namespace saescope::cli {
namespace {

struct LaunchArgs {
  int nproc = 2;
  int master_port = 0;  // 0: a free one
  std::string master_addr = "127.0.0.1";
  int grace_s = 30;
};

// A port no one listens on now (the OS's pick for port 0).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (s >= 0) ::close(s);
    throw InputError("launch: cannot find a free port for the rendezvous; give --master-port");
  }
  ::close(s);
  return ntohs(a.sin_port);
}

std::vector<pid_t> g_children;  // for the signal handler
extern "C" void forward_signal(int sig) {
  for (pid_t p : g_children) ::kill(p, sig);
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string describe(int status) {
  return WIFEXITED(status) ? "exited with code " + std::to_string(WEXITSTATUS(status))
                           : "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                 strsignal(WTERMSIG(status)) + ")";
}

int run_launch(const LaunchArgs& a, std::vector<std::string> command) {
  if (!command.empty() && command.front() == "--") command.erase(command.begin());
  if (command.empty()) throw InputError("launch: give the command to run after --, e.g. launch --nproc 2 -- harvest …");
  if (a.nproc < 1) throw InputError("launch: --nproc must be at least 1");
  if (command.front() == "launch") throw InputError("launch: the command cannot be launch itself");
  const int port = a.master_port > 0 ? a.master_port : free_port();
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::cout.flush();
  for (int r = 0; r < a.nproc; ++r) {
    const pid_t launcher = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw InternalError(std::string("launch: fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      // The ranks die with the launcher, also when it is SIGKILLed (no
      // forwarding then): orphans would go on writing, or wait out their timeout.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != launcher) ::_exit(128 + SIGKILL);  // it died before prctl
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(a.nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(a.nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", a.master_addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> argv{const_cast<char*>(self.c_str())};
      for (auto& c : command) argv.push_back(const_cast<char*>(c.c_str()));
      argv.push_back(nullptr);
      ::execv(self.c_str(), argv.data());
      std::fprintf(stderr, "launch: cannot run %s: %s\n", self.c_str(), std::strerror(errno));
      ::_exit(127);
    }
    g_children.push_back(pid);
  }
  ::signal(SIGINT, forward_signal);
  ::signal(SIGTERM, forward_signal);
  std::vector<int> status(g_children.size(), -1);
  std::vector<bool> done(g_children.size(), false);
  int first_failure = -1;
  auto failed_at = std::chrono::steady_clock::now();
  size_t left = g_children.size();
  while (left > 0) {
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, WNOHANG);
    if (pid > 0) {
      for (size_t r = 0; r < g_children.size(); ++r)
        if (g_children[r] == pid && !done[r]) {
          done[r] = true;
          status[r] = st;
          --left;
          if (exit_code(st) != 0) {
            std::cerr << "launch: rank " << r << " " << describe(st) << "\n";
            if (first_failure < 0) {
              first_failure = static_cast<int>(r);
              failed_at = std::chrono::steady_clock::now();
            }
          }
        }
      continue;
    }
    if (first_failure >= 0 && std::chrono::steady_clock::now() - failed_at > std::chrono::seconds(a.grace_s))
      for (size_t r = 0; r < g_children.size(); ++r)
        if (!done[r]) ::kill(g_children[r], SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return first_failure < 0 ? 0 : exit_code(status[static_cast<size_t>(first_failure)]);
}

const bool registered = register_command(
    "launch", "Start N local ranks of a command, as torchrun does (distributed runs on c10d)", [](CLI::App* sub) {
      auto a = std::make_shared<LaunchArgs>();
      auto command = std::make_shared<std::vector<std::string>>();
      sub->add_option("--nproc", a->nproc, "Ranks to start on this machine (default 2)");
      sub->add_option("--master-port", a->master_port, "Rendezvous port (default: a free one)");
      sub->add_option("--master-addr", a->master_addr, "Rendezvous host (default 127.0.0.1)");
      sub->add_option("--grace", a->grace_s,
                      "Seconds the other ranks get to stop by themselves after one fails (default 30)");
      sub->add_option("command", *command, "-- then the saescope-cli command and its arguments")->required();
      sub->prefix_command();
      return [a, command, sub] {
        std::vector<std::string> all = *command;
        for (const auto& r : sub->remaining()) all.push_back(r);
        return run_launch(*a, all);
      };
    });

}  // namespace
}  // namespace saescope::cli
