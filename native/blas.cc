// Matrix products through OpenBLAS's cblas_sgemm, and OpenBLAS's thread settings.
//
// matmul: C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b]. Transposes are passed to sgemm as
// flags and leading dimensions describe strided views, so no operand is ever copied. A batch is a
// loop of sgemm calls; each call uses OpenBLAS's own thread pool (the only pool in the process
// while it runs: the fused kernels are single-threaded, see README of native/ in binding.gyp).
#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "common.h"

namespace genrm {
namespace {

constexpr int64_t kMaxBlasInt = 2147483647;  // Debian's OpenBLAS uses 32-bit indices

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

// Skinny products: a few rows of A against B stored (n, k) — a decode step's x @ W^T, where W is a
// Linear weight in Hugging Face's [out, in] layout. OpenBLAS 0.3.21 (Debian 12) packs B on every
// sgemm call and has no GEMV forwarding, so at m = 1..8 the packing costs more than the product
// (measured ~100-150 us for 1..8 x 256 x 768). Here each row of B is read once, against up to 8
// rows of A held in cache: memory-bound, as a matrix-vector product should be. AVX2/FMA only
// (the build adds -mavx2 -mfma where the CPU has them); otherwise everything goes to sgemm.
// Each dot product is summed in a fixed order (per-lane partial sums, then lanes pairwise), so a
// row's result does not depend on the other rows or on alignment.
#if defined(__AVX2__) && defined(__FMA__)
// Rows up to which the skinny path runs (default 8, measured against sgemm on 2 cores);
// GENRM_SKINNY_ROWS=N overrides it for benchmarking (0 turns the path off), read once.
int64_t skinnyMaxRows() {
  static const int64_t rows = [] {
    const char* e = std::getenv("GENRM_SKINNY_ROWS");
    return e ? std::max<int64_t>(0, std::atoll(e)) : int64_t{8};
  }();
  return rows;
}

inline float laneSum(__m256 v) {
  alignas(32) float l[8];
  _mm256_store_ps(l, v);
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

// out[r] = dot(a + r * lda, b) over k, for r < R. Two accumulators per row when R <= 4, so that
// enough independent FMA chains are in flight to hide their latency.
template <int R>
inline void dotRows(const float* a, int64_t lda, const float* b, int64_t k, float* out) {
  constexpr int U = R <= 4 ? 2 : 1;
  __m256 acc[R][U];
  for (int r = 0; r < R; r++)
    for (int u = 0; u < U; u++) acc[r][u] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 * U <= k; i += 8 * U)
    for (int u = 0; u < U; u++) {
      const __m256 bv = _mm256_loadu_ps(b + i + 8 * u);
      for (int r = 0; r < R; r++) acc[r][u] = _mm256_fmadd_ps(_mm256_loadu_ps(a + r * lda + i + 8 * u), bv, acc[r][u]);
    }
  for (; i + 8 <= k; i += 8) {
    const __m256 bv = _mm256_loadu_ps(b + i);
    for (int r = 0; r < R; r++) acc[r][0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + r * lda + i), bv, acc[r][0]);
  }
  for (int r = 0; r < R; r++) {
    __m256 v = acc[r][0];
    for (int u = 1; u < U; u++) v = _mm256_add_ps(v, acc[r][u]);
    float s = laneSum(v);
    for (int64_t j = i; j < k; j++) s += a[r * lda + j] * b[j];
    out[r] = s;
  }
}

// C (m x n, ldc) = alpha * A (m x k, lda) @ B^T + beta * C, with B stored (n x k, ldb); any m (blocks
// of 8 rows reuse each row of B from L1, so B is read from memory once).
void skinnyNT(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
              float beta, float* C, int64_t ldc) {
  float dots[8];
  auto put = [&](int64_t rows, int64_t r0, int64_t col) {
    for (int64_t q = 0; q < rows; q++) {
      float* c = C + (r0 + q) * ldc + col;
      *c = beta == 0.0f ? alpha * dots[q] : alpha * dots[q] + beta * *c;
    }
  };
  for (int64_t j = 0; j < n; j++) {
    const float* b = B + j * ldb;
    int64_t r = 0;
    while (m - r >= 8) dotRows<8>(A + r * lda, lda, b, k, dots), put(8, r, j), r += 8;
    if (m - r >= 4) dotRows<4>(A + r * lda, lda, b, k, dots), put(4, r, j), r += 4;
    if (m - r >= 2) dotRows<2>(A + r * lda, lda, b, k, dots), put(2, r, j), r += 2;
    if (m - r >= 1) dotRows<1>(A + r * lda, lda, b, k, dots), put(1, r, j), r += 1;
  }
}
#else
int64_t skinnyMaxRows() { return 0; }
void skinnyNT(int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*, int64_t) {}
#endif

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
    if (m <= skinnyMaxRows() && !transA && transB) {
      skinnyNT(m, n, k, alpha, a.p + oA + i * sA, lda, b.p + oB + i * sB, ldb, beta, C, ldc);
      continue;
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a.p + oA + i * sA,
                static_cast<int>(lda), b.p + oB + i * sB, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
  }
  return env.Undefined();
}

// sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc): the thinnest wrapper of
// cblas_sgemm (bounds still checked), so the benchmark can compare matmul against raw OpenBLAS.
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
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a.p, static_cast<int>(lda), b.p, static_cast<int>(ldb), beta,
              c.p, static_cast<int>(ldc));
  return env.Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int64_t n = dim(info, 0, "setThreads", "n");
  if (n < 1 || n > 1024) rangeError(info.Env(), "setThreads: n must be in [1, 1024], got " + std::to_string(n));
  openblas_set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), openblas_get_num_threads());
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
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("blasConfig", Napi::Function::New(env, BlasConfig, "blasConfig"));
  exports.Set("blasCore", Napi::Function::New(env, BlasCore, "blasCore"));
}

}  // namespace genrm
