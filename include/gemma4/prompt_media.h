// Expanding the chat template's media placeholders into the soft-token layout the model reads,
// as Gemma4Processor does (transformers/models/gemma4/processing_gemma4.py):
//   <|image|>  ->  <|image> + <|image|> x N + <image|>          (N soft tokens of that image)
//   <|audio|>  ->  <|audio> + <|audio|> x N + <audio|>          (N = audio frames after the
//                                                                 two stride-2 subsampling convs)
//   <|video|>  ->  for each sampled frame "mm:ss <|image>" + <|video|> x N + "<image|>",
//                  frames joined by single spaces; mm:ss = the frame's timestamp floored
// The soft-token counts come from the image/audio/video preprocessing; this header only lays out
// the text. Placeholders are replaced in prompt order, one media item each; a count mismatch is
// an error naming both numbers.
#pragma once

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gemma4 {

struct MediaItem {
  enum class Kind { kImage, kAudio, kVideo } kind;
  int soft_tokens = 0;                     // image/audio: soft tokens; video: per frame
  std::vector<double> frame_timestamps_s;  // video only: one entry per sampled frame

  static MediaItem image(int soft_tokens) { return {Kind::kImage, soft_tokens, {}}; }
  static MediaItem audio(int soft_tokens) { return {Kind::kAudio, soft_tokens, {}}; }
  static MediaItem video(int soft_tokens_per_frame, std::vector<double> timestamps_s) {
    return {Kind::kVideo, soft_tokens_per_frame, std::move(timestamps_s)};
  }
};

// Soft tokens of an audio clip of `mel_frames` valid feature frames: two convolutions with
// kernel 3, stride 2, padding 1 (t -> (t - 1) / 2 + 1 each).
inline int audio_soft_tokens(int mel_frames) {
  int t = mel_frames;
  for (int i = 0; i < 2; ++i) t = t > 0 ? (t - 1) / 2 + 1 : 0;
  return t;
}

inline std::string media_timestamp(double seconds) {  // "mm:ss", floored
  const auto s = static_cast<long>(std::floor(seconds));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

inline std::string expand_media_placeholders(std::string_view prompt, const std::vector<MediaItem>& items) {
  static constexpr std::string_view kPlaceholders[] = {"<|image|>", "<|audio|>", "<|video|>"};
  auto repeat = [](std::string_view token, int n) {
    if (n < 0) throw std::invalid_argument("media: negative soft-token count");
    std::string s;
    s.reserve(token.size() * static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) s += token;
    return s;
  };
  std::string out;
  std::size_t pos = 0, next_item = 0;
  while (true) {
    std::size_t at = std::string_view::npos;
    int kind = -1;
    for (int k = 0; k < 3; ++k) {
      const std::size_t hit = prompt.find(kPlaceholders[k], pos);
      if (hit < at) {
        at = hit;
        kind = k;
      }
    }
    if (at == std::string_view::npos) break;
    out.append(prompt.substr(pos, at - pos));
    pos = at + kPlaceholders[kind].size();
    if (next_item >= items.size())
      throw std::invalid_argument("media: the prompt has more placeholders than the " + std::to_string(items.size()) +
                                  " media items given");
    const MediaItem& item = items[next_item++];
    if (static_cast<int>(item.kind) != kind)
      throw std::invalid_argument("media: placeholder " + std::string(kPlaceholders[kind]) + " at byte " +
                                  std::to_string(at) + " does not match media item " + std::to_string(next_item - 1));
    switch (item.kind) {
      case MediaItem::Kind::kImage:
        out += "<|image>" + repeat("<|image|>", item.soft_tokens) + "<image|>";
        break;
      case MediaItem::Kind::kAudio:
        out += "<|audio>" + repeat("<|audio|>", item.soft_tokens) + "<audio|>";
        break;
      case MediaItem::Kind::kVideo: {
        if (item.frame_timestamps_s.empty()) throw std::invalid_argument("media: a video needs at least one frame");
        const std::string frame = "<|image>" + repeat("<|video|>", item.soft_tokens) + "<image|>";
        for (std::size_t f = 0; f < item.frame_timestamps_s.size(); ++f) {
          if (f) out += ' ';
          out += media_timestamp(item.frame_timestamps_s[f]) + " " + frame;
        }
        break;
      }
    }
  }
  out.append(prompt.substr(pos));
  if (next_item != items.size())
    throw std::invalid_argument("media: " + std::to_string(items.size()) + " media items for " +
                                std::to_string(next_item) + " placeholders in the prompt");
  return out;
}

}  // namespace gemma4
