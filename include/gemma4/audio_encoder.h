// The Gemma 4 audio encoder (Gemma4AudioModel, a USM-style Conformer) and its projection into the
// language model (Gemma4MultimodalEmbedder, `embed_audio`): log-mel features [T, 128] + frame mask
// -> soft tokens [T/4, H_text] that replace a clip's <|audio|> placeholders. Pseudocode (H hidden,
// transformers 5.23.0 modeling_gemma4.py):
//
//   subsample (SSCP), twice:  x = relu(layernorm_c(conv3x3_stride2_pad1(x · mask_t)));  mask = mask[::2]
//   x = input_proj_linear(x as [T/4, F/4 · C1])           ((freq, channel) flattened channel-fastest)
//   per Conformer layer (clamps at ±gradient_clipping before every norm, a no-op at 1e10):
//     x = x + ½ · post_norm(ffw2(silu(ffw1(pre_norm(x)))))                        (macaron half-FFN)
//     x = x + norm_post_attn(post(chunked_attention(norm_pre_attn(x))))
//     x = x + linear_end(silu(conv_norm(depthwise_causal_conv(glu(linear_start(pre_norm(x)))))))
//     x = x + ½ · post_norm(ffw2(silu(ffw1(pre_norm(x)))))                        (second half-FFN)
//     x = norm_out(x)
//   out = output_proj(x) + bias;   soft_tokens = embedding_projection(rmsnorm_noscale(out))[mask]
//
// All linears of the tower are Gemma4ClippableLinear (clamped input and output) except
// relative_k_proj, input_proj_linear and output_proj. RMSNorms use their weight directly.
//
// Chunked local attention (Gemma4AudioAttention; chunk C = 12, past P = context_left − 1 = 12,
// future F = context_right = 0, context W = C + P + F keys per block):
//   q = q_proj(h) · (D^-½ / ln 2) · softplus(per_dim_scale),   k = k_proj(h) · ln(1 + e) / ln 2
//   block b holds queries bC..bC+C−1 and keys bC−P .. bC−P+W−1 (zero outside [0, T))
//   logit[i, j] = q_i·k_j + q_i·relk[j − i]   (relk = relative_k_proj(sinusoid(distances W/2 .. 0)),
//                                               R = W/2 + 1 rows; the term is 0 unless 0 ≤ j − i < R:
//                                               Transformer-XL rel_shift)
//   logit = cap · tanh(logit / cap);  masked -> −1e9,  allowed iff key in [0, T), key frame valid,
//   and 0 ≤ q − key < P (left) or 0 < key − q < F (right); queries past T see nothing (uniform
//   probabilities, output dropped).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gemma4/clippable_linear.h"
#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/kernels.h"
#include "gemma4/ops.h"
#include "gemma4/tensor.h"
#include "gemma4/trace.h"
#include "gemma4/weight_source.h"
#include "gemma4/weights.h"

namespace gemma4 {

struct AudioConfig {
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int subsampling_channels[2] = {0, 0};
  int conv_kernel_size = 5;
  double residual_weight = 0.5;
  int attention_chunk_size = 12;
  int attention_context_left = 13;
  int attention_context_right = 0;
  double attention_logit_cap = 50.0;
  double attention_invalid_logits_value = -1.0e9;
  bool use_clipped_linears = true;
  double rms_norm_eps = 1e-6;
  double gradient_clipping = 1e10;
  int output_proj_dims = 0;
  int input_feature_size = 128;  // mel bins (the feature extractor's feature_size)

  int head_dim() const { return hidden_size / num_attention_heads; }
  int max_past() const { return attention_context_left - 1; }
  int context_size() const { return attention_chunk_size + max_past() + attention_context_right; }
  int num_rel_positions() const { return context_size() / 2 + 1; }
};

// Parses `audio_config` of a Gemma4Config; errors name "<file>: field audio_config.<key>".
inline AudioConfig parse_audio_config(const nlohmann::json& j, const std::string& file) {
  const std::string prefix = "audio_config.";
  if (!j.is_object()) fail(file + ": field audio_config", "expected an object");
  detail::FieldReader r(j, file, prefix);
  AudioConfig c;
  c.hidden_size = r.required_int("hidden_size");
  c.num_hidden_layers = r.required_int("num_hidden_layers");
  c.num_attention_heads = r.required_int("num_attention_heads");
  c.output_proj_dims = r.required_int("output_proj_dims");
  if (!r.has("subsampling_conv_channels") || !r.raw("subsampling_conv_channels").is_array() ||
      r.raw("subsampling_conv_channels").size() != 2 || !r.raw("subsampling_conv_channels")[0].is_number_integer() ||
      !r.raw("subsampling_conv_channels")[1].is_number_integer())
    fail(r.where("subsampling_conv_channels"), "expected two integers");
  c.subsampling_channels[0] = r.raw("subsampling_conv_channels")[0].get<int>();
  c.subsampling_channels[1] = r.raw("subsampling_conv_channels")[1].get<int>();
  c.conv_kernel_size = r.int_or("conv_kernel_size", 5);
  c.residual_weight = r.double_or("residual_weight", 0.5);
  c.attention_chunk_size = r.int_or("attention_chunk_size", 12);
  c.attention_context_left = r.int_or("attention_context_left", 13);
  c.attention_context_right = r.int_or("attention_context_right", 0);
  c.attention_logit_cap = r.double_or("attention_logit_cap", 50.0);
  c.attention_invalid_logits_value = r.double_or("attention_invalid_logits_value", -1.0e9);
  c.use_clipped_linears = r.bool_or("use_clipped_linears", true);
  c.rms_norm_eps = r.double_or("rms_norm_eps", 1e-6);
  c.gradient_clipping = r.double_or("gradient_clipping", 1e10);
  const std::string act = r.string_or("hidden_act", "silu");
  if (act != "silu") fail(r.where("hidden_act"), "unsupported \"" + act + "\" (supported: silu)");
  if (c.hidden_size < 1 || c.num_attention_heads < 1 || c.hidden_size % c.num_attention_heads != 0)
    fail(r.where("num_attention_heads"), "must be positive and divide hidden_size");
  if (c.subsampling_channels[0] < 4 || c.subsampling_channels[0] % 4 != 0 || c.subsampling_channels[1] < 1)
    fail(r.where("subsampling_conv_channels"), "the first must be a positive multiple of 4, the second positive");
  if (c.attention_chunk_size < 1 || c.attention_context_left < 1 || c.attention_context_right < 0)
    fail(r.where("attention_chunk_size"), "chunk and left context must be positive, right context non-negative");
  if (c.conv_kernel_size < 1) fail(r.where("conv_kernel_size"), "must be positive");
  return c;
}

struct AudioLayerWeights {
  struct FeedForward {
    Weight pre_layer_norm, post_layer_norm;
    ClippableLinear ffw_layer_1, ffw_layer_2;
  } feed_forward1, feed_forward2;
  ClippableLinear q_proj, k_proj, v_proj, post;
  Weight relative_k_proj, per_dim_scale;
  Weight norm_pre_attn, norm_post_attn, norm_out;
  Weight lconv_pre_layer_norm, conv_norm, depthwise_conv1d;  // depthwise: [H, 1, K]
  ClippableLinear linear_start, linear_end;
};

struct AudioWeights {
  Weight conv0, norm0, conv1, norm1;  // conv: [C_out, C_in, 3, 3]; LayerNorm scale (no bias)
  Weight input_proj_linear;           // [H, (F/4)·C1]
  std::vector<AudioLayerWeights> layers;
  Weight output_proj, output_proj_bias;  // [P, H], [P]
  Weight embedding_projection;           // embed_audio: [H_text, P]
};

struct AudioModel {
  AudioConfig config;
  int text_hidden_size = 0;
  AudioWeights weights;

  // Binds `model.audio_tower.*` and `model.embed_audio.*`. Fails, naming the config file, when it
  // has no audio_config.
  static AudioModel from_source(const ModelConfig& mc, const WeightSource& src) {
    if (mc.audio_config.is_null()) fail(mc.path, "no audio_config: this checkpoint has no audio tower");
    AudioModel m;
    m.config = parse_audio_config(mc.audio_config, mc.path);
    m.text_hidden_size = mc.text.hidden_size;
    const AudioConfig& c = m.config;
    const int64_t H = c.hidden_size, C0 = c.subsampling_channels[0], C1 = c.subsampling_channels[1];
    const int64_t F = c.input_feature_size;
    const detail::Binder b(src, "model.audio_tower.");
    auto clippable = [&](const std::string& p, std::vector<int64_t> shape) {
      return bind_clippable_linear(b, p, std::move(shape), c.use_clipped_linears);
    };
    AudioWeights& w = m.weights;
    const std::string s = "subsample_conv_projection.";
    w.conv0 = b.vector(s + "layer0.conv.weight", {C0, 1, 3, 3});
    w.norm0 = b.vector(s + "layer0.norm.weight", {C0});
    w.conv1 = b.vector(s + "layer1.conv.weight", {C1, C0, 3, 3});
    w.norm1 = b.vector(s + "layer1.norm.weight", {C1});
    w.input_proj_linear = b.matrix(s + "input_proj_linear.weight", {H, (F / 4) * C1});
    for (int i = 0; i < c.num_hidden_layers; ++i) {
      const std::string p = "layers." + std::to_string(i) + ".";
      AudioLayerWeights l;
      auto ffn = [&](const std::string& q, AudioLayerWeights::FeedForward& f) {
        f.pre_layer_norm = b.vector(q + "pre_layer_norm.weight", {H});
        f.post_layer_norm = b.vector(q + "post_layer_norm.weight", {H});
        f.ffw_layer_1 = clippable(q + "ffw_layer_1", {4 * H, H});
        f.ffw_layer_2 = clippable(q + "ffw_layer_2", {H, 4 * H});
      };
      ffn(p + "feed_forward1.", l.feed_forward1);
      ffn(p + "feed_forward2.", l.feed_forward2);
      l.q_proj = clippable(p + "self_attn.q_proj", {H, H});
      l.k_proj = clippable(p + "self_attn.k_proj", {H, H});
      l.v_proj = clippable(p + "self_attn.v_proj", {H, H});
      l.post = clippable(p + "self_attn.post", {H, H});
      l.relative_k_proj = b.matrix(p + "self_attn.relative_k_proj.weight", {H, H});
      l.per_dim_scale = b.vector(p + "self_attn.per_dim_scale", {int64_t(c.head_dim())});
      l.norm_pre_attn = b.vector(p + "norm_pre_attn.weight", {H});
      l.norm_post_attn = b.vector(p + "norm_post_attn.weight", {H});
      l.norm_out = b.vector(p + "norm_out.weight", {H});
      l.lconv_pre_layer_norm = b.vector(p + "lconv1d.pre_layer_norm.weight", {H});
      l.conv_norm = b.vector(p + "lconv1d.conv_norm.weight", {H});
      l.depthwise_conv1d = b.vector(p + "lconv1d.depthwise_conv1d.weight", {H, 1, int64_t(c.conv_kernel_size)});
      l.linear_start = clippable(p + "lconv1d.linear_start", {2 * H, H});
      l.linear_end = clippable(p + "lconv1d.linear_end", {H, H});
      w.layers.push_back(std::move(l));
    }
    w.output_proj = b.matrix("output_proj.weight", {int64_t(c.output_proj_dims), H});
    w.output_proj_bias = b.vector("output_proj.bias", {int64_t(c.output_proj_dims)});
    const detail::Binder e(src, "model.embed_audio.");
    w.embedding_projection =
        e.matrix("embedding_projection.weight", {int64_t(m.text_hidden_size), int64_t(c.output_proj_dims)});
    return m;
  }
};

namespace audio_detail {

// One SSCP layer on a channels-last map: in [T, F, Cin] -> out [T', F', Cout], T' = (T − 1)/2 + 1,
// then LayerNorm over channels (no bias) and ReLU. Input rows with mask 0 are treated as zeros.
// PyTorch: relu(layer_norm(conv2d(x · mask, w, stride=2, padding=1).permute(0,2,3,1), (Cout,))).
// Traces the raw conv and the norm when asked (names `raw`, `norm`).
inline std::vector<float> subsample_layer(const float* in, const uint8_t* mask, int64_t T, int64_t F, int64_t Cin,
                                          const Weight& conv, const Weight& norm, float eps, int64_t& T_out,
                                          int64_t& F_out, std::vector<float>* raw, std::vector<float>* normed) {
  const int64_t Cout = conv.shape[0];
  T_out = (T - 1) / 2 + 1;
  F_out = (F - 1) / 2 + 1;
  const float* w = conv.f32();
  std::vector<float> out(size_t(T_out * F_out * Cout));
  std::vector<double> acc(static_cast<size_t>(Cout));
  for (int64_t t = 0; t < T_out; ++t)
    for (int64_t f = 0; f < F_out; ++f) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int kt = 0; kt < 3; ++kt) {
        const int64_t ti = 2 * t + kt - 1;
        if (ti < 0 || ti >= T || !mask[ti]) continue;
        for (int kf = 0; kf < 3; ++kf) {
          const int64_t fi = 2 * f + kf - 1;
          if (fi < 0 || fi >= F) continue;
          const float* x = in + (ti * F + fi) * Cin;
          for (int64_t co = 0; co < Cout; ++co) {
            const float* wk = w + co * Cin * 9 + kt * 3 + kf;
            double s = 0.0;
            for (int64_t ci = 0; ci < Cin; ++ci) s += double(x[ci]) * double(wk[ci * 9]);
            acc[size_t(co)] += s;
          }
        }
      }
      float* o = out.data() + (t * F_out + f) * Cout;
      for (int64_t co = 0; co < Cout; ++co) o[co] = float(acc[size_t(co)]);
    }
  if (raw) *raw = out;
  const float* g = norm.f32();
  for (int64_t r = 0; r < T_out * F_out; ++r) {  // LayerNorm over channels, biased variance
    float* o = out.data() + r * Cout;
    double mean = 0.0, var = 0.0;
    for (int64_t co = 0; co < Cout; ++co) mean += o[co];
    mean /= double(Cout);
    for (int64_t co = 0; co < Cout; ++co) var += (o[co] - mean) * (o[co] - mean);
    var /= double(Cout);
    const double inv = 1.0 / std::sqrt(var + double(eps));
    for (int64_t co = 0; co < Cout; ++co) o[co] = float((o[co] - mean) * inv) * g[co];
  }
  if (normed) *normed = out;
  for (float& v : out) v = std::max(v, 0.0f);
  return out;
}

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
// torch.nn.functional.softplus (β = 1, threshold 20).
inline float softplus(float x) { return x > 20.0f ? x : float(std::log1p(std::exp(double(x)))); }

inline void clamp_all(float* x, size_t n, float bound) {
  for (size_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], -bound), bound);
}

}  // namespace audio_detail

// Sinusoidal relative position table [context/2 + 1, H]: rows for positions context/2 .. 0,
// cat(sin(p·inv), cos(p·inv)), inv[i] = exp(−i · ln(10⁴) / max(H/2 − 1, 1)) in float32.
inline std::vector<float> audio_relative_positions(const AudioConfig& c) {
  const int n = c.num_rel_positions(), half = c.hidden_size / 2;
  const double increment = std::log(10000.0) / std::max(half - 1, 1);
  std::vector<float> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) inv[size_t(i)] = float(std::exp(double(float(i) * -float(increment))));
  std::vector<float> table(size_t(n) * size_t(c.hidden_size));
  for (int r = 0; r < n; ++r) {
    const float pos = float(n - 1 - r);
    for (int i = 0; i < half; ++i) {
      const float angle = pos * inv[size_t(i)];
      table[size_t(r) * size_t(c.hidden_size) + size_t(i)] = float(std::sin(double(angle)));
      table[size_t(r) * size_t(c.hidden_size) + size_t(half + i)] = float(std::cos(double(angle)));
    }
  }
  return table;
}

// Gemma4AudioAttention on T frames (see the header comment). q, k, v [T, heads, D] already
// scaled; relk [R, heads, D]; out [T, heads, D]; probs (optional) [heads, blocks, C, W].
inline void chunked_local_attention(const AudioConfig& c, const float* q, const float* k, const float* v,
                                    const float* relk, const uint8_t* key_valid, int64_t T, float* out,
                                    std::vector<float>* probs) {
  const int64_t Hh = c.num_attention_heads, D = c.head_dim(), C = c.attention_chunk_size;
  const int64_t P = c.max_past(), Fr = c.attention_context_right, W = c.context_size(), R = c.num_rel_positions();
  const int64_t blocks = (T + C - 1) / C;
  const float cap = float(c.attention_logit_cap), invalid = float(c.attention_invalid_logits_value);
  if (probs) probs->assign(size_t(Hh * blocks * C * W), 0.0f);
  std::vector<float> logits(static_cast<size_t>(W));
  for (int64_t h = 0; h < Hh; ++h)
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t i = 0; i < C; ++i) {
        const int64_t qi = b * C + i;
        const float* qv = qi < T ? q + (qi * Hh + h) * D : nullptr;
        for (int64_t j = 0; j < W; ++j) {
          const int64_t kj = b * C - P + j;
          const bool in_range = kj >= 0 && kj < T;
          float ac = 0.0f, bd = 0.0f;
          if (qv && in_range) {
            const float* kv = k + (kj * Hh + h) * D;
            for (int64_t d = 0; d < D; ++d) ac += qv[d] * kv[d];
          }
          const int64_t rel = j - i;  // rel_shift: row i reads relative slot j − i
          if (qv && rel >= 0 && rel < R) {
            const float* rk = relk + (rel * Hh + h) * D;
            for (int64_t d = 0; d < D; ++d) bd += qv[d] * rk[d];
          }
          float logit = std::tanh((ac + bd) / cap) * cap;
          const int64_t dist = qi - kj;
          const bool window = (dist >= 0 && dist < P) || (dist < 0 && -dist < Fr);
          const bool allowed = qi < T && in_range && key_valid[kj] && window;
          logits[size_t(j)] = allowed ? logit : invalid;
        }
        // softmax (float32, max-subtracted)
        float mx = logits[0];
        for (float x : logits) mx = std::max(mx, x);
        float sum = 0.0f;
        for (float& x : logits) sum += (x = std::exp(x - mx));
        for (float& x : logits) x /= sum;
        if (probs) std::copy(logits.begin(), logits.end(), probs->begin() + ((h * blocks + b) * C + i) * W);
        if (qi >= T) continue;
        float* o = out + (qi * Hh + h) * D;
        std::fill(o, o + D, 0.0f);
        for (int64_t j = 0; j < W; ++j) {
          const int64_t kj = b * C - P + j;
          if (kj < 0 || kj >= T) continue;  // zero padding of the key/value context
          const float* vv = v + (kj * Hh + h) * D;
          for (int64_t d = 0; d < D; ++d) o[d] += logits[size_t(j)] * vv[d];
        }
      }
}

struct AudioEncoding {
  std::vector<float> soft_tokens;  // [valid frames, H_text] (rows with mask 1)
  std::vector<uint8_t> mask;       // [T/4] after subsampling
  int num_soft_tokens = 0;
};

// Runs the audio tower and embed_audio on one clip's features [frames, input_feature_size] and
// mask [frames]. Traces the stages under the golden names (a_inp, a_ffn1_norm-N, ..., a_soft_tokens).
inline AudioEncoding audio_forward(const AudioModel& m, const float* features, const uint8_t* feature_mask,
                                   int64_t frames, const Kernels& k, const Trace& trace = {}) {
  using namespace audio_detail;
  const AudioConfig& c = m.config;
  const AudioWeights& w = m.weights;
  const int64_t H = c.hidden_size, Hh = c.num_attention_heads, D = c.head_dim(), F = c.input_feature_size;
  const int64_t C0 = c.subsampling_channels[0], C1 = c.subsampling_channels[1];
  const float eps = float(c.rms_norm_eps);
  const float clip = float(std::min(c.gradient_clipping, double(std::numeric_limits<float>::max())));
  if (frames < 1) fail("audio tower", "no feature frames (the clip is shorter than one 20 ms frame)");
  auto as_i32 = [](const std::vector<uint8_t>& m8) { return std::vector<int32_t>(m8.begin(), m8.end()); };

  // Subsampling convolutions.
  int64_t T1 = 0, F1 = 0, T2 = 0, F2 = 0;
  std::vector<float> raw, normed;
  std::vector<float> x0 = subsample_layer(features, feature_mask, frames, F, 1, w.conv0, w.norm0, eps, T1, F1, nullptr, nullptr);
  if (trace.enabled()) trace("a_conv0_out_first4", -1, x0.data(), {std::min<int64_t>(4, T1), F1, C0});
  std::vector<uint8_t> mask1(static_cast<size_t>(T1));
  for (int64_t t = 0; t < T1; ++t) mask1[size_t(t)] = feature_mask[2 * t];
  if (trace.enabled()) trace("a_mask1", -1, as_i32(mask1).data(), {T1});
  std::vector<float> x1 = subsample_layer(x0.data(), mask1.data(), T1, F1, C0, w.conv1, w.norm1, eps, T2, F2,
                                          trace.enabled() ? &raw : nullptr, trace.enabled() ? &normed : nullptr);
  trace("a_conv1_raw", -1, raw.data(), {T2, F2, C1});
  trace("a_conv1_norm", -1, normed.data(), {T2, F2, C1});
  trace("a_conv1_out", -1, x1.data(), {T2, F2, C1});
  const int64_t T = T2;
  std::vector<uint8_t> mask2(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) mask2[size_t(t)] = mask1[size_t(2 * t)];
  if (trace.enabled()) trace("a_mask2", -1, as_i32(mask2).data(), {T});
  if (F2 * C1 != w.input_proj_linear.cols())
    fail("audio tower", "features of " + std::to_string(F) + " mel bins do not match input_proj_linear");
  std::vector<float> x(size_t(T * H));
  ops::matmul(k, x1.data(), size_t(T), w.input_proj_linear, x.data());
  trace("a_inp", -1, x.data(), {T, H});

  const std::vector<float> pos = audio_relative_positions(c);
  const int64_t R = c.num_rel_positions();
  trace("a_rel_pos_embd", -1, pos.data(), {R, H});

  const float q_scale = float(std::pow(double(D), -0.5) / std::log(2.0));
  const float k_scale = float(std::log(1.0 + std::exp(1.0)) / std::log(2.0));
  std::vector<float> h(size_t(T * H)), up(size_t(T * 4 * H)), branch(size_t(T * H)), scratch;
  std::vector<float> q(size_t(T * H)), kk(size_t(T * H)), v(size_t(T * H)), attn(size_t(T * H));
  std::vector<float> relk(size_t(R * H)), start(size_t(T * 2 * H)), glu(size_t(T * H)), probs;
  for (int li = 0; li < c.num_hidden_layers; ++li) {
    const AudioLayerWeights& l = w.layers[size_t(li)];
    auto feed_forward = [&](const AudioLayerWeights::FeedForward& f, const char* tag) {
      const std::string p = std::string("a_") + tag + "_";
      std::copy(x.begin(), x.end(), h.begin());
      clamp_all(h.data(), h.size(), clip);
      ops::rmsnorm(k, h.data(), size_t(T), f.pre_layer_norm, eps, h.data());
      trace((p + "norm").c_str(), li, h.data(), {T, H});
      f.ffw_layer_1.apply(k, h.data(), size_t(T), up.data(), scratch);
      trace((p + "up").c_str(), li, up.data(), {T, 4 * H});
      for (float& u : up) u = silu(u);
      f.ffw_layer_2.apply(k, up.data(), size_t(T), branch.data(), scratch);
      trace((p + "down").c_str(), li, branch.data(), {T, H});
      clamp_all(branch.data(), branch.size(), clip);
      ops::rmsnorm(k, branch.data(), size_t(T), f.post_layer_norm, eps, branch.data());
      trace((p + "post_norm").c_str(), li, branch.data(), {T, H});
      const float rw = float(c.residual_weight);
      for (size_t i = 0; i < x.size(); ++i) x[i] += branch[i] * rw;
      trace((p + "out").c_str(), li, x.data(), {T, H});
    };
    feed_forward(l.feed_forward1, "ffn1");

    // Chunked local self-attention.
    std::copy(x.begin(), x.end(), h.begin());
    clamp_all(h.data(), h.size(), clip);
    ops::rmsnorm(k, h.data(), size_t(T), l.norm_pre_attn, eps, h.data());
    trace("a_attn_norm", li, h.data(), {T, H});
    l.q_proj.apply(k, h.data(), size_t(T), q.data(), scratch);
    l.k_proj.apply(k, h.data(), size_t(T), kk.data(), scratch);
    l.v_proj.apply(k, h.data(), size_t(T), v.data(), scratch);
    trace("a_Qcur", li, q.data(), {T, H});
    trace("a_Kcur", li, kk.data(), {T, H});
    trace("a_Vcur", li, v.data(), {T, H});
    std::vector<float> qs(static_cast<size_t>(D));
    for (int64_t d = 0; d < D; ++d) qs[size_t(d)] = softplus(l.per_dim_scale.f32()[d]);
    for (int64_t r = 0; r < T * Hh; ++r)
      for (int64_t d = 0; d < D; ++d) q[size_t(r * D + d)] = q[size_t(r * D + d)] * q_scale * qs[size_t(d)];
    for (float& kv : kk) kv *= k_scale;
    ops::matmul(k, pos.data(), size_t(R), l.relative_k_proj, relk.data());
    trace("a_rel_k", li, relk.data(), {R, H});
    chunked_local_attention(c, q.data(), kk.data(), v.data(), relk.data(), mask2.data(), T, attn.data(),
                            trace.enabled() ? &probs : nullptr);
    trace("a_kqv_out", li, attn.data(), {T, H});
    if (trace.enabled()) {
      const int64_t blocks = (T + c.attention_chunk_size - 1) / c.attention_chunk_size;
      trace("a_attn_probs", li, probs.data(), {Hh, blocks, int64_t(c.attention_chunk_size), int64_t(c.context_size())});
    }
    l.post.apply(k, attn.data(), size_t(T), branch.data(), scratch);
    trace("a_attn_proj", li, branch.data(), {T, H});
    clamp_all(branch.data(), branch.size(), clip);
    ops::rmsnorm(k, branch.data(), size_t(T), l.norm_post_attn, eps, branch.data());
    trace("a_attn_post_norm", li, branch.data(), {T, H});
    ops::add(x.data(), branch.data(), x.data(), x.size());
    trace("a_attn_out", li, x.data(), {T, H});

    // Light convolution: GLU, causal depthwise conv (left pad K − 1), norm, SiLU.
    ops::rmsnorm(k, x.data(), size_t(T), l.lconv_pre_layer_norm, eps, h.data());
    trace("a_lconv_norm", li, h.data(), {T, H});
    l.linear_start.apply(k, h.data(), size_t(T), start.data(), scratch);
    trace("a_lconv_start", li, start.data(), {T, 2 * H});
    for (int64_t t = 0; t < T; ++t)  // glu(x) = x[:H] · sigmoid(x[H:])
      for (int64_t j = 0; j < H; ++j)
        glu[size_t(t * H + j)] = start[size_t(t * 2 * H + j)] * sigmoid(start[size_t(t * 2 * H + H + j)]);
    const int64_t K = c.conv_kernel_size;
    const float* dw = l.depthwise_conv1d.f32();
    for (int64_t t = 0; t < T; ++t)
      for (int64_t j = 0; j < H; ++j) {
        float s = 0.0f;
        for (int64_t kk2 = 0; kk2 < K; ++kk2) {
          const int64_t ti = t - (K - 1) + kk2;
          if (ti >= 0) s += dw[j * K + kk2] * glu[size_t(ti * H + j)];
        }
        branch[size_t(t * H + j)] = s;
      }
    trace("a_lconv_dw", li, branch.data(), {T, H});
    clamp_all(branch.data(), branch.size(), clip);
    ops::rmsnorm(k, branch.data(), size_t(T), l.conv_norm, eps, branch.data());
    trace("a_lconv_conv_norm", li, branch.data(), {T, H});
    for (float& b : branch) b = silu(b);
    l.linear_end.apply(k, branch.data(), size_t(T), h.data(), scratch);
    trace("a_lconv_end", li, h.data(), {T, H});
    ops::add(x.data(), h.data(), x.data(), x.size());
    trace("a_lconv_out", li, x.data(), {T, H});

    feed_forward(l.feed_forward2, "ffn2");
    clamp_all(x.data(), x.size(), clip);
    ops::rmsnorm(k, x.data(), size_t(T), l.norm_out, eps, x.data());
    trace("a_l_out", li, x.data(), {T, H});
  }

  const int64_t P = c.output_proj_dims, Ht = m.text_hidden_size;
  std::vector<float> out(size_t(T * P));
  ops::matmul(k, x.data(), size_t(T), w.output_proj, out.data());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < P; ++j) out[size_t(t * P + j)] += w.output_proj_bias.f32()[j];
  trace("a_out", -1, out.data(), {T, P});
  std::vector<float> normed_out(out.size());
  ops::rmsnorm_noscale(k, out.data(), size_t(T), size_t(P), eps, normed_out.data());
  trace("a_mm_norm", -1, normed_out.data(), {T, P});
  std::vector<float> all(size_t(T * Ht));
  ops::matmul(k, normed_out.data(), size_t(T), w.embedding_projection, all.data());
  trace("a_soft_tokens_all", -1, all.data(), {T, Ht});
  AudioEncoding enc;
  enc.mask = mask2;
  for (int64_t t = 0; t < T; ++t)
    if (mask2[size_t(t)]) enc.soft_tokens.insert(enc.soft_tokens.end(), all.begin() + t * Ht, all.begin() + (t + 1) * Ht);
  enc.num_soft_tokens = int(enc.soft_tokens.size() / size_t(Ht));
  trace("a_soft_tokens", -1, enc.soft_tokens.data(), {int64_t(enc.num_soft_tokens), Ht});
  return enc;
}

}  // namespace gemma4
