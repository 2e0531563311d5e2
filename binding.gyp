{
  "variables": {
    "openblas%": "<!(node native/detect-openblas.mjs)"
  },
  "targets": [
    {
      "target_name": "imagesent_kernels",
      "sources": [
        "native/addon.cc",
        "native/gemm.cc",
        "native/halves.cc",
        "native/huge_pages.cc",
        "native/int8_dot.cc",
        "native/int8_max_dot.cc",
        "native/max_product.cc",
        "native/microkernel_avx512.cc",
        "native/microkernel_avx2.cc",
        "native/microkernel_scalar.cc",
        "native/pack_avx512.cc",
        "native/records.cc",
        "native/rmsprop.cc",
        "native/rows.cc",
        "native/sgd.cc",
        "native/thread_pool.cc"
      ],
      "cflags_cc!": ["-fno-exceptions", "-O2"],
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions", "-fno-math-errno", "-pthread"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["openblas==1", {
          "defines": ["IMAGESENT_OPENBLAS"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
