# The genrm native addon: N-API (node-addon-api), C++17, linked against OpenBLAS.
#
# Flags: -O3 for the fused loops, plus -mavx2 -mfma when the building CPU has them (see
# native/simd-flags.cjs; the addon re-checks the CPU when it loads). No -ffast-math: allFinite
# and the NaN/Inf reporting need IEEE semantics. -fno-math-errno and -fno-trapping-math change
# no result (genrm never reads errno or FP exception flags) but let GCC vectorize the loops with
# selects and call expf without errno bookkeeping (4x faster here).
# Threads: OpenBLAS's pool for large products (training, prefill); genrm's own persistent pool
# (native/pool.h: tasks claimed one at a time, so a descheduled thread stalls nothing) for
# decode-sized products (native/small_gemm.cc) and attention, which sets OpenBLAS to 1 thread
# while its tasks call sgemm. The other fused kernels are single-threaded (memory-bound).
{
  "targets": [
    {
      "target_name": "genrm",
      "sources": [
        "native/addon.cc",
        "native/blas.cc",
        "native/small_gemm.cc",
        "native/packed_gemm.cc",
        "native/pool.cc",
        "native/elementwise.cc",
        "native/norm_rope.cc",
        "native/attention.cc",
        "native/softmax.cc",
        "native/adamw.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/openblas"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fno-trapping-math", "-fexceptions", "<!@(node native/simd-flags.cjs)"],
      "libraries": ["-lopenblas"]
    }
  ]
}
