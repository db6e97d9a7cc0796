// One persistent pool of worker threads for genrm's own parallel kernels (decode-sized matrix
// products, attention). Why not OpenBLAS's threads or a std::thread per call:
//   - OpenBLAS splits a product statically between its threads, so when one of them is
//     descheduled (another process, or the HTTP thread of `genrm serve` on a 2-core machine) the
//     call waits for it a whole scheduler slice: a 64x256x256 product went from ~0.2 ms to ~3 ms
//     under load (measured). Here tasks are claimed one at a time from a shared counter, so a
//     thread that is not running holds back at most the one task it took.
//   - starting threads per call costs tens of microseconds, as much as a decode step's attention.
// Workers wait briefly after a job (kernel calls of one decode step come microseconds apart),
// yielding the core to any other runnable thread, then sleep on a condition variable. One job at a time: a second caller (another JS thread)
// that finds the pool busy runs its tasks on its own thread instead of waiting.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace genrm {

using TaskFn = void (*)(void* ctx, int64_t task);

// Runs fn(ctx, i) for every i in [0, tasks) on up to `threads` threads (the caller is one of
// them) and returns when all are done. Tasks must be independent of which thread runs them, and
// must not call poolRun themselves (the caller holds the pool's lock while they run).
void poolRun(int64_t tasks, int threads, TaskFn fn, void* ctx);

// poolRun for a callable: parallelFor(n, threads, [&](int64_t i) { ... }).
template <typename F>
void parallelFor(int64_t tasks, int threads, F&& f) {
  if (tasks <= 0) return;
  if (threads <= 1 || tasks == 1) {
    for (int64_t i = 0; i < tasks; i++) f(i);
    return;
  }
  using Fn = typename std::remove_reference<F>::type;
  poolRun(tasks, threads, [](void* c, int64_t i) { (*static_cast<Fn*>(c))(i); }, static_cast<void*>(&f));
}

// The thread count of genrm's kernels (setThreads; default the machine's cores, at most 64). All
// of it runs on this pool: OpenBLAS itself is kept single-threaded (setKernelThreads sets it to 1),
// and large products are split into blocks here (blas.cc). Two thread pools on one machine fought:
// OpenBLAS's idle workers spin (sched_yield) for ~0.1 s after each of its calls, taking the core
// from this pool's tasks (attention, packed and small products) in between.
int kernelThreads();
void setKernelThreads(int n);

// Elementwise and row-wise kernels (SwiGLU, RMSNorm): f(begin, end) for each block of `block`
// consecutive indices of [0, n) (the same blocks on one thread or many), on kernelThreads() threads
// when n reaches `minParallel`, else on the calling thread (handing out tasks and waking a helper
// costs more than a decode step's 16-row norm saves). A kernel whose every element is computed
// within its block, the same way whichever thread runs it, gives results that do not depend on
// the thread count.
template <typename F>
void forBlocks(int64_t n, int64_t block, int64_t minParallel, F&& f) {
  if (n <= 0) return;
  parallelFor((n + block - 1) / block, n < minParallel ? 1 : kernelThreads(),
              [&](int64_t i) { f(i * block, std::min(n, (i + 1) * block)); });
}

// Row kernels (RMSNorm, the softmax family): blocks of whole rows, ~16k elements each, on the pool
// once a call has 64k elements (a prefill's or a training batch's rows; a decode step's few rows
// stay on the calling thread). f(r0, r1) for rows [r0, r1), the same blocks on any thread count.
constexpr int64_t kRowBlockElements = 16384;
constexpr int64_t kRowMinParallelElements = 65536;
inline int64_t rowsPerBlock(int64_t cols) { return cols <= 0 ? 1 : (kRowBlockElements + cols - 1) / cols; }

template <typename F>
void forRowBlocks(int64_t rows, int64_t cols, F&& f) {
  forBlocks(rows, rowsPerBlock(cols), cols <= 0 ? rows + 1 : kRowMinParallelElements / cols, f);
}

}  // namespace genrm
