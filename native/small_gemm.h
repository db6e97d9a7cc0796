// Decode-sized products C = alpha * A @ B^T + beta * C on genrm's worker pool (small_gemm.cc).
#pragma once

#include <cstdint>

namespace genrm {

// Computes the product and returns true when it is one this path takes (m small enough,
// AVX2/FMA built in); returns false, touching nothing, otherwise (the caller uses sgemm).
bool smallGemmNT(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb,
                 float beta, float* C, int64_t ldc, int threads);

}  // namespace genrm
