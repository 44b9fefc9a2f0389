{
  # CPU kernels always; the TensorRT provider only where TensorRT and CUDA are found
  # (native/tensorrt/detect.cjs: TENSORRT_ROOT / CUDA_ROOT, JetPack paths as defaults).
  "variables": {
    "anchorseg_trt%": "<!(node native/tensorrt/detect.cjs enabled)"
  },
  "target_defaults": {
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-Wall", "-Wextra"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"]
  },
  "conditions": [
    ["anchorseg_trt==1", {
      "targets": [
        {
          "target_name": "anchorseg_trt",
          "sources": [
            "native/tensorrt/addon.cc",
            "native/tensorrt/device_info.cc",
            "native/tensorrt/engine_builder.cc",
            "native/tensorrt/engine_runner.cc"
          ],
          "include_dirs": ["<!@(node native/tensorrt/detect.cjs include_dirs)"],
          "libraries": ["<!@(node native/tensorrt/detect.cjs libraries)"]
        }
      ]
    }]
  ],
  "targets": [
    {
      "target_name": "anchorseg",
      "sources": [
        "native/src/core/color.cc",
        "native/src/core/filter.cc",
        "native/src/core/frame.cc",
        "native/src/core/image_kernel.cc",
        "native/src/core/mask_kernel.cc",
        "native/src/core/overlay.cc",
        "native/src/core/rle.cc",
        "native/src/core/row_pool.cc",
        "native/src/napi/addon.cc"
      ]
    }
  ]
}
