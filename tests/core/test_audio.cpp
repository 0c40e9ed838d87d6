// The audio path: file decoding, the log-mel front end (Gemma4AudioFeatureExtractor) and the
// Conformer audio tower (golden cases at the manifest tolerance, plus properties that hold for any
// weights), and the errors bad input gets.
#include <doctest/doctest.h>

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gemma4/gemma4.h"
#include "gemma4/golden.h"
#include "gemma4/prompt_media.h"
#include "golden_cases.h"
#include "test_util.h"

using namespace gemma4;
using namespace gemma4::test;

namespace {

const Kernels& hwy() {
  static const Kernels k = highway_kernels();
  return k;
}

bool have_bundle() { return std::filesystem::exists(std::filesystem::path(bundle_dir()) / "manifest.json"); }

// The bundle's cases of one kind whose name contains `filter`, every tensor checked; a case the
// C++ skips is a failure here (the audio path is complete).
void check_cases(const std::string& kind, const std::string& filter) {
  const int ran = check_golden_cases([&](const std::string& k) { return k == kind; }, filter, hwy(), OnSkippedCase::kFail);
  if (ran >= 0) CHECK_MESSAGE(ran > 0, "no " << kind << " case matching \"" << filter << "\" ran");
}

std::vector<float> sine(int n, double hz, double amplitude = 0.5, int rate = 16000) {
  std::vector<float> w(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) w[size_t(i)] = float(amplitude * std::sin(2.0 * M_PI * hz * i / rate));
  return w;
}

// Writes 16-bit PCM WAV through libsndfile; `channels` interleaved copies (channel c scaled by c + 1).
void write_wav(const std::string& path, const std::vector<float>& mono, int rate, int channels = 1) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  REQUIRE(f != nullptr);
  std::vector<float> inter;
  for (float s : mono)
    for (int c = 0; c < channels; ++c) inter.push_back(s * float(c + 1) / float(channels));
  REQUIRE(sf_writef_float(f, inter.data(), sf_count_t(mono.size())) == sf_count_t(mono.size()));
  sf_close(f);
}

const AudioModel* tiny_audio_model() {
  static std::unique_ptr<golden::Bundle> bundle;
  if (!have_bundle()) return nullptr;
  if (!bundle) bundle = std::make_unique<golden::Bundle>(bundle_dir());
  return &bundle->audio_model("models/e2b-tiny");
}

}  // namespace

TEST_SUITE("audio") {

TEST_CASE("front end: golden window, mel filters, features, masks, batch and token counts") {
  check_cases("audio_features", "");
}

TEST_CASE("front end: a pure tone peaks in the mel band around its frequency; padding frames are zero") {
  const AudioFeatureExtractor fx;
  const std::vector<float> tone = sine(8100, 1000.0);  // padded to 8192: one frame reaches the padding
  const AudioFeatures a = fx.extract(tone);
  REQUIRE(a.frames == audio_feature_frames(int64_t(tone.size()), fx.config()));
  CHECK(a.valid_frames() == audio_valid_frames(int64_t(tone.size()), fx.config()));
  CHECK(a.valid_frames() < a.frames);
  // The band whose triangle centre is nearest 1 kHz (HTK mel spacing over 0-8 kHz, 128 bands).
  const auto mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  const int expected = int(std::lround(mel(1000.0) / (mel(8000.0) / 129.0))) - 1;
  const int mid = a.frames / 2;
  const float* row = a.features.data() + size_t(mid) * size_t(a.bins);
  const int peak = int(std::max_element(row, row + a.bins) - row);
  CHECK(std::abs(peak - expected) <= 1);
  for (int f = 0; f < a.frames; ++f)
    if (!a.mask[size_t(f)])
      for (int b = 0; b < a.bins; ++b) CHECK(a.features[size_t(f) * size_t(a.bins) + size_t(b)] == 0.0f);
  // Silence sits at the floor: log(0 + 1e-3).
  const AudioFeatures quiet = fx.extract(std::vector<float>(4000, 0.0f));
  CHECK(quiet.features[0] == doctest::Approx(std::log(1e-3)).epsilon(1e-6));
}

TEST_CASE("front end: a clip padded inside a batch keeps its own valid frames bit for bit") {
  const AudioFeatureExtractor fx;
  const std::vector<float> a = sine(5000, 440.0), b = sine(12345, 3000.0, 0.2);
  const std::vector<AudioFeatures> batch = fx.extract_batch({a, b});
  const AudioFeatures alone = fx.extract(a);
  REQUIRE(batch[0].frames == batch[1].frames);
  REQUIRE(batch[0].frames > alone.frames);
  CHECK(batch[0].valid_frames() == alone.valid_frames());
  for (int f = 0; f < alone.valid_frames(); ++f)
    for (int j = 0; j < alone.bins; ++j)
      CHECK(batch[0].features[size_t(f * alone.bins + j)] == alone.features[size_t(f * alone.bins + j)]);
}

TEST_CASE("token counts: the processor formula equals the tower's subsampled mask for any length") {
  const AudioFeatureConfig c;
  for (int64_t n = 0; n < 700000; n += n < 2000 ? 1 : 997) {
    INFO("num_samples " << n);
    REQUIRE(audio_tokens_processor_formula(n, c) == audio_tokens_from_mask(n, c));
  }
  CHECK(audio_tokens_processor_formula(16000, c) == 25);   // 40 ms per token
  CHECK(audio_tokens_processor_formula(10 * 480000, c) == c.audio_seq_length);
}

TEST_CASE("audio tower: golden tiny cases (every stage of e2b-tiny, l_out of e4b-tiny)") {
  check_cases("audio", "-tiny-");
}

TEST_CASE("audio tower: soft-token count matches the prompt's placeholders; no token sees the future") {
  const AudioModel* m = tiny_audio_model();
  if (!m) {
    MESSAGE("SKIP: no golden bundle");
    return;
  }
  const AudioFeatureExtractor fx;
  const std::vector<float> wave = sine(30011, 700.0);
  AudioFeatures a = fx.extract(wave);
  const AudioEncoding enc = audio_forward(*m, a.features.data(), a.mask.data(), a.frames, hwy());
  CHECK(enc.num_soft_tokens == audio_tokens_processor_formula(int64_t(wave.size()), fx.config()));
  CHECK(enc.num_soft_tokens == audio_soft_tokens(a.valid_frames()));
  // Token t reads feature frames ≤ 4t + 3 (two stride-2 3×3 convs; attention looks left only; the
  // light conv is causal), so changing later frames leaves the first tokens bit-identical.
  const int keep = 20, first_changed = 4 * keep + 4;
  for (int f = first_changed; f < a.frames; ++f)
    for (int j = 0; j < a.bins; ++j) a.features[size_t(f * a.bins + j)] *= -0.5f;
  const AudioEncoding changed = audio_forward(*m, a.features.data(), a.mask.data(), a.frames, hwy());
  const size_t H = size_t(m->text_hidden_size);
  for (size_t i = 0; i < size_t(keep) * H; ++i) REQUIRE(changed.soft_tokens[i] == enc.soft_tokens[i]);
  bool later_differ = false;
  for (size_t i = size_t(keep + 2) * H; i < changed.soft_tokens.size(); ++i)
    later_differ = later_differ || changed.soft_tokens[i] != enc.soft_tokens[i];
  CHECK(later_differ);
}

TEST_CASE("audio files: decode, mix down to mono, and reject bad input naming the file") {
  TempDir dir("audio");
  const std::vector<float> wave = sine(1600, 440.0);
  const std::string ok = dir.file("ok.wav"), stereo = dir.file("stereo.wav");
  write_wav(ok, wave, 16000);
  const AudioClip clip = read_audio_file(ok);
  REQUIRE(clip.samples.size() == wave.size());
  CHECK(clip.sample_rate == 16000);
  for (size_t i = 0; i < wave.size(); ++i) CHECK(std::abs(clip.samples[i] - wave[i]) < 1.0f / 32768.0f);
  write_wav(stereo, wave, 16000, 2);  // channels carry ½ and 1 × the wave: the mean is ¾
  const AudioClip mixed = read_audio_file(stereo);
  CHECK(mixed.channels == 2);
  for (size_t i = 0; i < wave.size(); ++i) CHECK(std::abs(mixed.samples[i] - 0.75f * wave[i]) < 2.0f / 32768.0f);

  const std::string rate = dir.file("44k.wav");
  write_wav(rate, sine(4410, 440.0, 0.5, 44100), 44100);
  CHECK_THROWS_WITH_AS(read_audio_file(rate),
                       (rate + ": field sample_rate: 44100 Hz, expected 16000 Hz (resample the file first)").c_str(),
                       Error);
  // A download cut short: the header still promises 1600 frames.
  std::ifstream in(ok, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = dir.file("cut.wav"), header_only = dir.file("header.wav"), junk = dir.file("junk.wav");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() - 1000);
  std::ofstream(header_only, std::ios::binary) << bytes.substr(0, 30);
  std::ofstream(junk, std::ios::binary) << "not audio at all";
  CHECK_THROWS_WITH_AS(read_audio_file(cut), (cut + ": truncated: data chunk size 3200 (should be 2200) bytes").c_str(),
                       Error);
  for (const std::string& bad : {header_only, junk, dir.file("missing.wav")}) {
    INFO(bad);
    try {
      read_audio_file(bad);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).rfind(bad + ": cannot decode audio", 0) == 0);
    }
  }
}

TEST_CASE("audio config: missing and malformed fields name the file and the field") {
  const nlohmann::json good = {{"hidden_size", 32}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                               {"output_proj_dims", 48}, {"subsampling_conv_channels", {128, 8}}};
  const AudioConfig c = parse_audio_config(good, "cfg.json");
  CHECK(c.head_dim() == 8);
  CHECK(c.context_size() == 24);
  CHECK(c.num_rel_positions() == 13);
  auto without = [&](const std::string& key) {
    nlohmann::json j = good;
    j.erase(key);
    return j;
  };
  CHECK_THROWS_WITH_AS(parse_audio_config(without("hidden_size"), "cfg.json"),
                       "cfg.json: field audio_config.hidden_size: missing (required)", Error);
  CHECK_THROWS_WITH_AS(parse_audio_config(without("subsampling_conv_channels"), "cfg.json"),
                       "cfg.json: field audio_config.subsampling_conv_channels: expected two integers", Error);
  nlohmann::json heads = good;
  heads["num_attention_heads"] = 5;
  CHECK_THROWS_WITH_AS(parse_audio_config(heads, "cfg.json"),
                       "cfg.json: field audio_config.num_attention_heads: must be positive and divide hidden_size", Error);
  nlohmann::json act = good;
  act["hidden_act"] = "gelu";
  CHECK_THROWS_WITH_AS(parse_audio_config(act, "cfg.json"),
                       "cfg.json: field audio_config.hidden_act: unsupported \"gelu\" (supported: silu)", Error);
  CHECK_THROWS_WITH_AS(parse_audio_config(nlohmann::json::array(), "cfg.json"),
                       "cfg.json: field audio_config: expected an object", Error);
  if (have_bundle()) {  // a model without an audio tower (31B) says so, naming its config
    golden::Bundle bundle(bundle_dir());
    try {
      bundle.audio_model("models/31b-tiny");
      FAIL("no error");
    } catch (const Error& e) {
      const std::string what = e.what();
      CHECK(what.find("config.json: no audio_config: this checkpoint has no audio tower") != std::string::npos);
    }
  }
}

}  // TEST_SUITE("audio")

// The real-width tower (1024 wide, ~40M synthetic weights): about a second in Release, slow under ASan.
TEST_SUITE("audio-realwidth") {
TEST_CASE("audio tower: golden real-width case") { check_cases("audio", "realwidth"); }
}
