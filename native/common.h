// Shared helpers of the genrm addon: argument unpacking and buffer-length checks.
//
// Every kernel takes its tensors as typed arrays and reads them in place (no copies). Kernels
// trust shapes (the autograd layer checks those) but check that each buffer is long enough for
// the shape it is given, so a wrong shape can never read or write out of bounds: the error is a
// JS RangeError/TypeError that names the kernel and the buffer.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" {
// OpenBLAS's own entry points. Declared here rather than taken from <cblas.h>, because on Debian
// <cblas.h> is an alternatives link that may point at netlib's header, which lacks them.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace genrm {

struct F32 {
  float* p;
  size_t len;
};
struct I32 {
  int32_t* p;
  size_t len;
};
struct U8 {
  uint8_t* p;
  size_t len;
};

[[noreturn]] inline void typeError(const Napi::Env& env, const std::string& msg) {
  throw Napi::TypeError::New(env, "genrm native: " + msg);
}
[[noreturn]] inline void rangeError(const Napi::Env& env, const std::string& msg) {
  throw Napi::RangeError::New(env, "genrm native: " + msg);
}

inline Napi::TypedArray typedArg(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name,
                                 napi_typedarray_type want, const char* typeName) {
  if (i >= info.Length() || !info[i].IsTypedArray()) {
    typeError(info.Env(), std::string(kernel) + ": '" + name + "' must be a " + typeName);
  }
  Napi::TypedArray t = info[i].As<Napi::TypedArray>();
  if (t.TypedArrayType() != want) typeError(info.Env(), std::string(kernel) + ": '" + name + "' must be a " + typeName);
  return t;
}

inline F32 f32(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name) {
  Napi::TypedArray t = typedArg(info, i, kernel, name, napi_float32_array, "Float32Array");
  Napi::Float32Array a = t.As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}
inline I32 i32(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name) {
  Napi::TypedArray t = typedArg(info, i, kernel, name, napi_int32_array, "Int32Array");
  Napi::Int32Array a = t.As<Napi::Int32Array>();
  return {a.Data(), a.ElementLength()};
}
inline U8 u8(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name) {
  Napi::TypedArray t = typedArg(info, i, kernel, name, napi_uint8_array, "Uint8Array");
  Napi::Uint8Array a = t.As<Napi::Uint8Array>();
  return {a.Data(), a.ElementLength()};
}
/** Cached keys or values: a Float32Array, or a Uint16Array of IEEE half bits (native/half.h). */
struct KvBuf {
  const void* p;
  size_t len;
  bool half;
};
inline KvBuf kvBuf(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name) {
  if (i < info.Length() && info[i].IsTypedArray()) {
    Napi::TypedArray t = info[i].As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_float32_array) {
      Napi::Float32Array a = t.As<Napi::Float32Array>();
      return {a.Data(), a.ElementLength(), false};
    }
    if (t.TypedArrayType() == napi_uint16_array) {
      Napi::Uint16Array a = t.As<Napi::Uint16Array>();
      return {a.Data(), a.ElementLength(), true};
    }
  }
  typeError(info.Env(), std::string(kernel) + ": '" + name + "' must be a Float32Array or a Uint16Array (half-precision bits)");
}

/** True when argument i is absent, undefined or null (optional buffers). */
inline bool absent(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

inline double num(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) typeError(info.Env(), std::string(kernel) + ": '" + name + "' must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}
/** A non-negative integer that fits comfortably in int64 (sizes, offsets, strides). */
inline int64_t dim(const Napi::CallbackInfo& info, size_t i, const char* kernel, const char* name) {
  double d = num(info, i, kernel, name);
  if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d)) || d > 9.0e15) {
    rangeError(info.Env(), std::string(kernel) + ": '" + name + "' must be a non-negative integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}
inline bool flag(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && info[i].ToBoolean().Value();
}

/** Throws unless a buffer of `len` elements holds `need` elements. `shape` describes why. */
inline void need(const Napi::Env& env, const char* kernel, const char* name, size_t len, int64_t needed,
                 const std::string& shape) {
  if (static_cast<int64_t>(len) < needed) {
    rangeError(env, std::string(kernel) + ": buffer '" + name + "' has " + std::to_string(len) + " elements but " + shape +
                        " needs " + std::to_string(needed));
  }
}

/** Elements spanned by `rows` rows of `cols` with row stride `ld` (0 when empty). */
inline int64_t span2d(int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}

// Registration of each concept's kernels onto the module's exports (one file each).
void registerBlas(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerNormRope(Napi::Env env, Napi::Object exports);
void registerAttention(Napi::Env env, Napi::Object exports);
void registerSoftmax(Napi::Env env, Napi::Object exports);
void registerAdamw(Napi::Env env, Napi::Object exports);
void registerPackedGemm(Napi::Env env, Napi::Object exports);

}  // namespace genrm
