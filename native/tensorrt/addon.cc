// anchorseg_trt.node: the TensorRT provider (built only where TensorRT 10 and CUDA are found).
//   providerInfo() -> Promise<DeviceInfo>
//   build(onnxPath, options, onProgress) -> { promise: Promise<{ plan, timingCache }>, cancel() }
//   new Engine(plan): load() -> Promise<{ inputs, outputs }>, run(feeds) -> Promise<outputs>, close() -> Promise<void>
// Never compiled or run by this project's CI (no TensorRT here): docs/tensorrt.md.
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../src/napi/errors.h"
#include "device_info.h"
#include "engine_builder.h"
#include "engine_runner.h"
#include "runner_thread.h"

namespace anchorseg::trt {

namespace {

constexpr int kProviderAbi = 1;  // = TENSORRT_PROVIDER_ABI in sdk/backends/tensorrt-provider.ts

bool parseDtype(const std::string& s, nvinfer1::DataType* out) {
  static const std::pair<const char*, nvinfer1::DataType> kTypes[] = {{"float32", nvinfer1::DataType::kFLOAT}, {"float16", nvinfer1::DataType::kHALF},
                                                                      {"int32", nvinfer1::DataType::kINT32},   {"int64", nvinfer1::DataType::kINT64},
                                                                      {"uint8", nvinfer1::DataType::kUINT8},   {"bool", nvinfer1::DataType::kBOOL}};
  for (const auto& [name, type] : kTypes) {
    if (s == name) {
      *out = type;
      return true;
    }
  }
  return false;
}

Napi::Array describeIo(Napi::Env env, const std::vector<TensorDesc>& io, bool inputs) {
  Napi::Array list = Napi::Array::New(env);
  for (const TensorDesc& t : io) {
    if (t.input != inputs) continue;
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", t.name);
    o.Set("dtype", dtypeName(t.type));
    Napi::Array shape = Napi::Array::New(env, t.shape.size());
    for (uint32_t i = 0; i < t.shape.size(); i++) {
      // Dynamic dimensions get a name, as in the manifest's shapes.
      shape.Set(i, t.shape[i] < 0 ? Napi::Value(Napi::String::New(env, "d" + std::to_string(i)))
                                  : Napi::Value(Napi::Number::New(env, static_cast<double>(t.shape[i]))));
    }
    o.Set("shape", shape);
    list.Set(list.Length(), o);
  }
  return list;
}

// --- providerInfo ------------------------------------------------------------------------------

class InfoWorker : public Napi::AsyncWorker {
 public:
  explicit InfoWorker(Napi::Env env) : Napi::AsyncWorker(env, "anchorseg:tensorrt:info"), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      info_ = queryDevice();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("tensorrt", info_.tensorrt);
    o.Set("tensorrtBuilt", info_.tensorrtBuilt);
    o.Set("cudaRuntime", info_.cudaRuntime);
    o.Set("cudaDriver", info_.cudaDriver);
    o.Set("gpu", info_.gpu);
    o.Set("computeCapability", info_.computeCapability);
    o.Set("integrated", info_.integrated);
    o.Set("dlaCores", info_.dlaCores);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(codedError(Env(), "ERR_BACKEND_UNAVAILABLE", "TensorRT/CUDA device query failed: " + e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  DeviceInfo info_;
};

// --- build -------------------------------------------------------------------------------------

struct ProgressEvent {
  char phase[96];
  int step;
  int steps;
};

class BuildWorker : public Napi::AsyncProgressQueueWorker<ProgressEvent> {
 public:
  BuildWorker(Napi::Env env, std::string onnx, BuildOptions options, Napi::Function onProgress, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncProgressQueueWorker<ProgressEvent>(env, "anchorseg:tensorrt:build"),
        deferred_(Napi::Promise::Deferred::New(env)),
        onnx_(std::move(onnx)),
        options_(std::move(options)),
        cancel_(std::move(cancel)) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }
  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      result_ = buildPlan(
          onnx_, options_,
          [&](const std::string& phase, int step, int steps) {
            ProgressEvent e{};
            std::snprintf(e.phase, sizeof e.phase, "%s", phase.c_str());
            e.step = step;
            e.steps = steps;
            progress.Send(&e, 1);
          },
          *cancel_);
    } catch (const BuildCancelled&) {
      cancelled_ = true;
      SetError("TensorRT engine build cancelled");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnProgress(const ProgressEvent* events, size_t count) override {
    if (onProgress_.IsEmpty()) return;
    Napi::Env env = Env();
    for (size_t i = 0; i < count; i++) {
      onProgress_.Call({Napi::String::New(env, events[i].phase), Napi::Number::New(env, events[i].step), Napi::Number::New(env, events[i].steps)});
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("plan", Napi::Buffer<uint8_t>::Copy(env, result_.plan.data(), result_.plan.size()));
    o.Set("timingCache", Napi::Buffer<uint8_t>::Copy(env, result_.timingCache.data(), result_.timingCache.size()));
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(codedError(Env(), cancelled_ ? "ERR_ABORTED" : "ERR_BACKEND_UNAVAILABLE", e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference onProgress_;
  std::string onnx_;
  BuildOptions options_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  BuildResult result_;
  bool cancelled_ = false;
};

Napi::Value Build(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw codedTypeError(env, "ERR_INVALID_ARG", "Expected an ONNX file path for onnxPath");
  Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  BuildOptions options;
  if (o.Has("fp16")) options.fp16 = o.Get("fp16").ToBoolean();
  if (o.Has("workspaceBytes")) options.workspaceBytes = static_cast<size_t>(o.Get("workspaceBytes").ToNumber().Int64Value());
  if (o.Has("dlaCore")) options.dlaCore = o.Get("dlaCore").ToNumber().Int32Value();
  if (o.Has("dynamicMax")) options.dynamicMax = o.Get("dynamicMax").ToNumber().Int32Value();
  if (o.Get("timingCache").IsBuffer()) {
    auto b = o.Get("timingCache").As<Napi::Buffer<uint8_t>>();
    options.timingCache.assign(b.Data(), b.Data() + b.Length());
  }
  Napi::Function onProgress = info[2].IsFunction() ? info[2].As<Napi::Function>() : Napi::Function();
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new BuildWorker(env, info[0].As<Napi::String>().Utf8Value(), std::move(options), onProgress, cancel);
  Napi::Object job = Napi::Object::New(env);
  job.Set("promise", worker->Promise());
  job.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }));
  worker->Queue();
  return job;
}

Napi::Value ProviderInfo(const Napi::CallbackInfo& info) {
  auto* worker = new InfoWorker(info.Env());
  worker->Queue();
  return worker->Promise();
}

// --- Engine ------------------------------------------------------------------------------------

// A finished job's result, built into JS values on the JS thread (ThreadSafeFunction callback).
struct Completion {
  Napi::Promise::Deferred deferred;
  std::function<Napi::Value(Napi::Env)> settle;  // empty when `error` is set
  std::string error;
  const char* code = "ERR_INFERENCE";
  std::vector<Napi::ObjectReference> keepAlive;  // the JS buffers a run reads, released here
};

class Engine : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Engine", {InstanceMethod("load", &Engine::Load), InstanceMethod("run", &Engine::Run), InstanceMethod("close", &Engine::Close)});
  }

  explicit Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info), env_(info.Env()) {
    if (!info[0].IsBuffer()) throw codedTypeError(env_, "ERR_INVALID_ARG", "Expected a plan Buffer for plan");
    auto b = info[0].As<Napi::Buffer<uint8_t>>();
    plan_.assign(b.Data(), b.Data() + b.Length());
    tsfn_ = Napi::ThreadSafeFunction::New(env_, Napi::Function::New(env_, [](const Napi::CallbackInfo&) {}), "anchorseg:tensorrt:engine", 0, 1);
    tsfn_.Unref(env_);  // an idle engine must not keep the process alive
    thread_ = std::make_unique<RunnerThread>();
    // Safety net when close() is never called: join the thread before the environment goes away.
    cleanup_ = env_.AddCleanupHook(std::function<void()>([this] { shutdown(); }));
  }

  ~Engine() override {
    cleanup_.Remove(env_);
    shutdown();
  }

 private:
  // Queues `work` on the engine thread; its result settles the returned promise on the JS thread.
  // While a job is in flight the JS object is referenced, so GC cannot free it under the thread.
  Napi::Value submit(std::function<std::function<Napi::Value(Napi::Env)>()> work, std::vector<Napi::ObjectReference> keep = {}) {
    if (closed_ || closing_) throw codedError(env_, "ERR_DISPOSED", "TensorRT engine is closed");
    if (inflight_) throw codedError(env_, "ERR_BUSY", "TensorRT engine is busy: one call at a time (await the previous one)");
    auto* c = new Completion{Napi::Promise::Deferred::New(env_), nullptr, {}, "ERR_INFERENCE", std::move(keep)};
    Napi::Promise promise = c->deferred.Promise();
    inflight_ = true;
    Ref();
    tsfn_.Ref(env_);
    thread_->post([this, c, work = std::move(work)] {
      try {
        c->settle = work();
      } catch (const std::exception& e) {
        c->error = e.what();
      }
      // Fails only while the environment is being torn down; the completion is then leaked, as
      // its JS handles cannot be freed off the JS thread.
      tsfn_.BlockingCall(c, [this](Napi::Env env, Napi::Function, Completion* done) { finish(env, done); });
    });
    return promise;
  }

  void finish(Napi::Env env, Completion* done) {
    std::unique_ptr<Completion> c(done);
    inflight_ = false;
    tsfn_.Unref(env);
    // A C++ exception must not escape this C callback (it would terminate the process); settling
    // fails only while the environment shuts down.
    try {
      if (c->settle) {
        c->deferred.Resolve(c->settle(env));
      } else {
        c->deferred.Reject(codedError(env, c->code, c->error).Value());
      }
    } catch (const Napi::Error&) {
    }
    if (closing_) {
      shutdown();  // the thread is idle now: joins at once
      for (auto& d : closeWaiters_) d.Resolve(env.Undefined());
      closeWaiters_.clear();
    }
    Unref();
  }

  Napi::Value Load(const Napi::CallbackInfo&) {
    return submit([this]() -> std::function<Napi::Value(Napi::Env)> {
      runner_ = std::make_unique<EngineRunner>(plan_);
      plan_.clear();
      plan_.shrink_to_fit();
      return [this](Napi::Env env) -> Napi::Value {
        loaded_ = true;
        Napi::Object o = Napi::Object::New(env);
        o.Set("inputs", describeIo(env, runner_->io(), true));
        o.Set("outputs", describeIo(env, runner_->io(), false));
        return o;
      };
    });
  }

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw codedTypeError(env, "ERR_INVALID_ARG", "Expected an object of named tensors for feeds");
    if (!loaded_) throw codedError(env, "ERR_INFERENCE", "TensorRT engine: await load() before run()");
    Napi::Object feeds = info[0].As<Napi::Object>();
    Napi::Array names = feeds.GetPropertyNames();
    std::vector<HostInput> inputs;
    std::vector<Napi::ObjectReference> keep;
    for (uint32_t i = 0; i < names.Length(); i++) {
      const std::string name = names.Get(i).ToString().Utf8Value();
      Napi::Value v = feeds.Get(name);
      if (!v.IsObject()) throw codedTypeError(env, "ERR_INVALID_ARG", "Expected a tensor { dtype, dims, data } for feeds." + name);
      Napi::Object t = v.As<Napi::Object>();
      HostInput in;
      in.name = name;
      if (!parseDtype(t.Get("dtype").ToString().Utf8Value(), &in.type))
        throw codedTypeError(env, "ERR_INVALID_ARG", "Expected a supported dtype for feeds." + name);
      Napi::Value dims = t.Get("dims");
      if (!dims.IsArray()) throw codedTypeError(env, "ERR_INVALID_ARG", "Expected an array of dims for feeds." + name);
      for (uint32_t d = 0; d < dims.As<Napi::Array>().Length(); d++) in.dims.push_back(dims.As<Napi::Array>().Get(d).ToNumber().Int64Value());
      Napi::Value data = t.Get("data");
      if (!data.IsTypedArray()) throw codedTypeError(env, "ERR_INVALID_ARG", "Expected a typed array for feeds." + name + ".data");
      Napi::TypedArray ta = data.As<Napi::TypedArray>();
      if (ta.ArrayBuffer().IsDetached()) throw codedTypeError(env, "ERR_INVALID_ARG", "Expected an attached buffer for feeds." + name + ".data");
      in.data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
      in.bytes = ta.ByteLength();
      inputs.push_back(std::move(in));
      keep.push_back(Napi::Persistent(ta.As<Napi::Object>()));
    }
    return submit(
        [this, inputs = std::move(inputs)]() -> std::function<Napi::Value(Napi::Env)> {
          auto outputs = std::make_shared<std::vector<HostOutput>>(runner_->run(inputs));
          return [outputs](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            for (HostOutput& out : *outputs) {
              Napi::Object t = Napi::Object::New(env);
              t.Set("dtype", dtypeName(out.type));
              Napi::Array dims = Napi::Array::New(env, out.dims.size());
              for (uint32_t d = 0; d < out.dims.size(); d++) dims.Set(d, Napi::Number::New(env, static_cast<double>(out.dims[d])));
              t.Set("dims", dims);
              t.Set("data", Napi::Buffer<uint8_t>::NewOrCopy(env, out.data.release(), out.bytes, [](Napi::Env, uint8_t* p) { delete[] p; }));
              o.Set(out.name, t);
            }
            return o;
          };
        },
        std::move(keep));
  }

  // Resolves once the call in flight (if any) has settled and the engine is freed. Idempotent;
  // never blocks the JS thread on the engine thread.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    auto deferred = Napi::Promise::Deferred::New(info.Env());
    if (inflight_) {
      closing_ = true;
      closeWaiters_.push_back(deferred);
    } else {
      shutdown();
      deferred.Resolve(info.Env().Undefined());
    }
    return deferred.Promise();
  }

  void shutdown() {
    if (closed_) return;
    closed_ = true;
    thread_->stop();
    runner_.reset();
    tsfn_.Release();
  }

  Napi::Env env_;
  std::vector<uint8_t> plan_;
  std::unique_ptr<EngineRunner> runner_;  // used by the engine thread only while a job runs
  std::unique_ptr<RunnerThread> thread_;
  Napi::ThreadSafeFunction tsfn_;
  Napi::Env::CleanupHook<std::function<void()>> cleanup_;
  std::vector<Napi::Promise::Deferred> closeWaiters_;
  bool loaded_ = false;  // JS-thread flags
  bool inflight_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("providerAbi", Napi::Number::New(env, kProviderAbi));
  exports.Set("providerInfo", Napi::Function::New(env, ProviderInfo));
  exports.Set("build", Napi::Function::New(env, Build));
  exports.Set("Engine", Engine::Define(env));
  return exports;
}

}  // namespace anchorseg::trt

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return anchorseg::trt::Init(env, exports); }
NODE_API_MODULE(anchorseg_trt, InitModule)
