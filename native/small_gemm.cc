// Decode-sized products C = alpha * A @ B^T + beta * C, with B stored (n, k): x @ W^T where W is a
// Linear weight in Hugging Face's [out, in] layout and A holds a decode step's rows (one per
// sequence in the batch, m = 1 .. ~128).
//
// Why not sgemm: OpenBLAS 0.3.21 (Debian 12) packs B on every call and has no GEMV forwarding, so
// at m = 1..8 the packing costs more than the product (~100-150 us for 1..8 x 256 x 768), and it
// splits the work statically between its threads, so one descheduled thread stalls the call a
// whole scheduler slice (pool.h). Here:
//   - each task owns a chunk of B's rows (C's columns), claimed from the shared pool, so B is read
//     from memory once in all, and a slow thread holds back one chunk at most;
//   - inside a chunk, MR x NR tiles of C are dot products over k: MR rows of A against NR rows of
//     B, MR * NR accumulators in registers (4 x 3 = 12 of the 16 ymm registers), B's NR rows kept
//     in L1 while every row block of A passes;
//   - each C element is one dot product summed in a fixed order (8 lane sums over k, the k % 8
//     tail in the first lanes, then the lanes pairwise), whatever the tile, chunk or thread: so a
//     row's result does not depend on the other rows in the batch.
// AVX2/FMA only (the build adds -mavx2 -mfma where the CPU has them); otherwise sgemm does all.
#include "small_gemm.h"

#include <algorithm>
#include <cstdlib>

#include "pool.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace genrm {

#if defined(__AVX2__) && defined(__FMA__)
namespace {

// Rows up to which this path runs (default 8; above it OpenBLAS's packed kernels win, see
// native/README.md); GENRM_SMALL_GEMM_ROWS=N overrides it (0 turns the path off), read once.
int64_t maxRows() {
  static const int64_t rows = [] {
    const char* e = std::getenv("GENRM_SMALL_GEMM_ROWS");
    return e ? std::max<int64_t>(0, std::atoll(e)) : int64_t{8};
  }();
  return rows;
}

// ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)) for each of four vectors at once: two rounds of
// horizontal adds pair the lanes in exactly that order, then the 128-bit halves are added.
inline __m128 laneSums4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 ab = _mm256_hadd_ps(a, b), cd = _mm256_hadd_ps(c, d);
  const __m256 abcd = _mm256_hadd_ps(ab, cd);  // [a b c d] low half + [a b c d] high half
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

inline float laneSum(__m256 v) { return _mm_cvtss_f32(laneSums4(v, v, v, v)); }

// dots[r][j] = dot(A row r, B row j) over k, for r < MR, j < NR.
template <int MR, int NR>
inline void tile(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float dots[MR][NR]) {
  __m256 acc[MR][NR];
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) acc[r][j] = _mm256_setzero_ps();
  int64_t i = 0;
  auto step = [&](auto load) {
    __m256 b[NR];
    for (int j = 0; j < NR; j++) b[j] = load(B + j * ldb + i);
    for (int r = 0; r < MR; r++) {
      const __m256 a = load(A + r * lda + i);
      for (int j = 0; j < NR; j++) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]);
    }
  };
  for (; i + 8 <= k; i += 8) step([](const float* p) { return _mm256_loadu_ps(p); });
  if (i < k) {
    // The k % 8 tail as one more step with the missing lanes read as 0 (masked loads touch no
    // memory past the row), so every element is summed the same way, whatever its tile.
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k - i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    step([mask](const float* p) { return _mm256_maskload_ps(p, mask); });
  }
  for (int j = 0; j < NR; j++) {
    int r = 0;
    for (; r + 4 <= MR; r += 4) {
      alignas(16) float s[4];
      _mm_store_ps(s, laneSums4(acc[r][j], acc[r + 1][j], acc[r + 2][j], acc[r + 3][j]));
      for (int q = 0; q < 4; q++) dots[r + q][j] = s[q];
    }
    for (; r < MR; r++) dots[r][j] = laneSum(acc[r][j]);
  }
}

template <int MR, int NR>
inline void tileStore(const float* A, int64_t lda, const float* B, int64_t ldb, int64_t k, float alpha, float beta, float* C,
                      int64_t ldc) {
  float dots[MR][NR];
  tile<MR, NR>(A, lda, B, ldb, k, dots);
  for (int r = 0; r < MR; r++)
    for (int j = 0; j < NR; j++) {
      float* c = C + r * ldc + j;
      *c = beta == 0.0f ? alpha * dots[r][j] : alpha * dots[r][j] + beta * *c;
    }
}

// Every row of A against B's rows [j, j + NR): row blocks of 4, then the 1..3 left.
template <int NR>
void columns(int64_t m, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc, int64_t ahead) {
  // B's next `ahead` rows (the next tile of this chunk) are asked for now, so they arrive while
  // this tile computes: a decode step's weights and KV cache exceed L3, so each weight matrix
  // comes from memory, and B's rows (k floats each) are short streams for the hardware
  // prefetcher. Measured: batch-1 generation ~1.3x faster (few rows: little compute to hide the
  // loads behind); no gain measured at 16-64 rows.
  for (int64_t j = NR; j < NR + ahead; j++)
    for (int64_t i = 0; i < k; i += 16) _mm_prefetch(reinterpret_cast<const char*>(B + j * ldb + i), _MM_HINT_T0);
  int64_t r = 0;
  for (; r + 4 <= m; r += 4) tileStore<4, NR>(A + r * lda, lda, B, ldb, k, alpha, beta, C + r * ldc, ldc);
  switch (m - r) {
    case 3: tileStore<3, NR>(A + r * lda, lda, B, ldb, k, alpha, beta, C + r * ldc, ldc); break;
    case 2: tileStore<2, NR>(A + r * lda, lda, B, ldb, k, alpha, beta, C + r * ldc, ldc); break;
    case 1: tileStore<1, NR>(A + r * lda, lda, B, ldb, k, alpha, beta, C + r * ldc, ldc); break;
    default: break;
  }
}

// B rows (C columns) per task: enough work per claim to amortise it, enough tasks to balance.
constexpr int64_t kChunk = 24;

}  // namespace

bool smallGemmNT(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float beta, float* C, int64_t ldc, int threads) {
  if (m < 1 || m > maxRows() || n < 1 || k < 1) return false;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  // Below ~64k multiply-adds a second thread costs more than it saves.
  const int use = m * n * k < 65536 ? 1 : threads;
  parallelFor(chunks, use, [&](int64_t t) {
    const int64_t j0 = t * kChunk, j1 = std::min(n, j0 + kChunk);
    int64_t j = j0;
    // With few rows, wider column blocks keep enough independent FMA chains in flight.
    // Prefetch the next tile's rows, but not past this chunk's end (another task's rows).
    auto ahead = [&](int64_t next, int64_t nr) { return std::max<int64_t>(0, std::min(nr, j1 - next)); };
    if (m <= 2)
      for (; j + 6 <= j1; j += 6) columns<6>(m, k, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc, ahead(j + 6, 6));
    for (; j + 3 <= j1; j += 3) columns<3>(m, k, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc, ahead(j + 3, 3));
    if (j1 - j == 2) columns<2>(m, k, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc, 0);
    if (j1 - j == 1) columns<1>(m, k, alpha, A, lda, B + j * ldb, ldb, beta, C + j, ldc, 0);
  });
  return true;
}

#else

bool smallGemmNT(int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*, int64_t, int) {
  return false;
}

#endif

}  // namespace genrm
