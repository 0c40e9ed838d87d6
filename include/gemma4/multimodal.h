// Multimodal prompts: media soft tokens merged into the text embeddings (Gemma4Model.forward).
//
//   ids:      <bos> … <|image> <|image|>×N <image|> …      (prompt_media.h lays the placeholders out)
//   x[t]    = E[ids[t]]·√H                 for text tokens
//           = soft_tokens[j]               for the j-th <|image|> (<|video|>, <|audio|>) of the prompt
//   PLE:      the media rows look up <pad> in embed_tokens_per_layer; the context part projects x
//   mask:     mm_token_type_ids (0 text, 1 image, 2 video, 3 audio); on 26B-A4B/31B each contiguous
//             image/video run is one bidirectional block in sliding layers (mask.h)
//
// Soft tokens of several images are concatenated in prompt order; their count must equal the
// number of placeholders of that kind.
#pragma once

#include <string>
#include <vector>

#include "gemma4/config.h"
#include "gemma4/error.h"
#include "gemma4/image_processor.h"
#include "gemma4/kernels.h"
#include "gemma4/mask.h"
#include "gemma4/model.h"
#include "gemma4/vision_tower.h"

namespace gemma4 {

// The soft-token placeholder ids of a Gemma4Config (image_token_id, video_token_id,
// audio_token_id at the top level of config.json); −1 when absent.
struct MediaTokenIds {
  int image = -1, video = -1, audio = -1;

  static MediaTokenIds from_config(const ModelConfig& mc) {
    MediaTokenIds t;
    auto read = [&](const char* key, int& out) {
      if (!mc.raw.is_object() || !mc.raw.contains(key) || mc.raw[key].is_null()) return;
      if (!mc.raw[key].is_number_integer()) fail(mc.path + ": field " + key, "expected an integer");
      out = mc.raw[key].get<int>();
    };
    read("image_token_id", t.image);
    read("video_token_id", t.video);
    read("audio_token_id", t.audio);
    return t;
  }
  // mm_token_type_ids of one token.
  int type_of(int id) const { return id == image && id >= 0 ? 1 : id == video && id >= 0 ? 2 : id == audio && id >= 0 ? 3 : 0; }
};

// One prompt with its media, ready for forward(): ForwardOptions point into this object.
struct MultimodalPrompt {
  std::vector<int> ids;
  std::vector<int> token_types;      // mm_token_type_ids
  std::vector<int> vision_blocks;    // mask.h block id per position (−1 outside image/video runs)
  std::vector<uint8_t> media_rows;   // 1 where the embedding comes from a tower
  std::vector<float> embeddings;     // [S, H]: the soft token on media rows, 0 elsewhere
  int hidden_size = 0;

  bool has_media() const {
    for (uint8_t r : media_rows)
      if (r) return true;
    return false;
  }
  ForwardOptions forward_options(bool all_logits = true) const {
    ForwardOptions o;
    o.all_logits = all_logits;
    if (!has_media()) return o;
    o.vision_blocks = &vision_blocks;
    o.media_rows = media_rows.data();
    o.media_embeddings = embeddings.data();
    return o;
  }
};

// Scatters image/video/audio soft tokens ([count, H] each, prompt order) into the placeholder rows
// of `ids`. Throws when a kind's placeholder count differs from its soft-token count.
inline MultimodalPrompt merge_media(const ModelConfig& mc, std::vector<int> ids, const std::vector<float>& image_tokens,
                                    const std::vector<float>& video_tokens = {},
                                    const std::vector<float>& audio_tokens = {}) {
  const MediaTokenIds media = MediaTokenIds::from_config(mc);
  const size_t H = size_t(mc.text.hidden_size);
  MultimodalPrompt p;
  p.hidden_size = int(H);
  p.ids = std::move(ids);
  const size_t S = p.ids.size();
  p.token_types.resize(S);
  p.media_rows.assign(S, 0);
  p.embeddings.assign(S * H, 0.0f);
  const std::vector<float>* sources[4] = {nullptr, &image_tokens, &video_tokens, &audio_tokens};
  static const char* kNames[4] = {"", "image", "video", "audio"};
  size_t used[4] = {0, 0, 0, 0};
  for (size_t t = 0; t < S; ++t) {
    const int type = media.type_of(p.ids[t]);
    p.token_types[t] = type;
    if (type == 0) continue;
    const std::vector<float>& src = *sources[type];
    if ((used[type] + 1) * H <= src.size())
      std::copy(src.begin() + long(used[type] * H), src.begin() + long((used[type] + 1) * H), p.embeddings.begin() + long(t * H));
    ++used[type];
    p.media_rows[t] = 1;
  }
  for (int type = 1; type < 4; ++type) {
    const std::vector<float>& src = *sources[type];
    if (src.size() % H != 0)
      fail("multimodal", std::string(kNames[type]) + " soft tokens are not rows of the text width " + std::to_string(H));
    if (used[type] != src.size() / H)
      fail("multimodal", std::string(kNames[type]) + " features and " + kNames[type] + " tokens do not match: " +
                             std::to_string(used[type]) + " placeholder tokens in the prompt, " +
                             std::to_string(src.size() / H) + " soft tokens");
  }
  p.vision_blocks = vision_block_ids(p.token_types);
  return p;
}

// Processor + tower for one image: its soft tokens [n, H_text] at the given token budget.
inline std::vector<float> image_soft_tokens(const VisionModel& vm, const Image& img, int max_soft_tokens,
                                            const Kernels& k, int* num_soft_tokens = nullptr) {
  ImageProcessorConfig pc;
  pc.patch_size = vm.config.patch_size;
  pc.pooling_kernel_size = vm.config.pooling_kernel_size;
  pc.max_soft_tokens = max_soft_tokens;
  const ProcessedImage p = process_image(img, pc);
  return vision_forward(vm, p.pixel_values.data(), p.position_ids.data(), p.slots(), k, {}, num_soft_tokens);
}

}  // namespace gemma4
