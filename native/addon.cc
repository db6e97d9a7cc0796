// Module init of the genrm addon. node-addon-api modules are context-aware (N-API), so the addon
// loads in the main thread and in every worker_threads Worker; no JS handle is kept in a static.
#include "common.h"

namespace {

// The build may enable AVX2/FMA (see binding.gyp); refuse to load on a CPU without them rather
// than die later with an illegal instruction. genrm then falls back to its JS kernels.
void checkCpu(const Napi::Env& env) {
#if defined(__AVX2__) || defined(__FMA__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    throw Napi::Error::New(env, "genrm native: this build uses AVX2/FMA, which this CPU lacks; rebuild it here (npm run build:native)");
  }
#endif
#if defined(__F16C__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("f16c")) {
    throw Napi::Error::New(env, "genrm native: this build uses F16C, which this CPU lacks; rebuild it here (npm run build:native)");
  }
#else
  (void)env;
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  checkCpu(env);
  genrm::registerBlas(env, exports);
  genrm::registerElementwise(env, exports);
  genrm::registerNormRope(env, exports);
  genrm::registerAttention(env, exports);
  genrm::registerSoftmax(env, exports);
  genrm::registerAdamw(env, exports);
  genrm::registerPackedGemm(env, exports);
  // The calling convention (src/engine/kernels/native.ts KERNELS_VERSION): 2 = attention's shared
  // prefix arguments, 3 = packed weights (packWeight, matmulPacked), 4 = copyRows, 5 = half-precision K/V
  // (Uint16Array) in attentionForward and copyRows. Bump both together when a kernel's arguments change.
  exports.Set("kernelsVersion", Napi::Number::New(env, 5));
#if defined(__AVX2__) && defined(__F16C__)
  exports.Set("simd", Napi::String::New(env, "avx2+fma+f16c"));
#elif defined(__AVX2__)
  exports.Set("simd", Napi::String::New(env, "avx2+fma"));
#else
  exports.Set("simd", Napi::String::New(env, "baseline"));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(genrm, Init)
