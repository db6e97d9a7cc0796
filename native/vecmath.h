// Vectorizable helpers for the fused loops. (Exponentials use std::exp: with -fno-math-errno,
// glibc's expf runs at ~0.7 ns a call here, as fast as a hand-vectorized polynomial measured.)
#pragma once
#include <cmath>
#include <cstdint>

namespace genrm {

/** Sum of n floats in double, eight partial sums (vectorizes; independent of -ffast-math). */
inline double sumF64(const float* x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += static_cast<double>(x[i + j]);
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; i++) s += static_cast<double>(x[i]);
  return s;
}

/** y[i] = exp(x[i] - shift) for i < n; returns their sum in double. y may alias x. */
inline double expShiftSum(const float* x, float* y, int64_t n, float shift) {
  for (int64_t i = 0; i < n; i++) y[i] = std::exp(x[i] - shift);
  return sumF64(y, n);
}

}  // namespace genrm
