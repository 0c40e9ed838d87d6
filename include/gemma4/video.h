// Gemma 4 video: decoded RGB frames -> sampled frames -> per-frame vision-tower inputs -> soft
// tokens and the prompt layout, as the pinned transformers code does it
// (Gemma4VideoProcessor, Gemma4Processor.replace_video_token, Gemma4Model.get_video_features):
//
//   1. sample:   indices[i] = i·total // num_frames, i < num_frames (default 32; more than the
//                video has is an error); timestamp[i] = indices[i] / fps seconds (fps 24 if unknown);
//   2. resize:   every frame to the same aspect-preserving size at the video budget (max_soft_tokens
//                70 by default), with the image processor's bicubic antialiased uint8 resize;
//   3. rescale:  pixel = float32(u8) / 255 (the processor fuses rescale with the mean-0/std-1
//                normalise into one division; the image path multiplies by float32(1/255) instead,
//                which differs in the last bit for ~44 % of the values);
//   4. patchify and pad to max_soft_tokens·9 slots as for images (image_processor.h);
//   5. encode:   each frame through the same vision tower + embed_vision as images; the frames'
//                soft tokens, concatenated in frame order, fill the <|video|> rows of the prompt;
//   6. prompt:   <|video|> -> for each frame "mm:ss <|image>" + <|video|>×N + "<image|>", joined by
//                spaces (prompt_media.h: MediaItem::video).
//
// There is no sampling by target fps: in the pinned processor an `fps` request never takes effect
// (sample_frames fills num_frames from its default 32 first, and num_frames wins).
// Input is already-decoded frames: this header does not read video files (no demuxer/codec here).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gemma4/error.h"
#include "gemma4/image_processor.h"
#include "gemma4/kernels.h"
#include "gemma4/prompt_media.h"
#include "gemma4/vision_tower.h"

namespace gemma4 {

// A decoded video: frames of one size, 8-bit RGB, in display order.
struct Video {
  std::vector<Image> frames;
  double fps = 0;  // frames per second of the source; 0 = unknown (timestamps then assume 24)
};

struct VideoProcessorConfig {
  int patch_size = 16;
  int pooling_kernel_size = 3;
  int max_soft_tokens = 70;  // per frame; one of 70, 140, 280, 560, 1120
  int num_frames = 32;       // frames sampled uniformly from the whole video
};

// default_sample_indices_fn with num_frames: np.arange(num_frames) * total // num_frames.
inline std::vector<int> sample_frame_indices(int total_frames, int num_frames) {
  if (num_frames <= 0) fail("video processor", "num_frames must be positive, got " + std::to_string(num_frames));
  if (num_frames > total_frames)
    fail("video processor", "num_frames=" + std::to_string(num_frames) + " exceeds the video's " +
                                std::to_string(total_frames) + " frames");
  std::vector<int> indices(static_cast<size_t>(num_frames));
  for (int i = 0; i < num_frames; ++i) indices[size_t(i)] = int(int64_t(i) * total_frames / num_frames);
  return indices;
}

// The processor's output for one video.
struct ProcessedVideo {
  std::vector<int> frame_indices;     // into Video::frames
  std::vector<double> timestamps_s;   // frame_indices[i] / fps
  std::vector<ProcessedImage> frames;  // per sampled frame; pixel_values use the division rule
  int soft_tokens_per_frame = 0;
  int total_soft_tokens() const { return soft_tokens_per_frame * int(frames.size()); }
  // The prompt_media.h item that expands this video's <|video|> placeholder.
  MediaItem media_item() const { return MediaItem::video(soft_tokens_per_frame, timestamps_s); }
};

inline ProcessedVideo process_video(const Video& video, const VideoProcessorConfig& cfg = {}) {
  const int total = int(video.frames.size());
  if (total == 0) fail("video processor", "the video has no frames");
  const Image& first = video.frames.front();
  for (int f = 0; f < total; ++f) {
    const Image& img = video.frames[size_t(f)];
    if (img.height != first.height || img.width != first.width ||
        img.rgb.size() != size_t(img.height) * size_t(img.width) * 3)
      fail("video processor", "frame " + std::to_string(f) + " is " + std::to_string(img.height) + "x" +
                                  std::to_string(img.width) + " with " + std::to_string(img.rgb.size()) +
                                  " bytes; every frame must be " + std::to_string(first.height) + "x" +
                                  std::to_string(first.width) + " RGB");
  }
  ProcessedVideo out;
  out.frame_indices = sample_frame_indices(total, cfg.num_frames);
  const double fps = video.fps > 0 ? video.fps : 24.0;  // replace_video_token's default
  const ImageProcessorConfig pc{cfg.patch_size, cfg.pooling_kernel_size, cfg.max_soft_tokens};
  const int slots = cfg.max_soft_tokens * cfg.pooling_kernel_size * cfg.pooling_kernel_size;
  for (int index : out.frame_indices) {
    out.timestamps_s.push_back(double(index) / fps);
    ProcessedImage p = patchify(resize_for_budget(video.frames[size_t(index)], pc), cfg.patch_size,
                                cfg.pooling_kernel_size, slots);
    // (x − 0) / (1/255): torch divides by the fused std 255, unlike the image path's multiply.
    for (size_t i = 0; i < p.patches_u8.size(); ++i) p.pixel_values[i] = float(p.patches_u8[i]) / 255.0f;
    out.soft_tokens_per_frame = p.num_soft_tokens;  // the same for every frame: one resize size
    out.frames.push_back(std::move(p));
  }
  return out;
}

// get_video_features: every sampled frame through the vision tower and embed_vision, the real
// soft tokens of the frames concatenated -> [frames · soft_tokens_per_frame, text hidden].
inline std::vector<float> video_soft_tokens(const VisionModel& m, const ProcessedVideo& v, const Kernels& k) {
  std::vector<float> out;
  out.reserve(size_t(v.total_soft_tokens()) * size_t(m.text_hidden_size));
  for (const ProcessedImage& p : v.frames) {
    const std::vector<float> soft = vision_forward(m, p.pixel_values.data(), p.position_ids.data(), p.slots(), k);
    out.insert(out.end(), soft.begin(), soft.end());
  }
  return out;
}

}  // namespace gemma4
