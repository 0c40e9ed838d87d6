// The Gemma 4 audio front end (Gemma4AudioFeatureExtractor, the USM log-mel spectrogram): 16 kHz
// mono samples -> [frames, 128] log-mel features and a per-frame validity mask. Pseudocode
// (transformers 5.23.0, feature_extraction_gemma4.py; N samples):
//
//   x      = pad(truncate(wave, max_length), to a multiple of 128 samples with zeros)
//   x      = [0] * (frame_length / 2) ++ x                   ("semicausal": frame 0 centred on t = 0)
//   frame i= x[i·hop : i·hop + frame_length]                 (unfold of frame_length + 1, last dropped)
//   spec   = |rfft(float32(frame · hann), n = fft_length)|  (float32 product, float64 FFT; magnitude)
//   mel    = spec @ mel_filters                              ([fft/2+1, 128] HTK triangles, no norm)
//   feat   = float32(log(mel + mel_floor))                   (float64 from the FFT on)
//   mask[i]= the last sample of frame i's unfold window is real audio; feat[i] = 0 where mask[i] = 0
//
// Every frame the padding reaches is masked: frame i is valid iff i·hop + frame_length + 1 ≤ N +
// frame_length/2. The soft-token count of a clip is that valid-frame count halved (rounding up) twice,
// which is the processor's closed formula (num_mel_frames on the raw length, two stride-2 convs)
// capped at audio_seq_length.
#pragma once

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <string>
#include <unsupported/Eigen/FFT>
#include <vector>

#include "gemma4/error.h"

namespace gemma4 {

struct AudioFeatureConfig {
  int sampling_rate = 16000;
  int feature_size = 128;       // mel bins
  int frame_length = 320;       // round(16000 · 20 ms)
  int hop_length = 160;         // round(16000 · 10 ms)
  int fft_length = 512;         // 2^ceil(log2(frame_length))
  double min_frequency = 0.0, max_frequency = 8000.0;
  double mel_floor = 1e-3;
  int pad_to_multiple_of = 128;
  int max_length = 480000;      // samples kept (30 s); longer clips are truncated
  int audio_seq_length = 750;   // the processor's cap on soft tokens per clip
};

// Periodic Hann window, float32 as the extractor stores it: 0.5 − 0.5·cos(2πn / N) (np.hanning(N+1)[:-1]).
inline std::vector<float> hann_window_periodic(int n) {
  std::vector<float> w(static_cast<size_t>(n));
  const double pi = 3.14159265358979323846;
  for (int i = 0; i < n; ++i) w[size_t(i)] = float(0.5 - 0.5 * std::cos(2.0 * pi * i / n));
  return w;
}

// HTK mel filter bank [num_frequency_bins, num_mel_filters] (audio_utils.mel_filter_bank with
// norm=None, mel_scale="htk"): triangles between mel-spaced edges, evaluated at the bins
// linspace(0, sr // 2, bins), computed in float64 and stored as float32.
inline std::vector<float> mel_filter_bank_htk(int num_frequency_bins, int num_mel_filters, double min_frequency,
                                              double max_frequency, int sampling_rate) {
  auto hz_to_mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  auto mel_to_hz = [](double m) { return 700.0 * (std::pow(10.0, m / 2595.0) - 1.0); };
  const double mel_min = hz_to_mel(min_frequency), mel_max = hz_to_mel(max_frequency);
  const int edges = num_mel_filters + 2;
  std::vector<double> filter_hz(static_cast<size_t>(edges));
  for (int i = 0; i < edges; ++i) {  // np.linspace: start + i·step, the last point exact
    const double mel = i == edges - 1 ? mel_max : mel_min + i * ((mel_max - mel_min) / (edges - 1));
    filter_hz[size_t(i)] = mel_to_hz(mel);
  }
  const double nyquist = double(sampling_rate / 2);
  std::vector<float> bank(size_t(num_frequency_bins) * size_t(num_mel_filters));
  for (int b = 0; b < num_frequency_bins; ++b) {
    const double f = b == num_frequency_bins - 1 ? nyquist : b * (nyquist / (num_frequency_bins - 1));
    for (int m = 0; m < num_mel_filters; ++m) {
      const double lo = filter_hz[size_t(m)], mid = filter_hz[size_t(m + 1)], hi = filter_hz[size_t(m + 2)];
      const double down = -(lo - f) / (mid - lo), up = (hi - f) / (hi - mid);
      bank[size_t(b) * size_t(num_mel_filters) + size_t(m)] = float(std::max(0.0, std::min(down, up)));
    }
  }
  return bank;
}

// Feature frames of a clip of `num_samples` after truncation and padding (valid or not).
inline int audio_feature_frames(int64_t num_samples, const AudioFeatureConfig& c) {
  int64_t n = std::min<int64_t>(num_samples, c.max_length);
  const int64_t m = c.pad_to_multiple_of > 0 ? c.pad_to_multiple_of : 1;
  n = (n + m - 1) / m * m;
  const int64_t span = n + c.frame_length / 2 - (c.frame_length + 1);
  return span < 0 ? 0 : int(span / c.hop_length + 1);
}

// Valid (mask = 1) feature frames of a clip of `num_samples`: the frames whose whole unfold window
// lies inside the real audio.
inline int audio_valid_frames(int64_t num_samples, const AudioFeatureConfig& c) {
  const int64_t n = std::min<int64_t>(num_samples, c.max_length);
  const int64_t span = n + c.frame_length / 2 - (c.frame_length + 1);
  return span < 0 ? 0 : std::min(int(span / c.hop_length + 1), audio_feature_frames(num_samples, c));
}

// Soft tokens the audio tower yields for a clip: the valid-frame mask subsampled by the two
// stride-2 convolutions (mask[::2] twice, i.e. ceil(v/2) twice), capped at audio_seq_length.
inline int audio_tokens_from_mask(int64_t num_samples, const AudioFeatureConfig& c) {
  int v = audio_valid_frames(num_samples, c);
  for (int i = 0; i < 2; ++i) v = (v + 1) / 2;
  return std::min(v, c.audio_seq_length);
}

// The processor's closed formula (Gemma4Processor._compute_audio_num_tokens): mel frames of the
// raw length, then (t + 2·1 − 3) // 2 + 1 twice, capped at audio_seq_length.
inline int audio_tokens_processor_formula(int64_t num_samples, const AudioFeatureConfig& c) {
  const int64_t span = num_samples + c.frame_length / 2 - (c.frame_length + 1);
  if (span < 0) return 0;
  int64_t t = span / c.hop_length + 1;
  for (int i = 0; i < 2; ++i) t = (t - 1) / 2 + 1;
  return int(std::min<int64_t>(t, c.audio_seq_length));
}

struct AudioFeatures {
  int frames = 0, bins = 0;
  std::vector<float> features;  // [frames, bins], 0 on masked frames
  std::vector<uint8_t> mask;    // [frames], 1 = real audio
  int valid_frames() const { return int(std::count(mask.begin(), mask.end(), uint8_t(1))); }
};

class AudioFeatureExtractor {
 public:
  explicit AudioFeatureExtractor(AudioFeatureConfig c = {}) : c_(c) {
    if (c_.frame_length < 2 || c_.hop_length < 1 || c_.fft_length < c_.frame_length || c_.feature_size < 1)
      fail("audio feature extractor", "inconsistent frame_length/hop_length/fft_length/feature_size");
    window_ = hann_window_periodic(c_.frame_length);
    mel_ = mel_filter_bank_htk(c_.fft_length / 2 + 1, c_.feature_size, c_.min_frequency, c_.max_frequency,
                               c_.sampling_rate);
  }

  const AudioFeatureConfig& config() const { return c_; }
  const std::vector<float>& window() const { return window_; }
  const std::vector<float>& mel_filters() const { return mel_; }

  // One clip, padded to a multiple of pad_to_multiple_of (or to `padded_length` samples when
  // given: the longest clip of a batch, rounded up).
  AudioFeatures extract(const float* wave, int64_t num_samples, int64_t padded_length = -1) const {
    const int64_t n = std::min<int64_t>(num_samples, c_.max_length);
    const int64_t m = c_.pad_to_multiple_of > 0 ? c_.pad_to_multiple_of : 1;
    const int64_t padded = padded_length >= 0 ? padded_length : (n + m - 1) / m * m;
    if (padded < n) fail("audio feature extractor", "padded_length is shorter than the clip");
    const int64_t left = c_.frame_length / 2;
    std::vector<double> x(size_t(left + padded), 0.0);
    for (int64_t i = 0; i < n; ++i) x[size_t(left + i)] = double(wave[i]);
    const int64_t span = int64_t(x.size()) - (c_.frame_length + 1);
    AudioFeatures out;
    out.frames = span < 0 ? 0 : int(span / c_.hop_length + 1);
    out.bins = c_.feature_size;
    out.features.assign(size_t(out.frames) * size_t(out.bins), 0.0f);
    out.mask.assign(size_t(out.frames), 0);
    const int bins = c_.fft_length / 2 + 1;
    Eigen::FFT<double> fft;
    fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
    std::vector<double> frame(size_t(c_.fft_length), 0.0);
    std::vector<std::complex<double>> spectrum;
    std::vector<double> magnitude(static_cast<size_t>(bins));
    for (int f = 0; f < out.frames; ++f) {
      const int64_t start = int64_t(f) * c_.hop_length;
      // The unfold window's last sample (index start + frame_length) must be real audio.
      const int64_t last = start + c_.frame_length;
      out.mask[size_t(f)] = last >= left && last < left + n;
      if (!out.mask[size_t(f)]) continue;  // masked frames are zeroed anyway
      // float32 samples × float32 window in float32 (as NumPy multiplies them), FFT in float64.
      for (int i = 0; i < c_.frame_length; ++i)
        frame[size_t(i)] = double(float(x[size_t(start + i)]) * window_[size_t(i)]);
      fft.fwd(spectrum, frame);
      for (int b = 0; b < bins; ++b) magnitude[size_t(b)] = std::abs(spectrum[size_t(b)]);
      for (int mb = 0; mb < c_.feature_size; ++mb) {
        double acc = 0.0;
        for (int b = 0; b < bins; ++b) acc += magnitude[size_t(b)] * double(mel_[size_t(b) * size_t(c_.feature_size) + size_t(mb)]);
        out.features[size_t(f) * size_t(out.bins) + size_t(mb)] = float(std::log(acc + c_.mel_floor));
      }
    }
    return out;
  }

  AudioFeatures extract(const std::vector<float>& wave) const { return extract(wave.data(), int64_t(wave.size())); }

  // A padded batch ("longest" padding): every clip padded to the longest (truncated) clip,
  // rounded up to pad_to_multiple_of.
  std::vector<AudioFeatures> extract_batch(const std::vector<std::vector<float>>& clips) const {
    int64_t longest = 0;
    for (const auto& w : clips) longest = std::max<int64_t>(longest, std::min<int64_t>(int64_t(w.size()), c_.max_length));
    const int64_t m = c_.pad_to_multiple_of > 0 ? c_.pad_to_multiple_of : 1;
    const int64_t padded = (longest + m - 1) / m * m;
    std::vector<AudioFeatures> out;
    for (const auto& w : clips) out.push_back(extract(w.data(), int64_t(w.size()), padded));
    return out;
  }

 private:
  AudioFeatureConfig c_;
  std::vector<float> window_;
  std::vector<float> mel_;
};

}  // namespace gemma4
