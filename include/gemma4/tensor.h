// Element types, the bf16/f16 conversions, and the Weight record every loaded tensor becomes.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace gemma4 {

enum class DType { kF32, kBF16, kF16, kI32, kI64, kU8 };

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kU8: return "U8";
  }
  return "?";
}

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: case DType::kI32: return 4;
    case DType::kBF16: case DType::kF16: return 2;
    case DType::kI64: return 8;
    case DType::kU8: return 1;
  }
  return 0;
}

// bf16 is the top half of an IEEE float32.
inline float bf16_to_f32(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// float32 -> bf16 with round-to-nearest-even (what torch's .to(torch.bfloat16) does); NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

inline float round_to_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

// IEEE binary16 -> float32 (exact: every f16 value is representable).
inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) { mant <<= 1; --exp; }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

inline int64_t num_elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// A tensor the model reads: a typed, shaped view of memory that `owner` keeps alive (an mmap'd
// file, or a buffer we generated or converted). Row-major, as stored by safetensors/PyTorch.
struct Weight {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::shared_ptr<const void> owner;

  bool empty() const { return data == nullptr; }
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return shape.empty() ? 1 : num_elements(shape) / shape[0]; }
  const float* f32() const { return static_cast<const float*>(data); }
  const uint16_t* u16() const { return static_cast<const uint16_t*>(data); }
};

// A Weight over a freshly allocated float32 buffer.
inline Weight make_f32_weight(std::string name, std::vector<int64_t> shape, std::vector<float> values) {
  auto buf = std::make_shared<std::vector<float>>(std::move(values));
  Weight w;
  w.name = std::move(name);
  w.dtype = DType::kF32;
  w.shape = std::move(shape);
  w.data = buf->data();
  w.owner = buf;
  return w;
}

// Converts any floating dtype to a float32 copy (bf16/f16 widening is exact).
inline Weight to_f32(const Weight& w) {
  if (w.dtype == DType::kF32) return w;
  const int64_t n = num_elements(w.shape);
  std::vector<float> out(size_t(n), 0.0f);
  const uint16_t* src = w.u16();
  if (w.dtype == DType::kBF16) {
    for (int64_t i = 0; i < n; ++i) out[size_t(i)] = bf16_to_f32(src[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) out[size_t(i)] = f16_to_f32(src[i]);
  }
  return make_f32_weight(w.name, w.shape, std::move(out));
}

}  // namespace gemma4
