// Vectorizable helpers for the fused loops: sums in double, and exp over arrays.
//
// exp: glibc's expf is a scalar call (GCC only vectorizes it to libmvec under -ffast-math, which
// the addon does not use: allFinite and NaN reporting need IEEE semantics), ~5 ns an element
// here: swiglu took 7 % of a batch-64 decode step, and more of a training step. expArray
// computes 8 lanes at once with AVX2/FMA: x = k ln2 + r (|r| <= ln2/2, ln2 split in two parts so
// r is exact), exp(r) by Cephes expf's degree-6 polynomial, times 2^k built in the exponent bits
// as 2^(k/2) * 2^(k-k/2) so that overflow gives +inf and the subnormal range rounds gradually.
// Relative error within 4e-7 (a few ulp; tested from -110 to 110); exp(NaN) = NaN,
// exp(+inf) = inf, exp(-inf) = 0. Every element goes through the same 8-lane code (a tail is
// padded, not computed by another formula), so an element's result does not depend on where it
// sits in the array.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace genrm {

/**
 * sum_j term(j) for j < n in double, in eight independent partial sums (lane j % 8, added pairwise
 * at the end, the tail after): one serial chain of double adds was the whole cost of a row norm
 * (~1.8 ns an element), and without -ffast-math the compiler keeps whatever order the code says.
 * The order depends on n only, never on the caller's batch or thread.
 */
template <typename F>
inline double sum8(int64_t n, F term) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) acc[l] += term(j + l);
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < n; j++) s += term(j);
  return s;
}

/** Sum of n floats in double (sum8). */
inline double sumF64(const float* x, int64_t n) {
  return sum8(n, [x](int64_t i) { return static_cast<double>(x[i]); });
}

#if defined(__AVX2__) && defined(__FMA__)
/** exp of 8 floats (see the file comment). */
inline __m256 exp8(__m256 x) {
  const __m256 isNan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  // Clamp so k fits the exponent arithmetic; results past either end are inf or 0 anyway.
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-150.0f)), _mm256_set1_ps(150.0f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), xc);  // x - k * ln2 (high part, exact)
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);      // - k * ln2 (low part)
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));  // 1 + r + r^2 P(r)
  const __m256i ki = _mm256_cvtps_epi32(k);
  const __m256i k1 = _mm256_srai_epi32(ki, 1), k2 = _mm256_sub_epi32(ki, k1);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, _mm256_set1_epi32(127)), 23));
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
  return _mm256_blendv_ps(y, x, isNan);
}

/** y[i] = exp(x[i] - shift) for i < n (y may alias x). */
inline void expArray(const float* x, float* y, int64_t n, float shift) {
  const __m256 sh = _mm256_set1_ps(shift);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), sh)));
  if (i < n) {
    float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(buf, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_storeu_ps(buf, exp8(_mm256_sub_ps(_mm256_loadu_ps(buf), sh)));
    std::memcpy(y + i, buf, static_cast<size_t>(n - i) * sizeof(float));
  }
}

/** sigmoid(x) = 1 / (1 + exp(-x)) of 8 floats (exp overflow gives 1/inf = 0, as it should). */
inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
#else
inline void expArray(const float* x, float* y, int64_t n, float shift) {
  for (int64_t i = 0; i < n; i++) y[i] = std::exp(x[i] - shift);
}
#endif

/** y[i] = exp(x[i] - shift) for i < n; returns their sum in double. y may alias x. */
inline double expShiftSum(const float* x, float* y, int64_t n, float shift) {
  expArray(x, y, n, shift);
  return sumF64(y, n);
}

}  // namespace genrm
