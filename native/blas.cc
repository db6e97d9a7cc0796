// Matrix products through OpenBLAS's cblas_sgemm, and the kernels' thread count.
//
// matmul: C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]. Transposes are passed to sgemm as
// flags and leading dimensions describe strided views, so no operand is ever copied. A batch is a
// loop of products: decode-sized ones (A @ B^T with few rows, as a decode step's x @ W^T) run on
// genrm's worker pool (small_gemm.cc, pool.h); the rest are single-threaded sgemm calls on blocks
// of C, shared out on the same pool (parallelGemm).
#include <cblas.h>

#include <algorithm>

#include "common.h"
#include "pool.h"
#include "small_gemm.h"

namespace genrm {
namespace {

constexpr int64_t kMaxBlasInt = 2147483647;  // Debian's OpenBLAS uses 32-bit indices

// Products are split here into blocks of C, each one single-threaded sgemm call, the blocks
// claimed one at a time on genrm's pool (pool.h: OpenBLAS is kept single-threaded). Below this
// much work a product runs whole on the calling thread.
constexpr double kParallelMinFlops = 2e6;
// Blocks: the longer side of C in side / 384 blocks, at least 2 and at most 16. The blocks depend
// on the shape only, never on the thread count (one thread runs the same blocks in turn), because
// sgemm's result for an element depends on where its block starts (edge tiles take other code).
// Several blocks per thread balance the load (a descheduled thread holds back one block, not half
// the product); each block packs the whole other operand again, which at the base preset's
// training shapes (3072 rows, B 256 x 688: 8 blocks) is under 1 % of a block's flops.
constexpr int64_t kBlockSide = 384;
constexpr int64_t kMaxBlocks = 16;

void gemm1(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta, C,
              static_cast<int>(ldc));
}

// C = alpha op(A) op(B) + beta C in blocks of rows (m >= n) or of columns of C, on the pool.
void parallelGemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                  const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  const bool byRows = m >= n;
  const int64_t side = byRows ? m : n;
  if (side < 2 || 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < kParallelMinFlops) {
    gemm1(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const int64_t blocks = std::clamp<int64_t>(side / kBlockSide, 2, kMaxBlocks);
  forBlocks(side, (side + blocks - 1) / blocks, 0, [&](int64_t i0, int64_t i1) {
    if (byRows)  // rows i0.. of op(A): A's columns when transposed
      gemm1(transA, transB, i1 - i0, n, k, alpha, transA ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C + i0 * ldc, ldc);
    else  // columns i0.. of op(B): B's rows when transposed
      gemm1(transA, transB, m, i1 - i0, k, alpha, A, lda, transB ? B + i0 * ldb : B + i0, ldb, beta, C + i0, ldc);
  });
}

// Checks one operand: `rows` x `cols` stored with row stride ld, `batch` items `stride` apart.
void checkOperand(const Napi::Env& env, const char* kernel, const char* name, size_t len, int64_t rows, int64_t cols,
                  int64_t ld, int64_t batch, int64_t stride, int64_t offset) {
  const int64_t minLd = cols > 1 ? cols : 1;
  if (ld < minLd || ld > kMaxBlasInt) {
    rangeError(env, std::string(kernel) + ": leading dimension of '" + name + "' is " + std::to_string(ld) +
                        " but its stored rows have " + std::to_string(cols) + " columns");
  }
  if (batch == 0 || rows == 0 || cols == 0) return;
  const int64_t needed = offset + (batch - 1) * stride + span2d(rows, cols, ld);
  need(env, kernel, name, len, needed,
       "(" + std::to_string(rows) + ", " + std::to_string(cols) + ") with ld " + std::to_string(ld) + ", batch " +
           std::to_string(batch) + " stride " + std::to_string(stride) + ", offset " + std::to_string(offset));
}

// matmul(a, b, c, m, n, k, transA, transB, alpha, beta, batch, strideA, strideB, strideC,
//        offsetA, offsetB, offsetC, lda, ldb, ldc); every argument given (defaults are filled in JS).
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const char* K = "matmul";
  const Napi::Env env = info.Env();
  F32 a = f32(info, 0, K, "a"), b = f32(info, 1, K, "b"), c = f32(info, 2, K, "c");
  const int64_t m = dim(info, 3, K, "m"), n = dim(info, 4, K, "n"), k = dim(info, 5, K, "k");
  const bool transA = flag(info, 6), transB = flag(info, 7);
  const float alpha = static_cast<float>(num(info, 8, K, "alpha"));
  const float beta = static_cast<float>(num(info, 9, K, "beta"));
  const int64_t batch = dim(info, 10, K, "batch");
  const int64_t sA = dim(info, 11, K, "strideA"), sB = dim(info, 12, K, "strideB"), sC = dim(info, 13, K, "strideC");
  const int64_t oA = dim(info, 14, K, "offsetA"), oB = dim(info, 15, K, "offsetB"), oC = dim(info, 16, K, "offsetC");
  const int64_t lda = dim(info, 17, K, "lda"), ldb = dim(info, 18, K, "ldb"), ldc = dim(info, 19, K, "ldc");
  if (m > kMaxBlasInt || n > kMaxBlasInt || k > kMaxBlasInt) rangeError(env, "matmul: m, n, k must be below 2^31");

  checkOperand(env, K, "a", a.len, transA ? k : m, transA ? m : k, lda, batch, sA, oA);
  checkOperand(env, K, "b", b.len, transB ? n : k, transB ? k : n, ldb, batch, sB, oB);
  checkOperand(env, K, "c", c.len, m, n, ldc, batch, sC, oC);
  if (m == 0 || n == 0 || batch == 0) return env.Undefined();

  for (int64_t i = 0; i < batch; i++) {
    float* C = c.p + oC + i * sC;
    if (k == 0) {
      // An empty product: C = beta * C, done here because BLAS's handling of k = 0 varies.
      for (int64_t r = 0; r < m; r++)
        for (int64_t j = 0; j < n; j++) C[r * ldc + j] = beta == 0.0f ? 0.0f : beta * C[r * ldc + j];
      continue;
    }
    // Decode-sized x @ W^T on genrm's own pool (small_gemm.cc); everything else in blocks of sgemm.
    if (!transA && transB && smallGemmNT(m, n, k, alpha, a.p + oA + i * sA, lda, b.p + oB + i * sB, ldb, beta, C, ldc, kernelThreads()))
      continue;
    parallelGemm(transA, transB, m, n, k, alpha, a.p + oA + i * sA, lda, b.p + oB + i * sB, ldb, beta, C, ldc);
  }
  return env.Undefined();
}

// sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): the thinnest wrapper of
// cblas_sgemm (bounds still checked) on OpenBLAS's own threads (kernelThreads of them), so the
// benchmark can compare matmul against raw OpenBLAS.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  const char* K = "sgemm";
  const Napi::Env env = info.Env();
  const bool transA = flag(info, 0), transB = flag(info, 1);
  const int64_t m = dim(info, 2, K, "m"), n = dim(info, 3, K, "n"), k = dim(info, 4, K, "k");
  const float alpha = static_cast<float>(num(info, 5, K, "alpha"));
  F32 a = f32(info, 6, K, "a");
  const int64_t lda = dim(info, 7, K, "lda");
  F32 b = f32(info, 8, K, "b");
  const int64_t ldb = dim(info, 9, K, "ldb");
  const float beta = static_cast<float>(num(info, 10, K, "beta"));
  F32 c = f32(info, 11, K, "c");
  const int64_t ldc = dim(info, 12, K, "ldc");
  if (m < 1 || n < 1 || k < 1 || m > kMaxBlasInt || n > kMaxBlasInt || k > kMaxBlasInt) rangeError(env, "sgemm: m, n, k must be in [1, 2^31)");
  checkOperand(env, K, "a", a.len, transA ? k : m, transA ? m : k, lda, 1, 0, 0);
  checkOperand(env, K, "b", b.len, transB ? n : k, transB ? k : n, ldb, 1, 0, 0);
  checkOperand(env, K, "c", c.len, m, n, ldc, 1, 0, 0);
  // OpenBLAS on its own threads for this one call: the baseline genrm's blocks are measured against.
  openblas_set_num_threads(kernelThreads());
  gemm1(transA, transB, m, n, k, alpha, a.p, lda, b.p, ldb, beta, c.p, ldc);
  openblas_set_num_threads(1);
  return env.Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int64_t n = dim(info, 0, "setThreads", "n");
  if (n < 1 || n > 1024) rangeError(info.Env(), "setThreads: n must be in [1, 1024], got " + std::to_string(n));
  setKernelThreads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), kernelThreads());
}

Napi::Value BlasConfig(const Napi::CallbackInfo& info) {
  const char* s = openblas_get_config();
  return Napi::String::New(info.Env(), s ? s : "");
}

Napi::Value BlasCore(const Napi::CallbackInfo& info) {
  const char* s = openblas_get_corename();
  return Napi::String::New(info.Env(), s ? s : "");
}

}  // namespace

void registerBlas(Napi::Env env, Napi::Object exports) {
  setKernelThreads(kernelThreads());  // OpenBLAS single-threaded from the start (pool.h)
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("blasConfig", Napi::Function::New(env, BlasConfig, "blasConfig"));
  exports.Set("blasCore", Napi::Function::New(env, BlasCore, "blasCore"));
}

}  // namespace genrm
