# Native CPU kernels for the wasm backend (see src/addon.c). Built by scripts/postinstall.mjs with
# npm's bundled node-gyp; plain N-API in C, so the one build loads in Node and Electron.
{
  "targets": [
    {
      "target_name": "gan_studio_native",
      "sources": ["src/addon.c", "src/gemm.c", "src/conv.c", "src/elementwise.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-std=gnu11", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags!": ["-O2"],
      "xcode_settings": {
        "GCC_OPTIMIZATION_LEVEL": "3",
        "OTHER_CFLAGS": ["-std=gnu11", "-fno-math-errno"]
      },
      "conditions": [["OS=='win'", { "defines": ["_CRT_SECURE_NO_WARNINGS"] }]]
    }
  ]
}
