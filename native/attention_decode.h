// The decode path's inner loops (attention.cc): one query's scores against cached key rows, and
// its output over cached value rows, every head together, reading float32 or half-bit K/V.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "half.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#endif

namespace genrm {

// Dot product with 8 independent partial sums, so the compiler vectorises it without
// -ffast-math (which would break NaN checks elsewhere).
// b may hold half bits (a half-precision KV cache).
template <typename T>
inline float dot8(const float* a, const T* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[i + l] * toFloat(b[i + l]);
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; i++) s += a[i] * toFloat(b[i]);
  return s;
}

// Decode scores for one cached key row: S[h * tk] = scale * q_h . k[kvCol[h] ..] for every head h
// (S points at the key's column). Each key row is read once, all heads together, front to back.
// With AVX2 and headDim a multiple of 8: four heads at a time, one 8-lane accumulator each (four
// independent FMA chains), their lane sums in one shuffle sequence; otherwise dot8 per head.
// kr: float32, or half bits (T = uint16_t), converted as loaded.
template <typename T>
inline void decodeScores(const float* Qi, const T* kr, const int64_t* kvCol, int64_t H, int64_t D, float scale, float* S,
                         int64_t tk) {
  int64_t h = 0;
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  if (D % 8 == 0) {
    for (; h + 4 <= H; h += 4) {
      __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
      for (int64_t d = 0; d < D; d += 8)
        for (int t = 0; t < 4; t++)
          acc[t] = _mm256_fmadd_ps(_mm256_loadu_ps(Qi + (h + t) * D + d), load8(kr + kvCol[h + t] + d), acc[t]);
      const __m256 ab = _mm256_hadd_ps(acc[0], acc[1]), cd = _mm256_hadd_ps(acc[2], acc[3]);
      const __m256 abcd = _mm256_hadd_ps(ab, cd);
      alignas(16) float sums[4];
      _mm_store_ps(sums, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
      for (int t = 0; t < 4; t++) S[(h + t) * tk] = scale * sums[t];
    }
  }
#endif
  for (; h < H; h++) S[h * tk] = scale * dot8(Qi + h * D, kr + kvCol[h], D);
}

// Decode output for one query over keys [j0, j1): out_h += sum_j P[h][j] v_j[kvCol[h] ..], every
// head, each head's sum continuing the chain already in Oi (loaded into registers, stored back), so
// splitting the keys into ranges gives bit for bit the sum of one pass from zero. With AVX2 and
// headDim a multiple of 8 (up to 128): per head, the output in registers over the range (headDim / 8
// accumulators), one FMA per 8 floats of a value row; with `prefetch`, the value rows of later keys
// are prefetched during the first head's pass (each row is then read from cache by the other heads).
template <typename RowFn>
inline void decodeValues(const float* S, int64_t tk, int64_t j0, int64_t j1, RowFn valueRow, const int64_t* kvCol, int64_t H,
                         int64_t D, float* Oi, bool prefetch) {
  using T = std::remove_const_t<std::remove_pointer_t<decltype(valueRow(0))>>;
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
  if (D % 8 == 0 && D <= 128) {
    const int64_t lanes = D / 8;
    for (int64_t h = 0; h < H; h++) {
      __m256 acc[16];
      for (int64_t l = 0; l < lanes; l++) acc[l] = _mm256_loadu_ps(Oi + h * D + 8 * l);
      const float* P = S + h * tk;
      for (int64_t j = j0; j < j1; j++) {
        if (prefetch && h == 0 && j + 4 < j1) {
          const char* ahead = reinterpret_cast<const char*>(valueRow(j + 4));
          for (int64_t off = 0; off < H * D * static_cast<int64_t>(sizeof(T)); off += 64) _mm_prefetch(ahead + off, _MM_HINT_T0);
        }
        const float pj = P[j];
        if (pj == 0.0f) continue;
        const __m256 p = _mm256_set1_ps(pj);
        const T* vh = valueRow(j) + kvCol[h];
        for (int64_t l = 0; l < lanes; l++) acc[l] = _mm256_fmadd_ps(p, load8(vh + 8 * l), acc[l]);
      }
      for (int64_t l = 0; l < lanes; l++) _mm256_storeu_ps(Oi + h * D + 8 * l, acc[l]);
    }
    return;
  }
#endif
  for (int64_t j = j0; j < j1; j++) {
    const T* vr = valueRow(j);
    for (int64_t h = 0; h < H; h++) {
      const float pj = S[h * tk + j];
      if (pj == 0.0f) continue;
      const T* vh = vr + kvCol[h];
      float* o = Oi + h * D;
      for (int64_t d = 0; d < D; d++) o[d] += pj * toFloat(vh[d]);
    }
  }
}

// Rows that read the same shared-prefix row (a prompt's n samples, a judge's votes) are decoded
// together, up to this many per task: each block of kShareBlock prefix key/value rows is read from
// memory once and used by every row of the task from cache, where one task per row read the
// prefix once per row (a step of 64 prompts x 4 votes read each prompt's keys four times, and the
// attention ran at the memory's speed). More rows per task would leave fewer tasks to share out.
constexpr int64_t kShareRows = 8;
constexpr int64_t kShareBlock = 32;  // prefix rows: 32 KB of float keys at 256 floats a row (L1)

}  // namespace genrm
