// Causal multi-head self-attention with grouped-query heads, forward and backward.
//
// For each (batch, head) the score matrix S = scale * Q K^T and the output P V are sgemm calls
// on strided views of the token-major buffers (row stride heads*headDim for q/out, kvHeads*headDim
// for k/v), so heads are never gathered into copies. Between the two products a fused loop applies
// the causal and key masks and the softmax, row by row. Masked entries of P are exactly 0.
//
// Threads: these products are small (e.g. 128x128x64), single-threaded sgemm calls (OpenBLAS is
// kept single-threaded, pool.h); the (batch, kv-head) groups are tasks on genrm's worker pool
// (pool.h), claimed one at a time. A group owns its dK/dV slices (all query heads that share a KV
// head run in one task), so the accumulating backward has no write races.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "common.h"
#include "half.h"
#include "attention_decode.h"
#include "pool.h"
#include "vecmath.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace genrm {
namespace {

// Per-thread scratch (each worker thread has its own), grown on demand and kept between calls.
float* scratch(std::vector<float>& buf, int64_t n) {
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}
thread_local std::vector<float> tlsScores;
thread_local std::vector<float> tlsGrad;

// Prefill and training attention take queries in blocks of this many rows, each against only the
// keys it can see instead of every key and a mask: a causal (t x t) product then costs
// ~(1 + 128 / t) / 2 of the square. Smaller blocks re-pack keys more often (native/README.md).
constexpr int64_t kCausalBlock = 128;

// Below this many flops a call runs on the calling thread: handing tasks out and waking a helper
// cost more than a small decode step's attention saves (4e6, measured with the judge bench).
constexpr double kMinParallelFlops = 4e6;

// Runs task(i) for i in [0, tasks) on genrm's pool (pool.h), or on the calling thread when
// `flops` (the whole call's work, estimated) is too little to share.
template <typename F>
void parallelTasks(int64_t tasks, double flops, F task) {
  const int nth = static_cast<int>(std::min<int64_t>(kernelThreads(), tasks));
  if (nth <= 1 || flops < kMinParallelFlops) {
    for (int64_t i = 0; i < tasks; i++) task(i);
    return;
  }
  parallelFor(tasks, nth, task);
}

// Decode path (few queries, no probs kept): plain loops instead of sgemm. With tq = 1 each
// product is a (1 x tk x headDim) sliver, where sgemm's per-call overhead dominates.
constexpr int64_t kMaxLoopQueries = 4;  // = DECODE_MAX_QUERIES in src/engine/kernels/types.ts

inline void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, static_cast<int>(m),
              static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c,
              static_cast<int>(ldc));
}

// Turns one row of scores into probabilities in place: entries j >= limit or with mask[j] == 0
// become 0, the rest softmax. A row with no visible key becomes all zeros (its output is 0).
inline void maskedSoftmaxRow(float* s, int64_t cols, int64_t limit, const uint8_t* mask) {
  float mx = -INFINITY;
  for (int64_t j = 0; j < limit; j++)
    if (!mask || mask[j]) mx = std::max(mx, s[j]);
  if (mx == -INFINITY) {
    std::fill(s, s + cols, 0.0f);
    return;
  }
  double total;
  if (!mask) {
    total = expShiftSum(s, s, limit, mx);
  } else {
    expArray(s, s, limit, mx);
    for (int64_t j = 0; j < limit; j++) s[j] = mask[j] ? s[j] : 0.0f;
    total = sumF64(s, limit);
  }
  const float inv = static_cast<float>(1.0 / total);
  for (int64_t j = 0; j < limit; j++) s[j] *= inv;
  std::fill(s + limit, s + cols, 0.0f);
}

// attentionForward(q, k, v, out, batch, tq, tk, heads, kvHeads, headDim, pastLen, scale,
//                  kvOffset, kvBatchStride, probs | null, keyMask | null,
//                  prefixK | null, prefixV | null, prefixLen, prefixStride, prefixRows | null)
// With a shared prefix (decoding only), keys j < prefixLen of row b come from row prefixRows[b]
// of prefixK / prefixV (rows prefixStride apart) and keys j >= prefixLen from k / v at j - prefixLen.
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  const char* K = "attentionForward";
  const Napi::Env env = info.Env();
  F32 q = f32(info, 0, K, "q"), out = f32(info, 3, K, "out");
  const KvBuf k = kvBuf(info, 1, K, "k"), v = kvBuf(info, 2, K, "v");
  const int64_t B = dim(info, 4, K, "batch"), tq = dim(info, 5, K, "tq"), tk = dim(info, 6, K, "tk");
  const int64_t H = dim(info, 7, K, "heads"), KH = dim(info, 8, K, "kvHeads"), D = dim(info, 9, K, "headDim");
  const int64_t past = dim(info, 10, K, "pastLen");
  const float scale = static_cast<float>(num(info, 11, K, "scale"));
  const int64_t kvOff = dim(info, 12, K, "kvOffset"), kvBS = dim(info, 13, K, "kvBatchStride");
  const bool hasProbs = !absent(info, 14), hasMask = !absent(info, 15);
  F32 probs = hasProbs ? f32(info, 14, K, "probs") : F32{nullptr, 0};
  U8 mask = hasMask ? u8(info, 15, K, "keyMask") : U8{nullptr, 0};
  const bool hasPrefix = !absent(info, 16);
  const KvBuf pk = hasPrefix ? kvBuf(info, 16, K, "prefix.k") : KvBuf{nullptr, 0, k.half};
  const KvBuf pv = hasPrefix ? kvBuf(info, 17, K, "prefix.v") : KvBuf{nullptr, 0, k.half};
  const bool half = k.half;
  if (v.half != half || pk.half != half || pv.half != half) typeError(env, std::string(K) + ": k, v and the prefix's k and v must be all Float32Array or all Uint16Array (half)");
  const int64_t P = hasPrefix ? dim(info, 18, K, "prefix.len") : 0;
  const int64_t pS = hasPrefix ? dim(info, 19, K, "prefix.batchStride") : 0;
  I32 prows = hasPrefix ? i32(info, 20, K, "prefix.rows") : I32{nullptr, 0};

  if (KH == 0 || H % KH != 0) rangeError(env, std::string(K) + ": heads (" + std::to_string(H) + ") must be a multiple of kvHeads (" + std::to_string(KH) + ")");
  const std::string shape = "batch " + std::to_string(B) + ", tq " + std::to_string(tq) + ", tk " + std::to_string(tk) +
                            ", heads " + std::to_string(H) + ", kvHeads " + std::to_string(KH) + ", headDim " + std::to_string(D);
  const int64_t ldq = H * D, ldk = KH * D;
  need(env, K, "q", q.len, B * tq * ldq, shape);
  need(env, K, "out", out.len, B * tq * ldq, shape);
  if (hasPrefix) {
    if (hasProbs || tq > kMaxLoopQueries) rangeError(env, std::string(K) + ": a shared prefix is for decoding only (tq <= " + std::to_string(kMaxLoopQueries) + ", no probs)");
    if (P > tk) rangeError(env, std::string(K) + ": prefix.len " + std::to_string(P) + " exceeds tk " + std::to_string(tk));
    if (P > 0 && pS < P * ldk) rangeError(env, std::string(K) + ": prefix.batchStride " + std::to_string(pS) + " is below prefix.len * kvHeads * headDim = " + std::to_string(P * ldk));
    need(env, K, "prefix.rows", prows.len, B, shape);
    for (int64_t b = 0; b < B && P > 0; b++) {
      const int64_t r = prows.p[b];
      if (r < 0) rangeError(env, std::string(K) + ": prefix.rows[" + std::to_string(b) + "] is " + std::to_string(r));
      need(env, K, "prefix.k", pk.len, r * pS + P * ldk, "prefix row " + std::to_string(r) + " of stride " + std::to_string(pS));
      need(env, K, "prefix.v", pv.len, r * pS + P * ldk, "prefix row " + std::to_string(r) + " of stride " + std::to_string(pS));
    }
  }
  if (B > 0 && tk > P && D > 0) {
    const int64_t kvNeed = kvOff + (B - 1) * kvBS + (tk - P) * ldk;
    need(env, K, "k", k.len, kvNeed, shape + ", kvOffset " + std::to_string(kvOff) + ", kvBatchStride " + std::to_string(kvBS));
    need(env, K, "v", v.len, kvNeed, shape + ", kvOffset " + std::to_string(kvOff) + ", kvBatchStride " + std::to_string(kvBS));
  }
  if (hasProbs) need(env, K, "probs", probs.len, B * H * tq * tk, shape);
  if (hasMask) need(env, K, "keyMask", mask.len, B * tk, shape);
  if (B == 0 || tq == 0 || H == 0 || D == 0) return env.Undefined();

  const int64_t group = H / KH;
  // Keys past pastLen + tq - 1 are masked for every query of this call: skip them in the products.
  const int64_t cols = std::min(tk, past + tq);
  const double flops = 4.0 * static_cast<double>(B * H) * static_cast<double>(tq * cols * D);
  const bool loops = !hasProbs && tq <= kMaxLoopQueries;  // the decode path: no sgemm
  if (half && !(loops && cols > 0)) rangeError(env, std::string(K) + ": half-precision K/V are for decoding only (tq <= " + std::to_string(kMaxLoopQueries) + ", no probs, a visible key)");
  if (loops && cols > 0) {
    // Every head together: each cached key/value row (all kv heads, kvHeads * headDim contiguous
    // floats) is read once, front to back. Per (row, kv head) tasks read a quarter of each row and
    // left the prefetcher fetching the rest for nothing: at batch 64 the decode attention ran at
    // ~4-11 GB/s and took more time than the matmuls.
    std::vector<int64_t> kvCol(H);  // head h reads kv head h / group: its column in a cached row
    for (int64_t h = 0; h < H; h++) kvCol[h] = (h / group) * D;
    // Decoding reads every cached key and value once for a few flops each: its cost is memory
    // traffic, which a second core doubles. So the threshold counts a byte read as 4 flops (one
    // core streams ~6-10 GB/s and computes ~50 GFLOP/s here). Counting flops alone kept a batch-16
    // step single-threaded: 2 MB of K/V a layer at 64 keys, 333 us a call (measured).
    const double bytes = (half ? 4.0 : 8.0) * static_cast<double>(B) * static_cast<double>(cols) * static_cast<double>(ldk);
    // Row b's keys: its shared prefix row (j < P), then its own columns (j - P); T = float, or
    // uint16_t for half bits (converted as loaded). Tasks: runs of consecutive rows that read the same prefix row, at most kShareRows each (one
    // row a task without a prefix). Each row's arithmetic is the same whatever its task holds: its
    // scores one key at a time, its outputs one chain per head over the keys in order.
    std::vector<int64_t> starts;
    for (int64_t b = 0; b < B; b++)
      if (b == 0 || P == 0 || prows.p[b] != prows.p[b - 1] || b - starts.back() >= kShareRows) starts.push_back(b);
    starts.push_back(B);
    const int64_t tasks = static_cast<int64_t>(starts.size()) - 1;
    auto rows = [&](auto* kp, auto* vp, auto* pkp, auto* pvp) {
      parallelTasks(tasks, std::max(flops, 4.0 * bytes), [&](int64_t t) {
        const int64_t b0 = starts[t], G = starts[t + 1] - b0;
        // Keys j < P come from the task's shared prefix row (the same for all G rows).
        const auto* PKb = P > 0 ? pkp + prows.p[b0] * pS : nullptr;
        const auto* PVb = P > 0 ? pvp + prows.p[b0] * pS : nullptr;
        float* Sall = scratch(tlsScores, G * H * tk);  // per row (H, tk) scores, then probabilities
        for (int64_t i = 0; i < tq; i++) {
          const int64_t lim = std::min(tk, past + i + 1), shared = std::min(P, lim);
          auto ownKey = [&](int64_t g, int64_t j) { return kp + kvOff + (b0 + g) * kvBS + (j - P) * ldk; };
          auto query = [&](int64_t g) { return q.p + ((b0 + g) * tq + i) * ldq; };
          // Scores: the prefix in blocks (each block read once for the G rows), then each row's own keys.
          for (int64_t j0 = 0; j0 < shared; j0 += kShareBlock)
            for (int64_t g = 0; g < G; g++)
              for (int64_t j = j0; j < std::min(shared, j0 + kShareBlock); j++)
                decodeScores(query(g), PKb + j * ldk, kvCol.data(), H, D, scale, Sall + g * H * tk + j, tk);
          for (int64_t g = 0; g < G; g++) {
            for (int64_t j = shared; j < lim; j++) decodeScores(query(g), ownKey(g, j), kvCol.data(), H, D, scale, Sall + g * H * tk + j, tk);
            const uint8_t* mb = hasMask ? mask.p + (b0 + g) * tk : nullptr;
            for (int64_t h = 0; h < H; h++) maskedSoftmaxRow(Sall + g * H * tk + h * tk, tk, lim, mb);
            float* Oi = out.p + ((b0 + g) * tq + i) * ldq;
            std::fill(Oi, Oi + H * D, 0.0f);
          }
          // Outputs: the prefix's value rows in the same blocks, then each row's own.
          auto prefixValue = [&](int64_t j) { return PVb + j * ldk; };
          for (int64_t j0 = 0; j0 < shared; j0 += kShareBlock)
            for (int64_t g = 0; g < G; g++)
              decodeValues(Sall + g * H * tk, tk, j0, std::min(shared, j0 + kShareBlock), prefixValue, kvCol.data(), H, D,
                           out.p + ((b0 + g) * tq + i) * ldq, g == 0);
          for (int64_t g = 0; g < G; g++) {
            auto ownValue = [&](int64_t j) { return vp + kvOff + (b0 + g) * kvBS + (j - P) * ldk; };
            decodeValues(Sall + g * H * tk, tk, shared, lim, ownValue, kvCol.data(), H, D, out.p + ((b0 + g) * tq + i) * ldq, true);
          }
        }
      });
    };
    if (half)
      rows(static_cast<const uint16_t*>(k.p), static_cast<const uint16_t*>(v.p), static_cast<const uint16_t*>(pk.p), static_cast<const uint16_t*>(pv.p));
    else
      rows(static_cast<const float*>(k.p), static_cast<const float*>(v.p), static_cast<const float*>(pk.p), static_cast<const float*>(pv.p));
    return env.Undefined();
  }
  // Prefill and training (and a decode call with no visible key): sgemm per (batch row, kv head).
  parallelTasks(B * KH, flops, [&](int64_t task) {
    const int64_t b = task / KH, kh = task % KH;
    const uint8_t* mb = hasMask ? mask.p + b * tk : nullptr;
    const float* Kb = static_cast<const float*>(k.p) + kvOff + b * kvBS + kh * D;
    const float* Vb = static_cast<const float*>(v.p) + kvOff + b * kvBS + kh * D;
    float* rowsBuf = hasProbs ? nullptr : scratch(tlsScores, tq * tk);
    for (int64_t h = kh * group; h < (kh + 1) * group; h++) {
      const float* Q = q.p + b * tq * ldq + h * D;
      float* O = out.p + b * tq * ldq + h * D;
      float* P = hasProbs ? probs.p + (b * H + h) * tq * tk : rowsBuf;  // (tq, tk)
      if (cols == 0) {
        std::fill(P, P + tq * tk, 0.0f);
        for (int64_t i = 0; i < tq; i++) std::fill(O + i * ldq, O + i * ldq + D, 0.0f);
        continue;
      }
      // Causal blocks of queries: block [i0, i0 + n) sees keys [0, past + i0 + n) only (kCausalBlock).
      for (int64_t i0 = 0; i0 < tq; i0 += kCausalBlock) {
        const int64_t n = std::min(kCausalBlock, tq - i0), c = std::min(cols, past + i0 + n);
        gemm(false, true, n, c, D, scale, Q + i0 * ldq, ldq, Kb, ldk, 0.0f, P + i0 * tk, tk);  // S = scale Q K^T
        for (int64_t i = i0; i < i0 + n; i++) maskedSoftmaxRow(P + i * tk, tk, std::min(tk, past + i + 1), mb);
        gemm(false, false, n, D, c, 1.0f, P + i0 * tk, tk, Vb, ldk, 0.0f, O + i0 * ldq, ldq);  // O = P V
      }
    }
  });
  return env.Undefined();
}

// attentionBackward(dout, q, k, v, probs, dq, dk, dv, batch, t, heads, kvHeads, headDim, scale,
//                   keyMask | null); training layout (pastLen 0, tk = tq = t, packed K/V).
//   dV += P^T dO;  dP = dO V^T;  dS = P * (dP - rowsum(P * dP));  dQ += scale dS K;  dK += scale dS^T Q
// Masked entries have P = 0, hence dS = 0: the key mask needs no further work here.
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  const char* K = "attentionBackward";
  const Napi::Env env = info.Env();
  F32 dout = f32(info, 0, K, "dout"), q = f32(info, 1, K, "q"), k = f32(info, 2, K, "k"), v = f32(info, 3, K, "v");
  F32 probs = f32(info, 4, K, "probs"), dq = f32(info, 5, K, "dq"), dk = f32(info, 6, K, "dk"), dv = f32(info, 7, K, "dv");
  const int64_t B = dim(info, 8, K, "batch"), T = dim(info, 9, K, "t");
  const int64_t H = dim(info, 10, K, "heads"), KH = dim(info, 11, K, "kvHeads"), D = dim(info, 12, K, "headDim");
  const float scale = static_cast<float>(num(info, 13, K, "scale"));
  if (!absent(info, 14)) {
    U8 mask = u8(info, 14, K, "keyMask");
    need(env, K, "keyMask", mask.len, B * T, "batch " + std::to_string(B) + ", t " + std::to_string(T));
  }
  if (KH == 0 || H % KH != 0) rangeError(env, std::string(K) + ": heads (" + std::to_string(H) + ") must be a multiple of kvHeads (" + std::to_string(KH) + ")");
  const std::string shape = "batch " + std::to_string(B) + ", t " + std::to_string(T) + ", heads " + std::to_string(H) +
                            ", kvHeads " + std::to_string(KH) + ", headDim " + std::to_string(D);
  const int64_t ldq = H * D, ldk = KH * D;
  need(env, K, "dout", dout.len, B * T * ldq, shape);
  need(env, K, "q", q.len, B * T * ldq, shape);
  need(env, K, "dq", dq.len, B * T * ldq, shape);
  need(env, K, "k", k.len, B * T * ldk, shape);
  need(env, K, "v", v.len, B * T * ldk, shape);
  need(env, K, "dk", dk.len, B * T * ldk, shape);
  need(env, K, "dv", dv.len, B * T * ldk, shape);
  need(env, K, "probs", probs.len, B * H * T * T, shape);
  if (B == 0 || T == 0 || H == 0 || D == 0) return env.Undefined();

  const int64_t group = H / KH;
  const double flops = 8.0 * static_cast<double>(B * H) * static_cast<double>(T * T * D);
  parallelTasks(B * KH, flops, [&](int64_t task) {
    const int64_t b = task / KH, kh = task % KH;
    const int64_t ko = b * T * ldk + kh * D;
    float* dS = scratch(tlsGrad, T * T);
    for (int64_t h = kh * group; h < (kh + 1) * group; h++) {
      const int64_t qo = b * T * ldq + h * D;
      const float* P = probs.p + (b * H + h) * T * T;  // (T, T)
      // Causal blocks of queries (as the forward): block [i0, i0 + n) touches keys [0, i0 + n) only.
      for (int64_t i0 = 0; i0 < T; i0 += kCausalBlock) {
        const int64_t n = std::min(kCausalBlock, T - i0), c = i0 + n;
        const float* dO = dout.p + qo + i0 * ldq;
        gemm(true, false, c, D, n, 1.0f, P + i0 * T, T, dO, ldq, 1.0f, dv.p + ko, ldk);     // dV += P^T dO
        gemm(false, true, n, c, D, 1.0f, dO, ldq, v.p + ko, ldk, 0.0f, dS + i0 * T, T);  // dP = dO V^T
      }
      for (int64_t i = 0; i < T; i++) {
        const float* p = P + i * T;
        float* g = dS + i * T;
        const int64_t lim = i + 1;  // causal: P is 0 past the diagonal
        // rowsum(P * dP) in eight partial chains (sum8): one chain of dependent double adds cost
        // ~1 % of a base training step.
        const float d = static_cast<float>(sum8(lim, [p, g](int64_t j) { return static_cast<double>(p[j]) * g[j]; }));
        for (int64_t j = 0; j < lim; j++) g[j] = p[j] * (g[j] - d);
        std::fill(g + lim, g + T, 0.0f);
      }
      for (int64_t i0 = 0; i0 < T; i0 += kCausalBlock) {
        const int64_t n = std::min(kCausalBlock, T - i0), c = i0 + n;
        gemm(false, false, n, D, c, scale, dS + i0 * T, T, k.p + ko, ldk, 1.0f, dq.p + qo + i0 * ldq, ldq);  // dQ += scale dS K
        gemm(true, false, c, D, n, scale, dS + i0 * T, T, q.p + qo + i0 * ldq, ldq, 1.0f, dk.p + ko, ldk);   // dK += scale dS^T Q
      }
    }
  });
  return env.Undefined();
}

}  // namespace

void registerAttention(Napi::Env env, Napi::Object exports) {
  exports.Set("attentionForward", Napi::Function::New(env, AttentionForward, "attentionForward"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
}

}  // namespace genrm
