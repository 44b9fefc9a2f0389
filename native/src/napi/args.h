// Argument readers for the exported functions. The TS layer validates first (sdk/kernels/spec.ts);
// these re-check what C++ relies on, so a direct call with bad values throws instead of crashing.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

#include "../core/frame.h"
#include "errors.h"

namespace anchorseg {

inline std::string describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_number:
      return v.ToString().Utf8Value() + " of type number";
    case napi_string:
      return "a string";
    default:
      return "value of type " + std::string(v.IsTypedArray() ? "TypedArray" : v.IsArray() ? "array" : "object");
  }
}

[[noreturn]] inline void throwExpected(const Napi::Value& v, const std::string& name, const std::string& what, const char* code = "ERR_INVALID_ARG") {
  throw codedTypeError(v.Env(), code, "Expected " + what + " for " + name + " but received " + describe(v));
}

inline Napi::Object objectArg(const Napi::Value& v, const std::string& name) {
  if (!v.IsObject()) throwExpected(v, name, "an object");
  return v.As<Napi::Object>();
}

inline double numberArg(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throwExpected(v, name, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline int intArg(const Napi::Value& v, const std::string& name, const char* code = "ERR_INVALID_ARG") {
  if (!v.IsNumber()) throwExpected(v, name, "an integer", code);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || std::floor(d) != d) throwExpected(v, name, "an integer", code);
  return static_cast<int>(d);
}

// Bytes of a Uint8Array / Buffer (or Float32Array for `floats`), refusing detached buffers. A view
// on a SharedArrayBuffer is read in place (it cannot be detached); `shared`, when given, says so.
// The data pointer comes from the view itself: the ArrayBuffer calls (napi_get_arraybuffer_info,
// napi_is_detached_arraybuffer) refuse a SharedArrayBuffer with a bare "Invalid argument".
template <typename T>
T* typedArrayData(const Napi::Value& v, const std::string& name, napi_typedarray_type type, size_t* count, const char* code = "ERR_INVALID_ARG",
                  bool* shared = nullptr) {
  const char* what = type == napi_float32_array ? "a Float32Array" : "a Uint8Array or Buffer";
  if (!v.IsTypedArray()) throwExpected(v, name, what, code);
  napi_env env = v.Env();
  napi_typedarray_type actual = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &actual, &length, &data, &buffer, &offset) != napi_ok) {
    throw codedTypeError(v.Env(), code, "Expected " + std::string(what) + " for " + name + " but its buffer cannot be read");
  }
  if (actual != type) throwExpected(v, name, what, code);
  bool isArrayBuffer = false;
  bool detached = false;
  if (napi_is_arraybuffer(env, buffer, &isArrayBuffer) != napi_ok || (isArrayBuffer && napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok)) {
    throw codedTypeError(v.Env(), code, "Expected " + std::string(what) + " for " + name + " but its buffer cannot be read");
  }
  if (detached) throw codedTypeError(v.Env(), code, "Expected an attached buffer for " + name + " but received a detached one");
  if (shared) *shared = !isArrayBuffer;
  *count = length;
  return static_cast<T*>(data);
}

// A sensor_msgs/Image-like object -> FrameView over its bytes (not copied), checked by checkFrame.
// `data`, when given, receives the typed array the bytes belong to; `shared`, whether it is a
// view on a SharedArrayBuffer.
inline FrameView frameArg(const Napi::Value& v, const char* name = "frame", Napi::Value* data = nullptr, bool* shared = nullptr) {
  const std::string n = name;
  if (!v.IsObject()) throwExpected(v, n, "an object like sensor_msgs/Image", "ERR_FRAME_INVALID");
  Napi::Object o = v.As<Napi::Object>();
  FrameView f;
  f.width = intArg(o.Get("width"), n + ".width", "ERR_FRAME_INVALID");
  f.height = intArg(o.Get("height"), n + ".height", "ERR_FRAME_INVALID");
  const int step = intArg(o.Get("step"), n + ".step", "ERR_FRAME_INVALID");
  if (step < 0) throwExpected(o.Get("step"), n + ".step", "integer >= 0", "ERR_FRAME_INVALID");
  f.step = static_cast<size_t>(step);
  Napi::Value enc = o.Get("encoding");
  if (!enc.IsString() || !parseEncoding(enc.As<Napi::String>().Utf8Value(), &f.encoding)) {
    throwExpected(enc, n + ".encoding", "one of rgb8, bgr8, rgba8, bgra8, mono8, yuyv, nv12", "ERR_FRAME_INVALID");
  }
  // Read once: a getter may return another array on a second read.
  Napi::Value bytes = o.Get("data");
  f.data = typedArrayData<const uint8_t>(bytes, n + ".data", napi_uint8_array, &f.size, "ERR_FRAME_INVALID", shared);
  if (data) *data = bytes;
  const std::string problem = checkFrame(f);
  if (!problem.empty()) throw codedError(v.Env(), "ERR_FRAME_INVALID", problem);
  return f;
}

}  // namespace anchorseg
