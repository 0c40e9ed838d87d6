// The video path (video.h): frame sampling, timestamps and the prompt layout, the per-frame pixel
// rule, the frames through the vision tower, and the e2b-tiny-video golden case end to end.
#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gemma4/gemma4.h"
#include "gemma4/golden.h"
#include "test_util.h"

using namespace gemma4;
using namespace gemma4::test;

namespace {

// F frames of h×w; frame f is a gradient shifted by 7·f so frames differ.
Video test_video(int frames, int h, int w, double fps) {
  Video v;
  v.fps = fps;
  for (int f = 0; f < frames; ++f) {
    Image img;
    img.height = h;
    img.width = w;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) img.rgb.push_back(uint8_t((x * 5 + y * 3 + c * 60 + 7 * f) & 255));
    v.frames.push_back(std::move(img));
  }
  return v;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("video") {
TEST_CASE("frame sampling: i·total // num_frames, and too many frames is an error") {
  CHECK(sample_frame_indices(6, 2) == std::vector<int>{0, 3});
  CHECK(sample_frame_indices(10, 4) == std::vector<int>{0, 2, 5, 7});
  CHECK(sample_frame_indices(7, 3) == std::vector<int>{0, 2, 4});
  CHECK(sample_frame_indices(3, 3) == std::vector<int>{0, 1, 2});
  CHECK(error_of([] { sample_frame_indices(5, 32); }).find("num_frames=32 exceeds the video's 5 frames") !=
        std::string::npos);
  CHECK(error_of([] { sample_frame_indices(5, 0); }).find("num_frames must be positive") != std::string::npos);
}

TEST_CASE("process_video: one resize size for all frames, timestamps, the prompt layout") {
  VideoProcessorConfig cfg;
  cfg.num_frames = 2;
  const ProcessedVideo pv = process_video(test_video(6, 64, 112, 2.0), cfg);
  CHECK(pv.frame_indices == std::vector<int>{0, 3});
  CHECK(pv.timestamps_s == std::vector<double>{0.0, 1.5});
  REQUIRE(pv.frames.size() == 2);
  for (const ProcessedImage& p : pv.frames) {
    CHECK(p.resized_height == 288);  // 64×112 at 70 soft tokens (630 patches)
    CHECK(p.resized_width == 528);
    CHECK(p.slots() == 630);
    CHECK(p.num_soft_tokens == 66);
  }
  CHECK(pv.soft_tokens_per_frame == 66);
  CHECK(pv.total_soft_tokens() == 132);
  // Different source frames stay different after processing.
  CHECK(pv.frames[0].patches_u8 != pv.frames[1].patches_u8);

  std::string frame = "<|image>";
  for (int i = 0; i < 66; ++i) frame += "<|video|>";
  frame += "<image|>";
  CHECK(expand_media_placeholders("a <|video|> b", {pv.media_item()}) == "a 00:00 " + frame + " 00:01 " + frame + " b");

  // Unknown fps: the processor assumes 24 frames per second.
  cfg.num_frames = 3;
  const ProcessedVideo slow = process_video(test_video(60, 48, 48, 0.0), cfg);
  CHECK(slow.frame_indices == std::vector<int>{0, 20, 40});
  CHECK(slow.timestamps_s == std::vector<double>{0.0, 20.0 / 24.0, 40.0 / 24.0});
  // Small frames are upscaled to fill the budget: 48×48 -> 384×384, 24×24 patches, 64 tokens.
  CHECK(slow.frames[0].resized_height == 384);
  CHECK(slow.frames[0].resized_width == 384);
  CHECK(slow.soft_tokens_per_frame == 64);
}

TEST_CASE("process_video: pixel = float32(u8) / 255, not the image path's u8 · float32(1/255)") {
  VideoProcessorConfig cfg;
  cfg.num_frames = 1;
  const ProcessedVideo pv = process_video(test_video(1, 96, 96, 1.0), cfg);
  const ProcessedImage& p = pv.frames.at(0);
  size_t differs_from_multiply = 0;
  for (size_t i = 0; i < p.patches_u8.size(); ++i) {
    const float division = float(p.patches_u8[i]) / 255.0f;
    REQUIRE(std::memcmp(&p.pixel_values[i], &division, sizeof(float)) == 0);
    differs_from_multiply += p.pixel_values[i] != float(p.patches_u8[i]) * float(1.0 / 255.0);
  }
  CHECK(differs_from_multiply > 0);  // the two rules are distinguishable on this input
}

TEST_CASE("process_video: bad input is named") {
  CHECK(error_of([] { process_video(Video{}); }).find("the video has no frames") != std::string::npos);
  Video v = test_video(3, 32, 32, 1.0);
  v.frames[1] = test_video(1, 32, 16, 1.0).frames[0];
  VideoProcessorConfig cfg;
  cfg.num_frames = 3;
  CHECK(error_of([&] { process_video(v, cfg); }).find("frame 1 is 32x16") != std::string::npos);
  cfg.max_soft_tokens = 100;
  CHECK(error_of([&] { process_video(test_video(3, 32, 32, 1.0), cfg); }).find("max_soft_tokens") !=
        std::string::npos);
}
}  // TEST_SUITE("video")

TEST_SUITE("multimodal") {
TEST_CASE("video: soft tokens are the frames' image-path tokens in frame order; e2b-tiny-video golden") {
  const std::string dir = bundle_dir();
  if (!std::filesystem::exists(std::filesystem::path(dir) / "models/e2b-tiny/config.json")) {
    MESSAGE("SKIP: no tiny checkpoint");
    return;
  }
  const Kernels k = highway_kernels();
  const ModelConfig mc = load_model_config(dir + "/models/e2b-tiny/config.json");
  const CheckpointSource src(TensorStore::open(dir + "/models/e2b-tiny/model.safetensors"));
  const VisionModel vm = VisionModel::from_source(mc, src);
  VideoProcessorConfig cfg;
  cfg.num_frames = 2;
  const ProcessedVideo pv = process_video(test_video(4, 64, 64, 1.0), cfg);
  const std::vector<float> soft = video_soft_tokens(vm, pv, k);
  const size_t per_frame = size_t(pv.soft_tokens_per_frame) * size_t(vm.text_hidden_size);
  REQUIRE(soft.size() == 2 * per_frame);
  for (size_t f = 0; f < 2; ++f) {
    const ProcessedImage& p = pv.frames[f];
    const std::vector<float> one = vision_forward(vm, p.pixel_values.data(), p.position_ids.data(), p.slots(), k);
    CHECK(std::vector<float>(soft.begin() + long(f * per_frame), soft.begin() + long((f + 1) * per_frame)) == one);
  }

  if (!std::filesystem::exists(std::filesystem::path(dir) / "cases/e2b-tiny-video.safetensors")) {
    MESSAGE("SKIP: no e2b-tiny-video case");
    return;
  }
  golden::Bundle bundle(dir);
  const golden::CaseResult r = golden::run_case(bundle, "e2b-tiny-video", k);
  REQUIRE(r.status != golden::CaseResult::kSkip);
  for (const auto& t : r.tensors) {
    INFO(t.name << ": NMSE " << t.nmse << " cosine " << t.cosine << " " << t.note);
    CHECK(t.pass);
  }
  CHECK(r.tensors.size() == 9);  // every listed tensor but the input video_u8
  // NMSE cannot see a last-bit difference: the stored pixel rows must match bit for bit.
  SafetensorsFile case_file(dir + "/cases/e2b-tiny-video.safetensors");
  const golden::HostTensor ref = golden::to_host(case_file.at("video_pixel_values_rows"), "e2b-tiny-video");
  Video v;
  v.fps = 2.0;
  const golden::HostTensor raw = golden::to_host(case_file.at("video_u8"), "e2b-tiny-video");
  const size_t bytes = size_t(raw.shape[1] * raw.shape[2] * 3);
  for (int64_t f = 0; f < raw.shape[0]; ++f) {
    Image img;
    img.height = int(raw.shape[1]);
    img.width = int(raw.shape[2]);
    img.rgb.assign(raw.i.begin() + long(size_t(f) * bytes), raw.i.begin() + long(size_t(f + 1) * bytes));
    v.frames.push_back(std::move(img));
  }
  const ProcessedVideo golden_pv = process_video(v, cfg);
  REQUIRE(ref.f.size() <= golden_pv.frames[0].pixel_values.size());
  CHECK(std::memcmp(ref.f.data(), golden_pv.frames[0].pixel_values.data(), ref.f.size() * sizeof(float)) == 0);
}
}  // TEST_SUITE("multimodal")
