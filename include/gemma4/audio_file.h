// Decoding an audio file (WAV, FLAC, Ogg, ... whatever libsndfile reads) into the mono float32
// samples the feature extractor takes. Multi-channel audio is averaged to mono (as the reference's
// decoder does with num_channels=1). There is no resampler here: a file whose rate differs from
// the extractor's (16 kHz) is an error naming the file and the rate, never silently misread.
#pragma once

#include <sndfile.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gemma4/error.h"

namespace gemma4 {

struct AudioClip {
  int sample_rate = 0;
  int channels = 0;             // of the file; `samples` is always mono
  std::vector<float> samples;   // in [-1, 1] for integer PCM (libsndfile's float normalisation)
};

// Reads `path` whole; `expected_rate` > 0 rejects other sampling rates.
inline AudioClip read_audio_file(const std::string& path, int expected_rate = 16000) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) fail(path, std::string("cannot decode audio: ") + sf_strerror(nullptr));
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{f};
  if (info.channels < 1) fail(path, "field channels: " + std::to_string(info.channels) + " (expected at least 1)");
  if (expected_rate > 0 && info.samplerate != expected_rate)
    fail(path, "field sample_rate: " + std::to_string(info.samplerate) + " Hz, expected " +
                   std::to_string(expected_rate) + " Hz (resample the file first)");
  AudioClip clip;
  clip.sample_rate = info.samplerate;
  clip.channels = info.channels;
  // libsndfile clips a WAV whose data chunk overstates the file to what is there and only notes
  // it in its log ("data : 3200 (should be 2200)"): a truncated download must not pass as a
  // shorter clip.
  std::vector<char> log_buf(16384, '\0');
  sf_command(f, SFC_GET_LOG_INFO, log_buf.data(), int(log_buf.size()) - 1);
  const std::string log(log_buf.data());
  for (size_t pos = 0; pos < log.size();) {
    const size_t end = std::min(log.find('\n', pos), log.size());
    const std::string line = log.substr(pos, end - pos);
    if (line.rfind("data", 0) == 0 && line.find("should be") != std::string::npos)
      fail(path, "truncated: data chunk size" + line.substr(line.find(':') + 1) + " bytes");
    pos = end + 1;
  }
  std::vector<float> interleaved(size_t(info.frames) * size_t(info.channels));
  const sf_count_t got = sf_readf_float(f, interleaved.data(), info.frames);
  if (got != info.frames)
    fail(path, "truncated: the header promises " + std::to_string(info.frames) + " frames, " +
                   std::to_string(got) + " could be read");
  clip.samples.resize(size_t(got));
  for (sf_count_t i = 0; i < got; ++i) {
    double s = 0.0;
    for (int c = 0; c < info.channels; ++c) s += interleaved[size_t(i) * size_t(info.channels) + size_t(c)];
    clip.samples[size_t(i)] = float(s / info.channels);
  }
  return clip;
}

}  // namespace gemma4
