// Products with a weight laid out ahead of time: C (m, n) = A (m, k) @ W^T for a Linear weight W
// (n, k) in Hugging Face's [out, in] layout, when the same W multiplies many batches of rows (a
// decode step's, at every step of a generation).
//
// Why: at 16-128 rows a decode step's products are too small for OpenBLAS to amortise its work per
// call (it re-packs W on every call and splits it statically between threads), and the weights
// come from L3 or memory each step, the KV cache having evicted them (native/README.md). Here W
// is re-laid once per generation into panels, and the microkernel streams it.
//
// Layout (packWeight): W^T cut into panels of 16 output columns; panel p holds, for kk = 0..k-1,
// the 16 values W[16p + j][kk] (j = 0..15) contiguously, zero-padded past n. So the microkernel
// reads one panel front to back with two vector loads per kk. The values are floats, or half bits
// when every weight is exactly a half (putHalves: an F16 checkpoint), converted as loaded, which
// gives the same products from half the bytes.
//
// Microkernel: MR = 6 rows x 16 columns of C in 12 ymm accumulators; per kk, two loads of the
// panel, six broadcasts of A, twelve FMAs (the classic BLIS shape for AVX2's 16 registers). The
// accumulators are named variables, not an array: GCC keeps an array of __m256 on the stack and
// stores it every iteration.
//
// Each C element is one FMA chain over kk = 0..k-1 from zero, whatever the task split, so a row's
// result does not depend on the other rows in the batch (as small_gemm.cc guarantees).
// Tasks on genrm's pool (pool.h): one (row chunk, panel) each, claimed one at a time.
#include <algorithm>
#include <cstring>

#include "common.h"
#include "half.h"
#include "pool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace genrm {
namespace {

constexpr int64_t kPanel = 16;  // output columns per panel
// Rows of A per task: a chunk of A (<= 96 x k floats, 264 KB at k = 688) stays in L2 while the
// task's panel passes over it.
constexpr int64_t kRowChunk = 96;

inline int64_t panels(int64_t n) { return (n + kPanel - 1) / kPanel; }

// W (n, k) into panels (see top) of T, column j of panel p being W's row 16p + j (zero past n).
// `put(src, dst, k)` writes one row's k values at a stride of kPanel, or returns false when it
// cannot (half panels: a weight that is not exactly a half); then pack returns false.
template <typename T, typename Put>
bool pack(const float* W, int64_t n, int64_t k, T* P, Put put) {
  for (int64_t p = 0; p < panels(n); p++) {
    T* dst = P + p * k * kPanel;
    for (int64_t j = 0; j < kPanel; j++) {
      const int64_t col = p * kPanel + j;
      if (col < n) {
        if (!put(W + col * k, dst + j, k)) return false;
      } else {
        for (int64_t kk = 0; kk < k; kk++) dst[kk * kPanel + j] = T{0};
      }
    }
  }
  return true;
}

bool putFloats(const float* src, float* dst, int64_t k) {
  for (int64_t kk = 0; kk < k; kk++) dst[kk * kPanel] = src[kk];
  return true;
}

// Half panels (an F16 checkpoint, as the committed base) give bit for bit the products of float
// panels, and a decode step, which streams its weights from memory, reads half the bytes. Every
// value must survive float -> half -> float bit for bit (NaN payloads and -0 included).
bool putHalves(const float* src, uint16_t* dst, int64_t k) {
  int64_t kk = 0;
#if defined(__AVX2__) && defined(__F16C__)
  for (; kk + 8 <= k; kk += 8) {
    const __m256 x = _mm256_loadu_ps(src + kk);
    const __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT);
    const __m256i same = _mm256_cmpeq_epi32(_mm256_castps_si256(_mm256_cvtph_ps(h)), _mm256_castps_si256(x));
    if (_mm256_movemask_epi8(same) != -1) return false;
    alignas(16) uint16_t b[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(b), h);
    for (int l = 0; l < 8; l++) dst[(kk + l) * kPanel] = b[l];
  }
#endif
  for (; kk < k; kk++) {
    const uint16_t h = floatToHalf(src[kk]);
    const float back = halfToFloat(h);
    if (std::memcmp(&back, &src[kk], sizeof(float)) != 0) return false;
    dst[kk * kPanel] = h;
  }
  return true;
}

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

// C rows [0, MR) x the panel's 16 columns; `cols` < 16 only in the last panel (through a buffer).
template <int MR, typename T>
inline void kernel(const float* A, int64_t lda, const T* P, int64_t k, float* C, int64_t ldc, int64_t cols, const T* next) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t kk = 0; kk < k; kk++) {
    // One kk of a panel is one 64-byte line of floats (half a line of halves): ask for the next
    // panel's as this one is used.
    if (next) _mm_prefetch(reinterpret_cast<const char*>(next + kk * kPanel), _MM_HINT_T0);
    const __m256 b0 = load8(P + kk * kPanel), b1 = load8(P + kk * kPanel + 8);
    __m256 a;
#define GENRM_ROW(r)                                       \
  if (MR > r) {                                            \
    a = _mm256_broadcast_ss(A + r * lda + kk);             \
    c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);             \
    c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);             \
  }
    GENRM_ROW(0) GENRM_ROW(1) GENRM_ROW(2) GENRM_ROW(3) GENRM_ROW(4) GENRM_ROW(5)
#undef GENRM_ROW
  }
  alignas(32) float buf[kPanel];
  const __m256 out[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < MR; r++) {
    float* dst = C + r * ldc;
    if (cols == kPanel) {
      _mm256_storeu_ps(dst, out[r][0]);
      _mm256_storeu_ps(dst + 8, out[r][1]);
    } else {
      _mm256_store_ps(buf, out[r][0]);
      _mm256_store_ps(buf + 8, out[r][1]);
      std::memcpy(dst, buf, static_cast<size_t>(cols) * sizeof(float));
    }
  }
}

// Rows [0, m) of A against one panel: blocks of 6, then the 1..5 left. The first block prefetches
// `next` (the following panel, or null): a decode step's weights come from memory (the KV cache
// evicts them between steps), and at a few rows there is little compute to hide the wait behind.
template <typename T>
void panelRows(int64_t m, int64_t k, const float* A, int64_t lda, const T* P, float* C, int64_t ldc, int64_t cols,
               const T* next) {
  int64_t r = 0;
  for (; r + 6 <= m; r += 6, next = nullptr) kernel<6>(A + r * lda, lda, P, k, C + r * ldc, ldc, cols, next);
  const float* a = A + r * lda;
  float* c = C + r * ldc;
  switch (m - r) {
    case 5: kernel<5>(a, lda, P, k, c, ldc, cols, next); break;
    case 4: kernel<4>(a, lda, P, k, c, ldc, cols, next); break;
    case 3: kernel<3>(a, lda, P, k, c, ldc, cols, next); break;
    case 2: kernel<2>(a, lda, P, k, c, ldc, cols, next); break;
    case 1: kernel<1>(a, lda, P, k, c, ldc, cols, next); break;
    default: break;
  }
}

#else

// Without AVX2/FMA: the same chains in scalar code (same order, so the same results' meaning).
template <typename T>
void panelRows(int64_t m, int64_t k, const float* A, int64_t lda, const T* P, float* C, int64_t ldc, int64_t cols, const T*) {
  for (int64_t r = 0; r < m; r++)
    for (int64_t j = 0; j < cols; j++) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < k; kk++) acc += A[r * lda + kk] * toFloat(P[kk * kPanel + j]);
      C[r * ldc + j] = acc;
    }
}

#endif

// packWeight(w, n, k, out): out (packedLength(n, k) elements) = W (n, k) laid out in panels (see
// top). out a Float32Array: always done, returns true. out a Uint16Array: half bits, returns
// whether every weight was exactly a half (false: out is not usable; pack into floats instead).
Napi::Value PackWeight(const Napi::CallbackInfo& info) {
  const char* K = "packWeight";
  const Napi::Env env = info.Env();
  F32 w = f32(info, 0, K, "w");
  const int64_t n = dim(info, 1, K, "n"), k = dim(info, 2, K, "k");
  const KvBuf out = kvBuf(info, 3, K, "out");
  const std::string shape = "(n " + std::to_string(n) + ", k " + std::to_string(k) + ")";
  need(env, K, "w", w.len, n * k, shape);
  need(env, K, "out", out.len, panels(n) * kPanel * k, shape);
  void* dst = const_cast<void*>(out.p);  // the caller's typed array, written
  if (!out.half) return Napi::Boolean::New(env, pack(w.p, n, k, static_cast<float*>(dst), putFloats));
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  return Napi::Boolean::New(env, pack(w.p, n, k, static_cast<uint16_t*>(dst), putHalves));
#else
  return Napi::Boolean::New(env, false);  // no half kernel in this build
#endif
}

// packedLength(n, k): floats a packed (n, k) weight takes.
Napi::Value PackedLength(const Napi::CallbackInfo& info) {
  const int64_t n = dim(info, 0, "packedLength", "n"), k = dim(info, 1, "packedLength", "k");
  return Napi::Number::New(info.Env(), static_cast<double>(panels(n) * kPanel * k));
}

// matmulPacked(a, packed, c, m, n, k): C (m, n) = A (m, k) @ W^T, W packed by packWeight (floats
// or half bits).
Napi::Value MatmulPacked(const Napi::CallbackInfo& info) {
  const char* K = "matmulPacked";
  const Napi::Env env = info.Env();
  F32 a = f32(info, 0, K, "a"), c = f32(info, 2, K, "c");
  const KvBuf p = kvBuf(info, 1, K, "packed");
  const int64_t m = dim(info, 3, K, "m"), n = dim(info, 4, K, "n"), k = dim(info, 5, K, "k");
  const std::string shape = "(m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " + std::to_string(k) + ")";
  need(env, K, "a", a.len, m * k, shape);
  need(env, K, "packed", p.len, panels(n) * kPanel * k, shape);
  need(env, K, "c", c.len, m * n, shape);
  if (m == 0 || n == 0) return env.Undefined();
  const int64_t np = panels(n), chunks = (m + kRowChunk - 1) / kRowChunk;
  // Below ~64k multiply-adds a second thread costs more than it saves (as in small_gemm.cc).
  const int threads = m * n * k < 65536 ? 1 : kernelThreads();
  auto run = [&](const auto* P) {
    parallelFor(chunks * np, threads, [&](int64_t t) {
      const int64_t r0 = (t / np) * kRowChunk, rows = std::min(kRowChunk, m - r0), q = t % np;
      const int64_t cols = std::min(kPanel, n - q * kPanel);
      const auto* next = q + 1 < np ? P + (q + 1) * k * kPanel : nullptr;
      panelRows(rows, k, a.p + r0 * k, k, P + q * k * kPanel, c.p + r0 * n + q * kPanel, n, cols, next);
    });
  };
  if (p.half) run(static_cast<const uint16_t*>(p.p));
  else run(static_cast<const float*>(p.p));
  return env.Undefined();
}

}  // namespace

void registerPackedGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("packWeight", Napi::Function::New(env, PackWeight, "packWeight"));
  exports.Set("packedLength", Napi::Function::New(env, PackedLength, "packedLength"));
  exports.Set("matmulPacked", Napi::Function::New(env, MatmulPacked, "matmulPacked"));
}

}  // namespace genrm
