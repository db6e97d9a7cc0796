// The fused, in-place AdamW step (decoupled weight decay, Loshchilov & Hutter), one pass over
// param, grad, m and v.
#include <cmath>

#include "common.h"

namespace genrm {
namespace {

// adamwStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, gradScale)
//   g = grad * gradScale; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2
//   p -= lr * (mHat / (sqrt(vHat) + eps) + weightDecay * p), mHat = m / (1 - b1^step), vHat likewise
Napi::Value AdamwStep(const Napi::CallbackInfo& info) {
  const char* K = "adamwStep";
  const Napi::Env env = info.Env();
  F32 p = f32(info, 0, K, "param"), g = f32(info, 1, K, "grad"), m = f32(info, 2, K, "m"), v = f32(info, 3, K, "v");
  const double lr = num(info, 4, K, "lr"), b1 = num(info, 5, K, "beta1"), b2 = num(info, 6, K, "beta2");
  const double eps = num(info, 7, K, "eps"), wd = num(info, 8, K, "weightDecay");
  const int64_t step = dim(info, 9, K, "step");
  const double gs = num(info, 10, K, "gradScale");
  if (step < 1) rangeError(env, "adamwStep: step is 1-based, got " + std::to_string(step));
  const int64_t n = static_cast<int64_t>(p.len);
  const std::string shape = "param of " + std::to_string(n) + " elements";
  need(env, K, "grad", g.len, n, shape);
  need(env, K, "m", m.len, n, shape);
  need(env, K, "v", v.len, n, shape);
  const float c1 = static_cast<float>(1.0 / (1.0 - std::pow(b1, static_cast<double>(step))));
  const float c2 = static_cast<float>(1.0 / (1.0 - std::pow(b2, static_cast<double>(step))));
  const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2), flr = static_cast<float>(lr);
  const float feps = static_cast<float>(eps), fwd = static_cast<float>(wd), fgs = static_cast<float>(gs);
  for (int64_t i = 0; i < n; i++) {
    const float gi = g.p[i] * fgs;
    const float mi = fb1 * m.p[i] + (1.0f - fb1) * gi;
    const float vi = fb2 * v.p[i] + (1.0f - fb2) * gi * gi;
    m.p[i] = mi;
    v.p[i] = vi;
    p.p[i] -= flr * ((mi * c1) / (std::sqrt(vi * c2) + feps) + fwd * p.p[i]);
  }
  return env.Undefined();
}

}  // namespace

void registerAdamw(Napi::Env env, Napi::Object exports) {
  exports.Set("adamwStep", Napi::Function::New(env, AdamwStep, "adamwStep"));
}

}  // namespace genrm
