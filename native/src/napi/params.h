// The option objects ("batons") of the image and mask kernels, read and checked in one place.
#pragma once

#include <napi.h>

#include <string>

#include "../core/image_kernel.h"
#include "../core/mask_kernel.h"
#include "args.h"

namespace anchorseg {

inline void tripleArg(const Napi::Value& v, const std::string& name, double* out) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) throwExpected(v, name, "an array of 3 numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 3; i++) out[i] = numberArg(a.Get(i), name + "[" + std::to_string(i) + "]");
}

inline ImageParams imageParamsArg(const Napi::Value& v) {
  Napi::Object o = objectArg(v, "params");
  ImageParams p;
  p.inputWidth = intArg(o.Get("inputWidth"), "params.inputWidth");
  p.inputHeight = intArg(o.Get("inputHeight"), "params.inputHeight");
  p.contentWidth = intArg(o.Get("contentWidth"), "params.contentWidth");
  p.contentHeight = intArg(o.Get("contentHeight"), "params.contentHeight");
  const std::string order = o.Get("channelOrder").ToString().Utf8Value();
  const std::string dtype = o.Get("dtype").ToString().Utf8Value();
  if (order != "rgb" && order != "bgr") throwExpected(o.Get("channelOrder"), "params.channelOrder", "one of rgb, bgr");
  if (dtype != "float32" && dtype != "float16") throwExpected(o.Get("dtype"), "params.dtype", "one of float32, float16");
  p.bgr = order == "bgr";
  p.fp16 = dtype == "float16";
  tripleArg(o.Get("mean"), "params.mean", p.mean);
  tripleArg(o.Get("std"), "params.std", p.std);
  const std::string problem = checkImageParams(p);
  if (!problem.empty()) throw codedError(v.Env(), "ERR_INVALID_ARG", problem);
  return p;
}

inline LogitsParams logitsParamsArg(const Napi::Value& v, size_t count) {
  Napi::Object o = objectArg(v, "params");
  LogitsParams p;
  p.logitsWidth = intArg(o.Get("logitsWidth"), "params.logitsWidth");
  p.logitsHeight = intArg(o.Get("logitsHeight"), "params.logitsHeight");
  p.contentWidth = intArg(o.Get("contentWidth"), "params.contentWidth");
  p.contentHeight = intArg(o.Get("contentHeight"), "params.contentHeight");
  p.inputWidth = intArg(o.Get("inputWidth"), "params.inputWidth");
  p.inputHeight = intArg(o.Get("inputHeight"), "params.inputHeight");
  p.frameWidth = intArg(o.Get("frameWidth"), "params.frameWidth");
  p.frameHeight = intArg(o.Get("frameHeight"), "params.frameHeight");
  p.threshold = numberArg(o.Get("threshold"), "params.threshold");
  const std::string problem = checkLogitsParams(p, count);
  if (!problem.empty()) throw codedError(v.Env(), "ERR_INVALID_ARG", problem);
  return p;
}

// { mask, bbox: [x, y, w, h] | null, area }, as sdk/kernels/spec.ts's MaskResult.
inline Napi::Object maskResult(Napi::Env env, Napi::Buffer<uint8_t> mask, const MaskStats& s) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("mask", mask);
  if (s.area > 0) {
    Napi::Array bbox = Napi::Array::New(env, 4);
    bbox.Set(0u, s.x0);
    bbox.Set(1u, s.y0);
    bbox.Set(2u, s.x1 - s.x0 + 1);
    bbox.Set(3u, s.y1 - s.y0 + 1);
    r.Set("bbox", bbox);
  } else {
    r.Set("bbox", env.Null());
  }
  r.Set("area", Napi::Number::New(env, static_cast<double>(s.area)));
  return r;
}

}  // namespace anchorseg
