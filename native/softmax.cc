// The softmax family over rows: log-softmax, log-prob gather (and its backward), and the fused
// mean cross-entropy with an ignore mask (targets < 0) that can write dlogits in the same pass.
// Calls of 64k elements or more run in blocks of rows on genrm's pool (pool.h forRowBlocks).
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"
#include "pool.h"
#include "vecmath.h"

namespace genrm {
namespace {

// log(sum(exp(x))) of one row, stabilised by the row max; the sum accumulates in double.
inline double logSumExp(const float* x, int64_t cols) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < cols; j++) mx = std::max(mx, x[j]);
  if (mx == -INFINITY || std::isinf(mx)) return mx;
  // exp 8 at a time (vecmath.h) through a small buffer, summed in double.
  double s = 0;
  float buf[256];
  for (int64_t j0 = 0; j0 < cols; j0 += 256) {
    const int64_t len = std::min<int64_t>(256, cols - j0);
    s += expShiftSum(x + j0, buf, len, mx);
  }
  return mx + std::log(s);
}

void checkTarget(const Napi::Env& env, const char* K, int64_t t, int64_t r, int64_t cols) {
  if (t >= cols) {
    rangeError(env, std::string(K) + ": target " + std::to_string(t) + " at row " + std::to_string(r) + " is outside [0, " +
                        std::to_string(cols) + ") (negative targets are ignored)");
  }
}

// logSoftmax(x, out, rows, cols); out may alias x.
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  const char* K = "logSoftmax";
  F32 x = f32(info, 0, K, "x"), out = f32(info, 1, K, "out");
  const int64_t rows = dim(info, 2, K, "rows"), cols = dim(info, 3, K, "cols");
  const std::string shape = "(rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + ")";
  need(info.Env(), K, "x", x.len, rows * cols, shape);
  need(info.Env(), K, "out", out.len, rows * cols, shape);
  forRowBlocks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x.p + r * cols;
      float* o = out.p + r * cols;
      const float lse = static_cast<float>(logSumExp(xr, cols));
      for (int64_t j = 0; j < cols; j++) o[j] = xr[j] - lse;
    }
  });
  return info.Env().Undefined();
}

// logprobsGather(logits, targets, out, rows, cols)
Napi::Value LogprobsGather(const Napi::CallbackInfo& info) {
  const char* K = "logprobsGather";
  const Napi::Env env = info.Env();
  F32 logits = f32(info, 0, K, "logits");
  I32 targets = i32(info, 1, K, "targets");
  F32 out = f32(info, 2, K, "out");
  const int64_t rows = dim(info, 3, K, "rows"), cols = dim(info, 4, K, "cols");
  const std::string shape = "(rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + ")";
  need(env, K, "logits", logits.len, rows * cols, shape);
  need(env, K, "targets", targets.len, rows, shape);
  need(env, K, "out", out.len, rows, shape);
  for (int64_t r = 0; r < rows; r++) checkTarget(env, K, targets.p[r], r, cols);  // on this thread: it throws
  forRowBlocks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t t = targets.p[r];
      if (t < 0) {
        out.p[r] = 0.0f;
        continue;
      }
      const float* xr = logits.p + r * cols;
      out.p[r] = static_cast<float>(static_cast<double>(xr[t]) - logSumExp(xr, cols));
    }
  });
  return env.Undefined();
}

// logprobsGatherBackward(logits, targets, dout, dlogits, rows, cols):
//   dlogits[r, :] += dout[r] * (onehot(targets[r]) - softmax(logits[r, :]))
Napi::Value LogprobsGatherBackward(const Napi::CallbackInfo& info) {
  const char* K = "logprobsGatherBackward";
  const Napi::Env env = info.Env();
  F32 logits = f32(info, 0, K, "logits");
  I32 targets = i32(info, 1, K, "targets");
  F32 dout = f32(info, 2, K, "dout"), dlogits = f32(info, 3, K, "dlogits");
  const int64_t rows = dim(info, 4, K, "rows"), cols = dim(info, 5, K, "cols");
  const std::string shape = "(rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + ")";
  need(env, K, "logits", logits.len, rows * cols, shape);
  need(env, K, "targets", targets.len, rows, shape);
  need(env, K, "dout", dout.len, rows, shape);
  need(env, K, "dlogits", dlogits.len, rows * cols, shape);
  for (int64_t r = 0; r < rows; r++) checkTarget(env, K, targets.p[r], r, cols);  // on this thread: it throws
  forRowBlocks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const int64_t t = targets.p[r];
      if (t < 0) continue;
      const float* xr = logits.p + r * cols;
      float* g = dlogits.p + r * cols;
      const float lse = static_cast<float>(logSumExp(xr, cols));
      const float d = dout.p[r];
      // softmax = exp(x - lse) 8 lanes at a time (vecmath.h, within 4e-7 relative), in chunks:
      // a double exp per element cost ~6 ns (10 ms for 3072 x 518).
      float buf[256];
      for (int64_t j0 = 0; j0 < cols; j0 += 256) {
        const int64_t len = std::min<int64_t>(256, cols - j0);
        expArray(xr + j0, buf, len, lse);
        for (int64_t j = 0; j < len; j++) g[j0 + j] -= d * buf[j];
      }
      g[t] += d;
    }
  });
  return env.Undefined();
}

// crossEntropy(logits, targets, rows, cols, dlogits | null, gradScale) -> { loss, count }
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  const char* K = "crossEntropy";
  const Napi::Env env = info.Env();
  F32 logits = f32(info, 0, K, "logits");
  I32 targets = i32(info, 1, K, "targets");
  const int64_t rows = dim(info, 2, K, "rows"), cols = dim(info, 3, K, "cols");
  const bool hasGrad = !absent(info, 4);
  F32 dl = hasGrad ? f32(info, 4, K, "dlogits") : F32{nullptr, 0};
  const double gradScale = num(info, 5, K, "gradScale");
  const std::string shape = "(rows " + std::to_string(rows) + ", cols " + std::to_string(cols) + ")";
  need(env, K, "logits", logits.len, rows * cols, shape);
  need(env, K, "targets", targets.len, rows, shape);
  if (hasGrad) need(env, K, "dlogits", dl.len, rows * cols, shape);

  int64_t count = 0;
  for (int64_t r = 0; r < rows; r++) {
    checkTarget(env, K, targets.p[r], r, cols);
    if (targets.p[r] >= 0) count++;
  }
  const float g = count > 0 ? static_cast<float>(gradScale / static_cast<double>(count)) : 0.0f;
  // Each block of rows sums its losses into its own slot; the slots are added in order, so the
  // total does not depend on which thread ran which block.
  const int64_t block = rowsPerBlock(cols), blocks = (rows + block - 1) / block;
  std::vector<double> part(static_cast<size_t>(blocks), 0.0);
  forRowBlocks(rows, cols, [&](int64_t r0, int64_t r1) {
    double sum = 0;
    for (int64_t r = r0; r < r1; r++) {
      const int64_t t = targets.p[r];
      const float* xr = logits.p + r * cols;
      float* d = hasGrad ? dl.p + r * cols : nullptr;
      if (t < 0) {
        if (d) std::fill(d, d + cols, 0.0f);
        continue;
      }
      const double lse = logSumExp(xr, cols);
      sum += lse - xr[t];
      if (d) {
        // softmax = exp(x - lse) 8 lanes at a time (vecmath.h, within 4e-7 relative); std::exp
        // here was a scalar call (~4 ns an element).
        expArray(xr, d, cols, static_cast<float>(lse));
        for (int64_t j = 0; j < cols; j++) d[j] *= g;
        d[t] -= g;
      }
    }
    part[static_cast<size_t>(r0 / block)] = sum;
  });
  double total = 0;
  for (const double x : part) total += x;
  Napi::Object res = Napi::Object::New(env);
  res.Set("loss", Napi::Number::New(env, count > 0 ? total / static_cast<double>(count) : 0.0));
  res.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  return res;
}

}  // namespace

void registerSoftmax(Napi::Env env, Napi::Object exports) {
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax, "logSoftmax"));
  exports.Set("logprobsGather", Napi::Function::New(env, LogprobsGather, "logprobsGather"));
  exports.Set("logprobsGatherBackward", Napi::Function::New(env, LogprobsGatherBackward, "logprobsGatherBackward"));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
}

}  // namespace genrm
