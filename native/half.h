// IEEE half precision (binary16) <-> float32 for the KV cache's compact form, as F16C converts
// (round to nearest even; overflow to infinity; subnormals kept; NaN quiet). With F16C (every
// AVX2 CPU has it; the build adds -mf16c) through its instructions, else the same in bit code, so
// builds with and without it store the same bits (src/engine/kernels/half.ts, JS: the same, NaN
// payloads aside).
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace genrm {

inline float halfToFloat(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#else
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      uint32_t m = man;
      do {
        e++;
        m <<= 1;
      } while (!(m & 0x400));
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (m & 0x3ff) << 13;
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000 | man << 13;
  } else {
    bits = sign | (exp - 15 + 127) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
#endif
}

inline uint16_t floatToHalf(float f) {
#if defined(__F16C__)
  return _cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
#else
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint32_t sign = (b >> 16) & 0x8000;
  const int32_t exp = static_cast<int32_t>((b >> 23) & 0xff);
  const uint32_t man = b & 0x7fffff;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
  const int32_t e = exp - 127 + 15;
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return static_cast<uint16_t>(sign);
    const uint32_t m = man | 0x800000;
    const int shift = 14 - e;
    const uint32_t half = m >> shift, rest = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
    return static_cast<uint16_t>(sign | (half + ((rest > mid || (rest == mid && (half & 1))) ? 1 : 0)));
  }
  const uint32_t half = static_cast<uint32_t>(e) << 10 | man >> 13, rest = man & 0x1fff;
  return static_cast<uint16_t>(sign | (half + ((rest > 0x1000 || (rest == 0x1000 && (half & 1))) ? 1 : 0)));
#endif
}

/** Element as float: the identity for float, a conversion for half bits. */
inline float toFloat(float x) { return x; }
inline float toFloat(uint16_t h) { return halfToFloat(h); }

#if defined(__AVX2__) && defined(__F16C__)
/** Eight consecutive elements as floats. */
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
#endif

}  // namespace genrm
