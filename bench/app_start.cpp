// App start to an interactive window with a workspace open (median of 5),
// against the same binary printing --version (Qt and LibTorch loaded, no
// window) as the baseline. Target: <= 1.5 s on the 2-core machine.
//   bench_app_start WORKSPACE.saescope   (built with the GUI; offscreen is fine)
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

static double run_ms(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto t = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(127);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s exited with %d\n", args[0].c_str(), WEXITSTATUS(status));
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s WORKSPACE.saescope\n", argv[0]);
    return 2;
  }
  const std::string app =
      (std::filesystem::path(argv[0]).parent_path() / ".." / "app" / "saescope").string();
  if (!std::getenv("DISPLAY")) setenv("QT_QPA_PLATFORM", "offscreen", 0);
  std::vector<double> base, open;
  run_ms({app, "--version"});  // warm the page cache for both
  for (int i = 0; i < 5; ++i) {
    base.push_back(run_ms({app, "--version"}));
    open.push_back(run_ms({app, argv[1], "--quit-when-ready"}));
  }
  std::printf("baseline (start, print --version, exit): median %.0f ms\n", median(base));
  std::printf("start to interactive window with workspace open: median %.0f ms (target <= 1500 ms)\n",
              median(open));
  std::printf("ratio open/baseline: %.2f\n", median(open) / median(base));
  return 0;
}
