/*
 * float-buffer.h: a float buffer filled on a worker thread and handed to JS without a copy. The
 * worker allocates it uninitialised (no zeroing of megabytes of logits it will overwrite); Result()
 * adopts it as an external ArrayBuffer that frees it when collected, and tells V8 its size so
 * the collector sees the memory it holds.
 */
#pragma once
#include <napi.h>

#include <cstddef>
#include <memory>

class float_buffer {
  public:
    void allocate(size_t n) {
        data_.reset(n ? new float[n] : nullptr);
        size_ = n;
    }
    float * data() { return data_.get(); }
    size_t size() const { return size_; }

    // Moves the buffer into a Float32Array; this object is empty afterwards.
    Napi::Float32Array to_js(Napi::Env env) {
        if (size_ == 0) return Napi::Float32Array::New(env, 0);
        const size_t n = size_, bytes = n * sizeof(float);
        float * raw = data_.release();
        size_ = 0;
        Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, raw, bytes, [](Napi::Env e, void * p, size_t * b) {
            delete[] static_cast<float *>(p);
            Napi::MemoryManagement::AdjustExternalMemory(e, -static_cast<int64_t>(*b));
            delete b;
        }, new size_t(bytes));
        Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
        return Napi::Float32Array::New(env, n, ab, 0);
    }

  private:
    std::unique_ptr<float[]> data_;
    size_t size_ = 0;
};
