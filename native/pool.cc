// The worker pool of pool.h.
//
// A job is published as one 64-bit ticket [generation:24 | tasks:20 | next:20]; a thread claims
// task `next` by compare-and-swap on the whole word. So a thread that woke late, or was
// descheduled between reading the ticket and claiming, can never claim a task of a job that has
// moved on (the generation differs) or past a job's end (tasks and next live in the same word),
// and the job's function and context stay valid while any of its tasks is unfinished, because
// the caller only returns (and publishes the next job) when every task has been counted done.
#include "pool.h"

#include "common.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace genrm {
namespace {

constexpr int kNextBits = 20;
constexpr int kTaskBits = 20;
constexpr uint64_t kField = (uint64_t{1} << 20) - 1;
constexpr uint64_t kGenMask = (uint64_t{1} << 24) - 1;
constexpr int64_t kMaxTasksPerJob = int64_t{1} << 19;  // larger jobs run in several

inline uint64_t genOf(uint64_t t) { return t >> (kNextBits + kTaskBits); }
inline int64_t tasksOf(uint64_t t) { return static_cast<int64_t>((t >> kNextBits) & kField); }
inline int64_t nextOf(uint64_t t) { return static_cast<int64_t>(t & kField); }

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long an idle worker waits (yielding) for the next job before it sleeps. A decode step's
// kernel calls come a few to tens of microseconds apart, and the JS between two steps (sampling)
// takes ~0.1-1 ms: 2 ms keeps the workers awake through a generation. A sleeping worker can take
// longer to wake (this VM's idle vCPU, or woken onto the caller's own core) than a product's
// blocks take to run, and the caller then runs them all itself: with 50 us here, matmul's 2-block
// products at 16-512 rows ran at one thread's speed after any pause, and a 16-pair CoT judge batch
// took 169-203 ms against 159 with 2 ms (best of 6, two pairs of runs). OpenBLAS's own workers
// spin ~0.1 s.
constexpr auto kSpin = std::chrono::microseconds(2000);

class Pool {
 public:
  void run(int64_t tasks, int threads, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> busy(runMu_, std::try_to_lock);
    const int helpers = static_cast<int>(std::min<int64_t>(threads, tasks)) - 1;
    if (!busy.owns_lock() || helpers <= 0) {
      for (int64_t i = 0; i < tasks; i++) fn(ctx, i);
      return;
    }
    grow(helpers);
    for (int64_t from = 0; from < tasks; from += kMaxTasksPerJob) {
      const int64_t n = std::min(kMaxTasksPerJob, tasks - from);
      Range r{fn, ctx, from};
      publish(n, helpers, &r);
      claimAll();
      // A helper may still run the last task it took; spin briefly, then give up the core to it.
      for (int i = 0; done_.load(std::memory_order_acquire) < n; i++) {
        if (i < 256) cpuRelax();
        else std::this_thread::yield();
      }
    }
  }

 private:
  struct Range {
    TaskFn fn;
    void* ctx;
    int64_t from;
  };

  void publish(int64_t n, int helpers, Range* r) {
    range_ = r;
    done_.store(0, std::memory_order_relaxed);
    limit_.store(helpers, std::memory_order_relaxed);
    gen_ = (gen_ + 1) & kGenMask;
    ticket_.store((gen_ << (kNextBits + kTaskBits)) | (static_cast<uint64_t>(n) << kNextBits), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> g(mu_);
      cv_.notify_all();
    }
  }

  // Claims and runs tasks of the current job until none is left.
  void claimAll() {
    uint64_t t = ticket_.load(std::memory_order_acquire);
    const uint64_t gen = genOf(t);
    for (;;) {
      if (genOf(t) != gen || nextOf(t) >= tasksOf(t)) return;
      if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      const Range* r = range_;  // valid: this task is not yet counted done
      r->fn(r->ctx, r->from + nextOf(t));
      done_.fetch_add(1, std::memory_order_acq_rel);
      t = ticket_.load(std::memory_order_acquire);
    }
  }

  void grow(int helpers) {
    while (static_cast<int>(workers_.size()) < helpers) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { loop(id); });
      workers_.back().detach();  // lives as long as the process (the pool is never destroyed)
    }
  }

  void loop(int id) {
    uint64_t seen = genOf(ticket_.load(std::memory_order_acquire));
    for (;;) {
      uint64_t g = genOf(ticket_.load(std::memory_order_acquire));
      if (g == seen) {
        const auto until = std::chrono::steady_clock::now() + kSpin;
        // Yield while waiting: a runnable thread (the HTTP thread of `genrm serve`, another
        // process) gets the core at once.
        for (int i = 0; g == seen; i++) {
          std::this_thread::yield();
          g = genOf(ticket_.load(std::memory_order_acquire));
          if ((i & 7) == 7 && std::chrono::steady_clock::now() > until) break;
        }
        if (g == seen) {
          std::unique_lock<std::mutex> lk(mu_);
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          cv_.wait(lk, [&] { return genOf(ticket_.load(std::memory_order_seq_cst)) != seen; });
          sleepers_.fetch_sub(1, std::memory_order_seq_cst);
          g = genOf(ticket_.load(std::memory_order_acquire));
        }
      }
      seen = g;
      if (id < limit_.load(std::memory_order_relaxed)) claimAll();
    }
  }

  std::mutex runMu_;  // one job at a time
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int> limit_{0};
  std::atomic<int> sleepers_{0};
  Range* range_ = nullptr;
  uint64_t gen_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached workers may still wait on it at exit
  return *p;
}

}  // namespace

void poolRun(int64_t tasks, int threads, TaskFn fn, void* ctx) { pool().run(tasks, threads, fn, ctx); }

namespace {
std::atomic<int> gThreads{static_cast<int>(std::max(1u, std::min(64u, std::thread::hardware_concurrency())))};
}  // namespace

int kernelThreads() { return gThreads.load(std::memory_order_relaxed); }

void setKernelThreads(int n) {
  gThreads.store(std::max(1, n), std::memory_order_relaxed);
  openblas_set_num_threads(1);
}

}  // namespace genrm
