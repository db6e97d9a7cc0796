// Embedding gather/scatter-add, RMSNorm and rotary embeddings (HF rotate-half convention).
// RMSNorm's calls of 64k elements or more run in blocks of rows on genrm's pool (pool.h forRowBlocks).
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"
#include "pool.h"
#include "vecmath.h"

namespace genrm {
namespace {

// embeddingForward(table, ids, out, rows, dim, vocab): out[r, :] = table[ids[r], :]
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  const char* K = "embeddingForward";
  const Napi::Env env = info.Env();
  F32 table = f32(info, 0, K, "table");
  I32 ids = i32(info, 1, K, "ids");
  F32 out = f32(info, 2, K, "out");
  const int64_t rows = dim(info, 3, K, "rows"), d = dim(info, 4, K, "dim"), vocab = dim(info, 5, K, "vocab");
  const std::string shape = "rows " + std::to_string(rows) + ", dim " + std::to_string(d) + ", vocab " + std::to_string(vocab);
  need(env, K, "table", table.len, vocab * d, shape);
  need(env, K, "ids", ids.len, rows, shape);
  need(env, K, "out", out.len, rows * d, shape);
  for (int64_t r = 0; r < rows; r++) {
    const int64_t id = ids.p[r];
    if (id < 0 || id >= vocab) {
      rangeError(env, std::string(K) + ": token id " + std::to_string(id) + " at row " + std::to_string(r) +
                          " is outside [0, " + std::to_string(vocab) + ")");
    }
    const float* src = table.p + id * d;
    float* dst = out.p + r * d;
    for (int64_t j = 0; j < d; j++) dst[j] = src[j];
  }
  return env.Undefined();
}

// embeddingBackward(dout, ids, dtable, rows, dim): dtable[ids[r], :] += dout[r, :]
Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  const char* K = "embeddingBackward";
  const Napi::Env env = info.Env();
  F32 dout = f32(info, 0, K, "dout");
  I32 ids = i32(info, 1, K, "ids");
  F32 dtable = f32(info, 2, K, "dtable");
  const int64_t rows = dim(info, 3, K, "rows"), d = dim(info, 4, K, "dim");
  const std::string shape = "rows " + std::to_string(rows) + ", dim " + std::to_string(d);
  need(env, K, "dout", dout.len, rows * d, shape);
  need(env, K, "ids", ids.len, rows, shape);
  const int64_t vocab = d == 0 ? 0 : static_cast<int64_t>(dtable.len) / d;
  for (int64_t r = 0; r < rows; r++) {
    const int64_t id = ids.p[r];
    if (id < 0 || (d > 0 && id >= vocab)) {
      rangeError(env, std::string(K) + ": token id " + std::to_string(id) + " at row " + std::to_string(r) +
                          " is outside [0, " + std::to_string(vocab) + ") (dtable rows)");
    }
    const float* src = dout.p + r * d;
    float* dst = dtable.p + id * d;
    for (int64_t j = 0; j < d; j++) dst[j] += src[j];
  }
  return env.Undefined();
}

// rmsnormForward(x, w, out, invRms, rows, dim, eps): out = x * invRms * w; out may alias x.
Napi::Value RmsnormForward(const Napi::CallbackInfo& info) {
  const char* K = "rmsnormForward";
  const Napi::Env env = info.Env();
  F32 x = f32(info, 0, K, "x"), w = f32(info, 1, K, "w"), out = f32(info, 2, K, "out"), inv = f32(info, 3, K, "invRms");
  const int64_t rows = dim(info, 4, K, "rows"), d = dim(info, 5, K, "dim");
  const double eps = num(info, 6, K, "eps");
  const std::string shape = "(rows " + std::to_string(rows) + ", dim " + std::to_string(d) + ")";
  need(env, K, "x", x.len, rows * d, shape);
  need(env, K, "w", w.len, d, shape);
  need(env, K, "out", out.len, rows * d, shape);
  need(env, K, "invRms", inv.len, rows, shape);
  forRowBlocks(rows, d, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x.p + r * d;
      float* o = out.p + r * d;
      const float ir = static_cast<float>(1.0 / std::sqrt(sum8(d, [&](int64_t j) { return static_cast<double>(xr[j]) * xr[j]; }) / static_cast<double>(d) + eps));
      inv.p[r] = ir;
      for (int64_t j = 0; j < d; j++) o[j] = xr[j] * ir * w.p[j];
    }
  });
  return env.Undefined();
}

// rmsnormBackward(dout, x, w, invRms, dx, dw, rows, dim); dx and dw accumulate.
//   y_j = x_j r w_j with r = (mean(x^2) + eps)^(-1/2), so
//   dx_i = r w_i g_i - (r^3 / dim) x_i sum_j g_j w_j x_j,   dw_j = sum_rows g_j x_j r.
Napi::Value RmsnormBackward(const Napi::CallbackInfo& info) {
  const char* K = "rmsnormBackward";
  const Napi::Env env = info.Env();
  F32 dout = f32(info, 0, K, "dout"), x = f32(info, 1, K, "x"), w = f32(info, 2, K, "w"), inv = f32(info, 3, K, "invRms");
  F32 dx = f32(info, 4, K, "dx"), dw = f32(info, 5, K, "dw");
  const int64_t rows = dim(info, 6, K, "rows"), d = dim(info, 7, K, "dim");
  const std::string shape = "(rows " + std::to_string(rows) + ", dim " + std::to_string(d) + ")";
  need(env, K, "dout", dout.len, rows * d, shape);
  need(env, K, "x", x.len, rows * d, shape);
  need(env, K, "w", w.len, d, shape);
  need(env, K, "invRms", inv.len, rows, shape);
  need(env, K, "dx", dx.len, rows * d, shape);
  need(env, K, "dw", dw.len, d, shape);
  // dw sums over rows: each block of rows sums into its own row of `part`, then the blocks are
  // added in order, so dw does not depend on which thread ran which block.
  const int64_t block = rowsPerBlock(d), blocks = (rows + block - 1) / block;
  std::vector<float> part(static_cast<size_t>(blocks * d), 0.0f);
  forRowBlocks(rows, d, [&](int64_t r0, int64_t r1) {
    float* dwb = part.data() + (r0 / block) * d;
    for (int64_t r = r0; r < r1; r++) {
      const float *g = dout.p + r * d, *xr = x.p + r * d;
      float* dxr = dx.p + r * d;
      const float ir = inv.p[r];
      const float c = static_cast<float>(sum8(d, [&](int64_t j) { return static_cast<double>(g[j]) * w.p[j] * xr[j]; }) * ir * ir * ir / static_cast<double>(d));
      for (int64_t j = 0; j < d; j++) {
        dxr[j] += ir * w.p[j] * g[j] - c * xr[j];
        dwb[j] += g[j] * xr[j] * ir;
      }
    }
  });
  for (int64_t b = 0; b < blocks; b++)
    for (int64_t j = 0; j < d; j++) dw.p[j] += part[b * d + j];
  return env.Undefined();
}

// rope(x, positions, cos, sin, rows, heads, headDim, inverse): rotates x (rows, heads, headDim)
// in place; cos/sin are (maxPos, headDim/2) tables.
Napi::Value Rope(const Napi::CallbackInfo& info) {
  const char* K = "rope";
  const Napi::Env env = info.Env();
  F32 x = f32(info, 0, K, "x");
  I32 pos = i32(info, 1, K, "positions");
  F32 cs = f32(info, 2, K, "cos"), sn = f32(info, 3, K, "sin");
  const int64_t rows = dim(info, 4, K, "rows"), heads = dim(info, 5, K, "heads"), hd = dim(info, 6, K, "headDim");
  const bool inverse = flag(info, 7);
  if (hd % 2 != 0) rangeError(env, "rope: headDim must be even, got " + std::to_string(hd));
  const int64_t half = hd / 2;
  const std::string shape = "(rows " + std::to_string(rows) + ", heads " + std::to_string(heads) + ", headDim " +
                            std::to_string(hd) + ")";
  need(env, K, "x", x.len, rows * heads * hd, shape);
  need(env, K, "positions", pos.len, rows, shape);
  const int64_t maxPos = half == 0 ? 0 : static_cast<int64_t>(std::min(cs.len, sn.len)) / half;
  const float sign = inverse ? -1.0f : 1.0f;
  for (int64_t r = 0; r < rows; r++) {
    const int64_t p = pos.p[r];
    if (half > 0 && (p < 0 || p >= maxPos)) {
      rangeError(env, "rope: position " + std::to_string(p) + " at row " + std::to_string(r) + " is outside the tables' [0, " +
                          std::to_string(maxPos) + ")");
    }
    const float *c = cs.p + p * half, *s = sn.p + p * half;
    for (int64_t h = 0; h < heads; h++) {
      float* v = x.p + (r * heads + h) * hd;
      for (int64_t i = 0; i < half; i++) {
        const float x1 = v[i], x2 = v[i + half], si = sign * s[i];
        v[i] = x1 * c[i] - x2 * si;
        v[i + half] = x2 * c[i] + x1 * si;
      }
    }
  }
  return env.Undefined();
}

}  // namespace

void registerNormRope(Napi::Env env, Napi::Object exports) {
  exports.Set("embeddingForward", Napi::Function::New(env, EmbeddingForward, "embeddingForward"));
  exports.Set("embeddingBackward", Napi::Function::New(env, EmbeddingBackward, "embeddingBackward"));
  exports.Set("rmsnormForward", Napi::Function::New(env, RmsnormForward, "rmsnormForward"));
  exports.Set("rmsnormBackward", Napi::Function::New(env, RmsnormBackward, "rmsnormBackward"));
  exports.Set("rope", Napi::Function::New(env, Rope, "rope"));
}

}  // namespace genrm
