// Elementwise kernels and reductions: add, mul, scale, axpy, sum, sumSquares, allFinite, and the
// activations SiLU, SwiGLU and GELU (tanh form) with their backward passes.
//
// Plain loops over raw pointers; GCC vectorizes them at -O3. They run on the calling thread (they
// are memory-bound), except SwiGLU, whose exponentials make it compute-bound: its large calls go
// to genrm's pool in fixed blocks (pool.h forBlocks), between OpenBLAS calls, never beside them.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "common.h"
#include "half.h"
#include "pool.h"
#include "vecmath.h"

namespace genrm {
namespace {

// Reads (a, b, out, n) and checks lengths. Outputs may alias inputs (elementwise is safe).
struct Binary {
  F32 a, b, out;
  int64_t n;
};
Binary binaryArgs(const Napi::CallbackInfo& info, const char* K, const char* na, const char* nb, const char* nout) {
  Binary r{f32(info, 0, K, na), f32(info, 1, K, nb), f32(info, 2, K, nout), dim(info, 3, K, "n")};
  const std::string shape = "n = " + std::to_string(r.n);
  need(info.Env(), K, na, r.a.len, r.n, shape);
  need(info.Env(), K, nb, r.b.len, r.n, shape);
  need(info.Env(), K, nout, r.out.len, r.n, shape);
  return r;
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  Binary r = binaryArgs(info, "add", "a", "b", "out");
  const float *a = r.a.p, *b = r.b.p;
  float* o = r.out.p;
  for (int64_t i = 0; i < r.n; i++) o[i] = a[i] + b[i];
  return info.Env().Undefined();
}

Napi::Value Mul(const Napi::CallbackInfo& info) {
  Binary r = binaryArgs(info, "mul", "a", "b", "out");
  const float *a = r.a.p, *b = r.b.p;
  float* o = r.out.p;
  for (int64_t i = 0; i < r.n; i++) o[i] = a[i] * b[i];
  return info.Env().Undefined();
}

// Converts n elements between float32 and half bits (or copies, same type).
void convertRow(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; i++) dst[i] = floatToHalf(src[i]);
}
void convertRow(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__AVX2__) && defined(__F16C__)
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, load8(src + i));
#endif
  for (; i < n; i++) dst[i] = halfToFloat(src[i]);
}
template <typename T>
void convertRow(const T* src, T* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(T));
}

// copyRows(src, dst, rows, cols, srcStride, dstOffset, dstStride): dst[dstOffset + r * dstStride + j]
// = src[r * srcStride + j] for r < rows, j < cols, each of src and dst float32 or half bits
// (converted where they differ). A decode step's new keys and values go into their rows' cache
// columns with one call a layer (rows of JS subarray + set cost ~2 us each).
Napi::Value CopyRows(const Napi::CallbackInfo& info) {
  const char* K = "copyRows";
  const KvBuf src = kvBuf(info, 0, K, "src"), dst = kvBuf(info, 1, K, "dst");
  const int64_t rows = dim(info, 2, K, "rows"), cols = dim(info, 3, K, "cols"), sS = dim(info, 4, K, "srcStride");
  const int64_t dO = dim(info, 5, K, "dstOffset"), dS = dim(info, 6, K, "dstStride");
  const std::string shape = "(rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + ")";
  if (rows == 0 || cols == 0) return info.Env().Undefined();
  if (sS < cols || dS < cols) rangeError(info.Env(), std::string(K) + ": strides must be >= cols for " + shape);
  need(info.Env(), K, "src", src.len, span2d(rows, cols, sS), shape);
  need(info.Env(), K, "dst", dst.len, dO + span2d(rows, cols, dS), shape);
  auto run = [&](const auto* s, auto* d) {
    for (int64_t r = 0; r < rows; r++) convertRow(s + r * sS, d + dO + r * dS, cols);
  };
  // The buffers are the caller's typed arrays; kvBuf gave them const, dst is written (as a Float32Array would be).
  if (src.half && dst.half) run(static_cast<const uint16_t*>(src.p), static_cast<uint16_t*>(const_cast<void*>(dst.p)));
  else if (src.half) run(static_cast<const uint16_t*>(src.p), static_cast<float*>(const_cast<void*>(dst.p)));
  else if (dst.half) run(static_cast<const float*>(src.p), static_cast<uint16_t*>(const_cast<void*>(dst.p)));
  else run(static_cast<const float*>(src.p), static_cast<float*>(const_cast<void*>(dst.p)));
  return info.Env().Undefined();
}

// scale(a, s, out, n)
Napi::Value Scale(const Napi::CallbackInfo& info) {
  const char* K = "scale";
  F32 a = f32(info, 0, K, "a");
  const float s = static_cast<float>(num(info, 1, K, "s"));
  F32 out = f32(info, 2, K, "out");
  const int64_t n = dim(info, 3, K, "n");
  need(info.Env(), K, "a", a.len, n, "n = " + std::to_string(n));
  need(info.Env(), K, "out", out.len, n, "n = " + std::to_string(n));
  for (int64_t i = 0; i < n; i++) out.p[i] = a.p[i] * s;
  return info.Env().Undefined();
}

// axpy(alpha, x, y, n): y += alpha * x
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  const char* K = "axpy";
  const float alpha = static_cast<float>(num(info, 0, K, "alpha"));
  F32 x = f32(info, 1, K, "x"), y = f32(info, 2, K, "y");
  const int64_t n = dim(info, 3, K, "n");
  need(info.Env(), K, "x", x.len, n, "n = " + std::to_string(n));
  need(info.Env(), K, "y", y.len, n, "n = " + std::to_string(n));
  for (int64_t i = 0; i < n; i++) y.p[i] += alpha * x.p[i];
  return info.Env().Undefined();
}

// Reductions accumulate in double with 8 independent partial sums (vecmath.h sum8).
template <bool Square>
double reduce(const float* x, int64_t n) {
  return sum8(n, [x](int64_t i) {
    const double v = x[i];
    return Square ? v * v : v;
  });
}

template <bool Square>
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const char* K = Square ? "sumSquares" : "sum";
  F32 x = f32(info, 0, K, "x");
  const int64_t n = dim(info, 1, K, "n");
  need(info.Env(), K, "x", x.len, n, "n = " + std::to_string(n));
  return Napi::Number::New(info.Env(), reduce<Square>(x.p, n));
}

Napi::Value AllFinite(const Napi::CallbackInfo& info) {
  const char* K = "allFinite";
  F32 x = f32(info, 0, K, "x");
  const int64_t n = dim(info, 1, K, "n");
  need(info.Env(), K, "x", x.len, n, "n = " + std::to_string(n));
  // An IEEE float is NaN or +-Inf exactly when its exponent bits are all ones; OR-ing a flag
  // over the bits vectorizes, where std::isfinite in a loop with an early exit would not.
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    uint32_t bits;
    std::memcpy(&bits, x.p + i, sizeof bits);  // a bit cast; memcpy keeps it well-defined
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return Napi::Boolean::New(info.Env(), bad == 0);
}

// SwiGLU's blocks on the pool (pool.h): its exponentials make it compute-bound (~1.8 ns an element
// on one core), so a batch's (rows x ffn) activation splits across threads; below 32k elements (a
// decode step of up to ~48 rows) it stays on the calling thread.
constexpr int64_t kActBlock = 8192;
constexpr int64_t kActMinParallel = 32768;

// Calls f(i0, s, len) for consecutive blocks of x with s[j] = sigmoid(x[i0 + j]) = 1 / (1 + exp(-x)),
// the exponentials 8 at a time (vecmath.h). exp overflow gives 1 / inf = 0, as it should.
template <typename F>
void sigmoidBlocks(const float* x, int64_t n, F f) {
  constexpr int64_t kBlock = 512;
  float s[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t len = std::min(kBlock, n - i0);
    for (int64_t j = 0; j < len; j++) s[j] = -x[i0 + j];
    expArray(s, s, len, 0.0f);
    for (int64_t j = 0; j < len; j++) s[j] = 1.0f / (1.0f + s[j]);
    f(i0, s, len);
  }
}

// swigluForward(gate, up, out, n): out = silu(gate) * up
Napi::Value SwigluForward(const Napi::CallbackInfo& info) {
  Binary r = binaryArgs(info, "swigluForward", "gate", "up", "out");
  const float *g = r.a.p, *u = r.b.p;
  float* o = r.out.p;
  forBlocks(r.n, kActBlock, kActMinParallel, [&](int64_t b, int64_t e) {
    sigmoidBlocks(g + b, e - b, [&](int64_t i0, const float* s, int64_t len) {
      for (int64_t j = 0; j < len; j++) o[b + i0 + j] = g[b + i0 + j] * s[j] * u[b + i0 + j];
    });
  });
  return info.Env().Undefined();
}

// swigluBackward(dout, gate, up, dgate, dup, n): dgate += dout*up*silu'(gate); dup += dout*silu(gate)
Napi::Value SwigluBackward(const Napi::CallbackInfo& info) {
  const char* K = "swigluBackward";
  F32 dout = f32(info, 0, K, "dout"), gate = f32(info, 1, K, "gate"), up = f32(info, 2, K, "up");
  F32 dgate = f32(info, 3, K, "dgate"), dup = f32(info, 4, K, "dup");
  const int64_t n = dim(info, 5, K, "n");
  const std::string shape = "n = " + std::to_string(n);
  need(info.Env(), K, "dout", dout.len, n, shape);
  need(info.Env(), K, "gate", gate.len, n, shape);
  need(info.Env(), K, "up", up.len, n, shape);
  need(info.Env(), K, "dgate", dgate.len, n, shape);
  need(info.Env(), K, "dup", dup.len, n, shape);
  forBlocks(n, kActBlock, kActMinParallel, [&](int64_t b, int64_t e) {
    sigmoidBlocks(gate.p + b, e - b, [&](int64_t i0, const float* sg, int64_t len) {
      for (int64_t j = 0; j < len; j++) {
        const int64_t i = b + i0 + j;
        const float g = gate.p[i], s = sg[j], d = dout.p[i];
        dgate.p[i] += d * up.p[i] * (s * (1.0f + g * (1.0f - s)));  // silu'(g) = s (1 + g (1 - s))
        dup.p[i] += d * g * s;
      }
    });
  });
  return info.Env().Undefined();
}

// Unary forward (x, out, n) and backward (dout, x, dx, n) share argument handling.
struct Unary {
  F32 x, out;
  int64_t n;
};
Unary unaryArgs(const Napi::CallbackInfo& info, const char* K) {
  Unary r{f32(info, 0, K, "x"), f32(info, 1, K, "out"), dim(info, 2, K, "n")};
  need(info.Env(), K, "x", r.x.len, r.n, "n = " + std::to_string(r.n));
  need(info.Env(), K, "out", r.out.len, r.n, "n = " + std::to_string(r.n));
  return r;
}

Napi::Value SiluForward(const Napi::CallbackInfo& info) {
  Unary r = unaryArgs(info, "siluForward");
  sigmoidBlocks(r.x.p, r.n, [&](int64_t i0, const float* s, int64_t len) {
    for (int64_t j = 0; j < len; j++) r.out.p[i0 + j] = r.x.p[i0 + j] * s[j];
  });
  return info.Env().Undefined();
}

Napi::Value SiluBackward(const Napi::CallbackInfo& info) {
  Binary r = binaryArgs(info, "siluBackward", "dout", "x", "dx");
  sigmoidBlocks(r.b.p, r.n, [&](int64_t i0, const float* sg, int64_t len) {
    for (int64_t j = 0; j < len; j++) {
      const float x = r.b.p[i0 + j], s = sg[j];
      r.out.p[i0 + j] += r.a.p[i0 + j] * (s * (1.0f + x * (1.0f - s)));
    }
  });
  return info.Env().Undefined();
}

// GELU, tanh approximation: 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi).
constexpr float kGeluC = 0.7978845608028654f;
constexpr float kGeluA = 0.044715f;

Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  Unary r = unaryArgs(info, "geluForward");
  for (int64_t i = 0; i < r.n; i++) {
    const float x = r.x.p[i];
    r.out.p[i] = 0.5f * x * (1.0f + std::tanh(kGeluC * (x + kGeluA * x * x * x)));
  }
  return info.Env().Undefined();
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  Binary r = binaryArgs(info, "geluBackward", "dout", "x", "dx");
  for (int64_t i = 0; i < r.n; i++) {
    const float x = r.b.p[i];
    const float t = std::tanh(kGeluC * (x + kGeluA * x * x * x));
    // d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
    const float d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * kGeluA * x * x);
    r.out.p[i] += r.a.p[i] * d;
  }
  return info.Env().Undefined();
}

}  // namespace

void registerElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("add", Napi::Function::New(env, Add, "add"));
  exports.Set("mul", Napi::Function::New(env, Mul, "mul"));
  exports.Set("scale", Napi::Function::New(env, Scale, "scale"));
  exports.Set("copyRows", Napi::Function::New(env, CopyRows, "copyRows"));
  exports.Set("axpy", Napi::Function::New(env, Axpy, "axpy"));
  exports.Set("sum", Napi::Function::New(env, Reduce<false>, "sum"));
  exports.Set("sumSquares", Napi::Function::New(env, Reduce<true>, "sumSquares"));
  exports.Set("allFinite", Napi::Function::New(env, AllFinite, "allFinite"));
  exports.Set("swigluForward", Napi::Function::New(env, SwigluForward, "swigluForward"));
  exports.Set("swigluBackward", Napi::Function::New(env, SwigluBackward, "swigluBackward"));
  exports.Set("siluForward", Napi::Function::New(env, SiluForward, "siluForward"));
  exports.Set("siluBackward", Napi::Function::New(env, SiluBackward, "siluBackward"));
  exports.Set("geluForward", Napi::Function::New(env, GeluForward, "geluForward"));
  exports.Set("geluBackward", Napi::Function::New(env, GeluBackward, "geluBackward"));
}

}  // namespace genrm
