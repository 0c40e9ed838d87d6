// Gemma4ImageProcessor: an RGB image -> the vision tower's inputs, exactly as the pinned
// transformers processor (torchvision backend) computes them:
//
//   1. resize, aspect ratio kept, to the largest (h, w) that are multiples of 48 (= pooling 3 ×
//      patch 16) with at most max_soft_tokens·9 patches (get_aspect_ratio_preserving_size);
//      torchvision's uint8 bicubic antialiased resize, bit for bit (see resize_bicubic_antialias);
//   2. rescale: pixel = float32(u8) · float32(1/255)        (no mean/std normalisation);
//   3. patchify: 16×16 patches row-major over the patch grid, each flattened (row, col, channel);
//      position id of a patch = (x = column, y = row);
//   4. pad to max_soft_tokens·9 patch slots with zero pixels and position (−1, −1).
//   soft tokens = patches / 9 (the pooler averages 3×3 patch blocks).
//
// Budgets (max_soft_tokens) are 70, 140, 280 (the default), 560, 1120.
// decode_image() reads PNG/JPEG/GIF/BMP bytes with stb_image into 8-bit RGB (alpha dropped, grey
// replicated, as PIL's convert("RGB") does).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gemma4/error.h"

// stb_image is a single-header library: its code is compiled in the one translation unit that
// defines GEMMA4_IMPLEMENTATION (the same one that instantiates the Highway kernels).
#if defined(GEMMA4_IMPLEMENTATION) && !defined(STB_IMAGE_IMPLEMENTATION)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#endif
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace gemma4 {

// 8-bit RGB, row-major [height, width, 3].
struct Image {
  int height = 0, width = 0;
  std::vector<uint8_t> rgb;
  uint8_t at(int y, int x, int c) const { return rgb[(size_t(y) * size_t(width) + size_t(x)) * 3 + size_t(c)]; }
};

// PNG / JPEG / GIF (first frame) / BMP bytes -> RGB. `where` names the source in errors.
inline Image decode_image(const uint8_t* bytes, size_t size, const std::string& where) {
  if (size == 0) fail(where, "empty image data");
  if (size > size_t(1) << 30) fail(where, "image data larger than 1 GiB");
  int w = 0, h = 0, channels = 0;
  stbi_uc* px = stbi_load_from_memory(bytes, int(size), &w, &h, &channels, 3);
  if (!px) fail(where, std::string("cannot decode image: ") + stbi_failure_reason());
  Image img;
  img.height = h;
  img.width = w;
  img.rgb.assign(px, px + size_t(w) * size_t(h) * 3);
  stbi_image_free(px);
  return img;
}

inline constexpr std::array<int, 5> kImageTokenBudgets = {70, 140, 280, 560, 1120};

// get_aspect_ratio_preserving_size: the largest (h, w), multiples of pooling·patch, within
// max_patches patches; a side that would round to 0 gets one unit and the other side follows the
// aspect ratio, capped. Throws for images that cannot fit (e.g. both sides round to 0).
inline std::pair<int, int> aspect_ratio_preserving_size(int height, int width, int patch_size, int max_patches,
                                                        int pooling_kernel_size) {
  const std::string where = "image processor: " + std::to_string(height) + "x" + std::to_string(width);
  if (height <= 0 || width <= 0) fail(where, "image has no pixels");
  const double total_px = double(height) * double(width);
  const double target_px = double(max_patches) * double(patch_size) * double(patch_size);
  const double factor = std::sqrt(target_px / total_px);
  const double ideal_h = factor * height, ideal_w = factor * width;
  const int side = pooling_kernel_size * patch_size;
  int th = int(std::floor(ideal_h / side)) * side;
  int tw = int(std::floor(ideal_w / side)) * side;
  if (th == 0 && tw == 0) fail(where, "resizes to 0x0");
  const int max_side = (max_patches / (pooling_kernel_size * pooling_kernel_size)) * side;
  if (th == 0) {
    th = side;
    tw = int(std::min(std::floor(double(width) / double(height)) * side, double(max_side)));
  } else if (tw == 0) {
    tw = side;
    th = int(std::min(std::floor(double(height) / double(width)) * side, double(max_side)));
  }
  if (double(th) * double(tw) > target_px)
    fail(where, "resizing to " + std::to_string(th) + "x" + std::to_string(tw) + " exceeds " +
                    std::to_string(max_patches) + " patches");
  return {th, tw};
}

namespace detail {

// Keys' cubic convolution kernel with a = −0.5 (PyTorch's bicubic).
inline double cubic_kernel(double x) {
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// The fixed-point taps of one resized axis (ATen's uint8 antialiased path).
struct AxisTaps {
  std::vector<int> lo, count;
  std::vector<int32_t> weights;  // count[i] taps per output, concatenated
  std::vector<size_t> offset;
  int precision = 0;
};

inline AxisTaps axis_taps(int n_in, int n_out) {
  AxisTaps t;
  const double scale = double(n_in) / double(n_out);
  const double support = scale >= 1.0 ? 2.0 * scale : 2.0;  // radius 2, widened when downscaling
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  std::vector<std::vector<double>> rows(static_cast<size_t>(n_out));
  double max_w = 0.0;
  for (int i = 0; i < n_out; ++i) {
    const double center = scale * (i + 0.5);
    const int lo = std::max(int(int64_t(center - support + 0.5)), 0);  // C++ casts truncate, like ATen
    const int hi = std::min(int(int64_t(center + support + 0.5)), n_in);
    std::vector<double>& w = rows[size_t(i)];
    double total = 0.0;
    for (int j = 0; j < hi - lo; ++j) {
      w.push_back(cubic_kernel((j + lo - center + 0.5) * inv));
      total += w.back();
    }
    if (total != 0.0)
      for (double& v : w) {
        v /= total;
        max_w = std::max(max_w, v);
      }
    t.lo.push_back(lo);
    t.count.push_back(hi - lo);
  }
  // The largest precision whose rounded max weight still fits in int16.
  int p = 0;
  while (p < 22 && int64_t(0.5 + max_w * double(int64_t(1) << (p + 1))) < (1 << 15)) ++p;
  t.precision = p;
  for (const auto& w : rows) {
    t.offset.push_back(t.weights.size());
    for (double v : w) t.weights.push_back(int32_t(v * double(int64_t(1) << p) + (v >= 0 ? 0.5 : -0.5)));
  }
  return t;
}

// One separable pass over `axis` (1 = width, 0 = height) of an [h, w, 3] uint8 image.
inline Image resize_axis(const Image& in, int n_out, int axis) {
  const int n_in = axis == 1 ? in.width : in.height;
  if (n_in == n_out) return in;
  const AxisTaps t = axis_taps(n_in, n_out);
  Image out;
  out.height = axis == 0 ? n_out : in.height;
  out.width = axis == 1 ? n_out : in.width;
  out.rgb.resize(size_t(out.height) * size_t(out.width) * 3);
  const int64_t round = int64_t(1) << (t.precision - 1);
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      const int i = axis == 1 ? x : y;
      const int32_t* w = t.weights.data() + t.offset[size_t(i)];
      for (int c = 0; c < 3; ++c) {
        int64_t acc = round;
        for (int j = 0; j < t.count[size_t(i)]; ++j) {
          const int src = t.lo[size_t(i)] + j;
          acc += int64_t(axis == 1 ? in.at(y, src, c) : in.at(src, x, c)) * w[j];
        }
        const int64_t v = acc >> t.precision;  // arithmetic shift (floor), as in ATen
        out.rgb[(size_t(y) * size_t(out.width) + size_t(x)) * 3 + size_t(c)] = uint8_t(std::clamp<int64_t>(v, 0, 255));
      }
    }
  return out;
}

}  // namespace detail

// torchvision resize(uint8, BICUBIC, antialias=True) on CPU, bit for bit: separable, width first,
// uint8 between the passes; per axis scale = in/out, support 2·max(scale, 1), Keys cubic taps
// normalised to 1 in float64, then int16 fixed point with per-axis precision p:
//   y = clamp((Σ x·W + 2^(p−1)) >> p, 0, 255).
// (A float resize rounded at the end differs by up to 26 levels on some pixels.)
inline Image resize_bicubic_antialias(const Image& img, int out_h, int out_w) {
  if (out_h <= 0 || out_w <= 0) fail("resize", "target size " + std::to_string(out_h) + "x" + std::to_string(out_w));
  return detail::resize_axis(detail::resize_axis(img, out_w, 1), out_h, 0);
}

// The processor's output for one image.
struct ProcessedImage {
  int resized_height = 0, resized_width = 0;
  int num_patches = 0;      // real patches (the rest of the slots are padding)
  int num_soft_tokens = 0;  // = num_patches / pooling²
  int patch_dim = 0;        // 3·patch²
  std::vector<uint8_t> patches_u8;    // [slots, patch_dim]: the resized pixels, patchified, 0-padded
  std::vector<float> pixel_values;    // [slots, patch_dim] = float32(u8) · float32(1/255)
  std::vector<int32_t> position_ids;  // [slots, 2] = (x, y), (−1, −1) for padding
  int slots() const { return patch_dim ? int(patches_u8.size() / size_t(patch_dim)) : 0; }
};

struct ImageProcessorConfig {
  int patch_size = 16;
  int pooling_kernel_size = 3;
  int max_soft_tokens = 280;
};

// Patchify an image whose sides are multiples of the patch size, padded to `slots` patch slots.
inline ProcessedImage patchify(const Image& img, int patch, int pooling, int slots) {
  ProcessedImage p;
  p.resized_height = img.height;
  p.resized_width = img.width;
  const int ph = img.height / patch, pw = img.width / patch;
  p.num_patches = ph * pw;
  p.num_soft_tokens = p.num_patches / (pooling * pooling);
  p.patch_dim = 3 * patch * patch;
  if (p.num_patches > slots)
    fail("image processor", std::to_string(p.num_patches) + " patches exceed the " + std::to_string(slots) + " slots");
  p.patches_u8.assign(size_t(slots) * size_t(p.patch_dim), 0);
  p.position_ids.assign(size_t(slots) * 2, -1);
  for (int py = 0; py < ph; ++py)
    for (int px = 0; px < pw; ++px) {
      const size_t slot = size_t(py) * size_t(pw) + size_t(px);
      uint8_t* dst = p.patches_u8.data() + slot * size_t(p.patch_dim);
      for (int r = 0; r < patch; ++r)
        for (int c = 0; c < patch; ++c)
          for (int ch = 0; ch < 3; ++ch) *dst++ = img.at(py * patch + r, px * patch + c, ch);
      p.position_ids[slot * 2] = px;
      p.position_ids[slot * 2 + 1] = py;
    }
  p.pixel_values.resize(p.patches_u8.size());
  const float rescale = float(1.0 / 255.0);
  for (size_t i = 0; i < p.patches_u8.size(); ++i) p.pixel_values[i] = float(p.patches_u8[i]) * rescale;
  return p;
}

// Step 1 alone: the image resized for the token budget (returned unchanged when it already fits).
inline Image resize_for_budget(const Image& img, const ImageProcessorConfig& cfg) {
  if (std::find(kImageTokenBudgets.begin(), kImageTokenBudgets.end(), cfg.max_soft_tokens) == kImageTokenBudgets.end())
    fail("image processor", "max_soft_tokens must be one of 70, 140, 280, 560, 1120, got " +
                                std::to_string(cfg.max_soft_tokens));
  const int max_patches = cfg.max_soft_tokens * cfg.pooling_kernel_size * cfg.pooling_kernel_size;
  const auto [th, tw] = aspect_ratio_preserving_size(img.height, img.width, cfg.patch_size, max_patches,
                                                     cfg.pooling_kernel_size);
  return (th == img.height && tw == img.width) ? img : resize_bicubic_antialias(img, th, tw);
}

inline ProcessedImage process_image(const Image& img, const ImageProcessorConfig& cfg = {}) {
  const int max_patches = cfg.max_soft_tokens * cfg.pooling_kernel_size * cfg.pooling_kernel_size;
  return patchify(resize_for_budget(img, cfg), cfg.patch_size, cfg.pooling_kernel_size, max_patches);
}

}  // namespace gemma4
