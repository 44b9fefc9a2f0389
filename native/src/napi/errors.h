// Coded JS errors from C++: the same `code` strings as sdk/errors.ts.
#pragma once

#include <napi.h>

#include <string>

namespace anchorseg {

inline Napi::Error codedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

inline Napi::TypeError codedTypeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::TypeError e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

}  // namespace anchorseg
