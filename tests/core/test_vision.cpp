// The image path: Gemma4ImageProcessor (decode, size rule, resize, patchify) and the vision tower
// (golden cases at the manifest tolerance, plus properties that hold for any weights).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "gemma4/gemma4.h"
#include "gemma4/golden.h"
#include "golden_cases.h"
#include "test_util.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

using namespace gemma4;
using namespace gemma4::test;

namespace {

const Kernels& hwy() {
  static const Kernels k = highway_kernels();
  return k;
}

Image test_image(int h, int w) {
  Image img;
  img.height = h;
  img.width = w;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) img.rgb.push_back(uint8_t((x * 37 + y * 11 + c * 85 + (x * y) % 7) & 255));
  return img;
}

std::vector<uint8_t> encode(const Image& img, bool jpeg) {
  std::vector<uint8_t> out;
  auto sink = [](void* ctx, void* data, int size) {
    auto* v = static_cast<std::vector<uint8_t>*>(ctx);
    v->insert(v->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (jpeg) stbi_write_jpg_to_func(sink, &out, img.width, img.height, 3, img.rgb.data(), 95);
  else stbi_write_png_to_func(sink, &out, img.width, img.height, 3, img.rgb.data(), img.width * 3);
  return out;
}

// The bundle's cases of one kind whose name contains `filter`, every tensor checked.
void check_cases(const std::string& kind, const std::string& filter) {
  const int ran = check_golden_cases([&](const std::string& k) { return k == kind; }, filter, hwy(), OnSkippedCase::kNote);
  if (ran >= 0) CHECK_MESSAGE(ran > 0, "no " << kind << " case matching \"" << filter << "\" ran");
}

}  // namespace

TEST_SUITE("vision") {

TEST_CASE("image size rule: the processor's documented examples and its errors") {
  // 280 tokens = 2520 patches: a 224² image upscales to 768² (256 tokens), so does 512².
  CHECK(aspect_ratio_preserving_size(224, 224, 16, 280 * 9, 3) == std::pair<int, int>{768, 768});
  CHECK(aspect_ratio_preserving_size(512, 512, 16, 280 * 9, 3) == std::pair<int, int>{768, 768});
  CHECK(aspect_ratio_preserving_size(1, 1, 16, 70 * 9, 3) == std::pair<int, int>{384, 384});
  // A 1:56 strip: 48 rows (one pooling unit), the width as large as the patch budget allows.
  CHECK(aspect_ratio_preserving_size(16, 900, 16, 70 * 9, 3) == std::pair<int, int>{48, 2976});
  // A budget below one pooling unit (4 patches < 3×3): both sides round to 0 → error.
  CHECK_THROWS_WITH_AS(aspect_ratio_preserving_size(5, 5, 16, 4, 3), "image processor: 5x5: resizes to 0x0", Error);
  CHECK_THROWS_WITH_AS(process_image(test_image(8, 8), {16, 3, 100}),
                       "image processor: max_soft_tokens must be one of 70, 140, 280, 560, 1120, got 100", Error);
  CHECK_THROWS_AS(aspect_ratio_preserving_size(0, 5, 16, 630, 3), Error);
}

TEST_CASE("resize: identity when the size fits, exact on constant images, shape of the output") {
  Image solid;
  solid.height = 37;
  solid.width = 53;
  solid.rgb.assign(size_t(37 * 53 * 3), 0);
  for (size_t i = 0; i < solid.rgb.size(); ++i) solid.rgb[i] = uint8_t(i % 3 == 0 ? 10 : i % 3 == 1 ? 200 : 120);
  // Taps sum to one in fixed point up to rounding; a constant image stays constant up and down.
  for (auto [h, w] : {std::pair{96, 144}, std::pair{17, 5}}) {
    const Image r = resize_bicubic_antialias(solid, h, w);
    REQUIRE(r.height == h);
    REQUIRE(r.width == w);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        CHECK(int(r.at(y, x, 0)) == 10);
        CHECK(int(r.at(y, x, 1)) == 200);
        CHECK(int(r.at(y, x, 2)) == 120);
      }
  }
  // 384² is exactly the 70-token size: returned untouched.
  const Image fits = test_image(384, 384);
  CHECK(resize_for_budget(fits, {16, 3, 70}).rgb == fits.rgb);
  const Image img = test_image(96, 144);
  const ProcessedImage p = process_image(img, {16, 3, 70});  // upscaled: 96×144 -> 288×480
  CHECK(p.resized_height == 288);
  CHECK(p.resized_width == 480);
  CHECK(p.num_patches == 540);
  CHECK(p.num_soft_tokens == 60);
  CHECK(p.slots() == 630);
}

TEST_CASE("patchify: patch order, (x, y) positions, padding, pixel rule") {
  const Image img = test_image(48, 96);  // 3×6 patches
  const ProcessedImage p = patchify(img, 16, 3, 27);
  REQUIRE(p.num_patches == 18);
  CHECK(p.num_soft_tokens == 2);
  // Patch 7 = row 1, column 1; its element (r, c, ch) is pixel (16 + r, 16 + c, ch).
  CHECK(p.position_ids[7 * 2] == 1);
  CHECK(p.position_ids[7 * 2 + 1] == 1);
  CHECK(p.position_ids[5 * 2] == 5);
  CHECK(p.position_ids[5 * 2 + 1] == 0);
  CHECK(int(p.patches_u8[7 * 768 + (3 * 16 + 4) * 3 + 2]) == int(img.at(19, 20, 2)));
  for (int s = 18; s < 27; ++s) {
    CHECK(p.position_ids[size_t(s) * 2] == -1);
    CHECK(p.position_ids[size_t(s) * 2 + 1] == -1);
    CHECK(p.pixel_values[size_t(s) * 768 + 100] == 0.0f);
  }
  CHECK(p.pixel_values[7 * 768 + 5] == float(p.patches_u8[7 * 768 + 5]) * float(1.0 / 255.0));
  CHECK_THROWS_AS(patchify(img, 16, 3, 9), Error);
}

TEST_CASE("decode_image: PNG exact, JPEG close, garbage named in the error") {
  const Image img = test_image(20, 31);
  const Image png = decode_image(encode(img, false).data(), encode(img, false).size(), "test.png");
  CHECK(png.height == 20);
  CHECK(png.width == 31);
  CHECK(png.rgb == img.rgb);
  Image smooth = img;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 31; ++x)
      for (int c = 0; c < 3; ++c) smooth.rgb[(size_t(y) * 31 + size_t(x)) * 3 + size_t(c)] = uint8_t(4 * x + 3 * y + 20 * c);
  const std::vector<uint8_t> jpg = encode(smooth, true);
  const Image j = decode_image(jpg.data(), jpg.size(), "test.jpg");
  REQUIRE(j.rgb.size() == smooth.rgb.size());
  int worst = 0;
  for (size_t i = 0; i < j.rgb.size(); ++i) worst = std::max(worst, std::abs(int(j.rgb[i]) - int(smooth.rgb[i])));
  CHECK(worst < 24);
  const uint8_t junk[] = {'G', 'I', 'F', '9', 0, 1, 2, 3};
  CHECK_THROWS_WITH_AS(decode_image(junk, sizeof(junk), "request.messages[0].content[1]"),
                       doctest::Contains("request.messages[0].content[1]: cannot decode image"), Error);
  CHECK_THROWS_WITH_AS(decode_image(junk, 0, "x.png"), "x.png: empty image data", Error);
}

TEST_CASE("image_preprocess golden case: bit exact") { check_cases("image_preprocess", ""); }

TEST_CASE("tiny vision golden cases: every tower intermediate at the manifest tolerance") {
  check_cases("vision", "-tiny-");
}

TEST_CASE("vision tower: padding slots change nothing but the pooled shape; bad configs are named") {
  const std::string dir = bundle_dir();
  if (!std::filesystem::exists(std::filesystem::path(dir) / "models/e2b-tiny/config.json")) {
    MESSAGE("SKIP: no tiny checkpoint");
    return;
  }
  const ModelConfig mc = load_model_config(dir + "/models/e2b-tiny/config.json");
  const CheckpointSource src(TensorStore::open(dir + "/models/e2b-tiny/model.safetensors"));
  const VisionModel vm = VisionModel::from_source(mc, src);
  const Image img = test_image(96, 144);
  const ProcessedImage tight = patchify(img, 16, 3, 54), padded = patchify(img, 16, 3, 630);
  int n1 = 0, n2 = 0;
  const std::vector<float> a = vision_forward(vm, tight.pixel_values.data(), tight.position_ids.data(), 54, hwy(), {}, &n1);
  const std::vector<float> b = vision_forward(vm, padded.pixel_values.data(), padded.position_ids.data(), 630, hwy(), {}, &n2);
  CHECK(n1 == 6);
  CHECK(n2 == 6);
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(a[i]) * a[i];
  }
  CHECK(num / den < 1e-12);
  // Scalar reference kernels agree with Highway.
  const std::vector<float> s = vision_forward(vm, tight.pixel_values.data(), tight.position_ids.data(), 54, scalar_kernels());
  num = 0;
  for (size_t i = 0; i < a.size(); ++i) num += (double(a[i]) - s[i]) * (double(a[i]) - s[i]);
  CHECK(num / den < 1e-12);

  ModelConfig text_only = mc;
  text_only.vision_config = nullptr;
  CHECK_THROWS_WITH_AS(VisionModel::from_source(text_only, src), doctest::Contains("no vision_config"), Error);
  nlohmann::json bad = mc.vision_config;
  bad["rope_parameters"]["rope_type"] = "default";
  CHECK_THROWS_WITH_AS(parse_vision_config(bad, "config.json"),
                       "config.json: field vision_config.rope_parameters.rope_type: unsupported \"default\" (supported: axial)",
                       Error);
}

TEST_CASE("merge_media: placeholder rows take the soft tokens in order; counts must match") {
  ModelConfig mc;
  mc.path = "config.json";
  mc.text.hidden_size = 2;
  mc.raw = {{"image_token_id", 7}, {"video_token_id", 8}, {"audio_token_id", 9}};
  // <bos> <|image> img img <image|> text img <image|> aud
  const std::vector<int> ids = {2, 5, 7, 7, 6, 40, 5, 7, 6, 9};
  const std::vector<float> image = {1, 2, 3, 4, 5, 6}, audio = {-1, -2};
  const MultimodalPrompt p = merge_media(mc, ids, image, {}, audio);
  CHECK(p.token_types == std::vector<int>{0, 0, 1, 1, 0, 0, 0, 1, 0, 3});
  CHECK(p.media_rows == std::vector<uint8_t>{0, 0, 1, 1, 0, 0, 0, 1, 0, 1});
  CHECK(p.vision_blocks == std::vector<int>{-1, -1, 0, 0, -1, -1, -1, 1, -1, -1});
  CHECK(p.embeddings[2 * 2] == 1.0f);
  CHECK(p.embeddings[3 * 2 + 1] == 4.0f);
  CHECK(p.embeddings[7 * 2] == 5.0f);
  CHECK(p.embeddings[9 * 2 + 1] == -2.0f);
  CHECK(p.embeddings[5 * 2] == 0.0f);
  const ForwardOptions o = p.forward_options();
  CHECK(o.media_rows == p.media_rows.data());
  CHECK(o.vision_blocks == &p.vision_blocks);
  CHECK_THROWS_WITH_AS(merge_media(mc, ids, {1, 2, 3, 4}, {}, audio),
                       "multimodal: image features and image tokens do not match: 3 placeholder tokens in the prompt, "
                       "2 soft tokens",
                       Error);
  CHECK_THROWS_WITH_AS(merge_media(mc, ids, image), doctest::Contains("audio features and audio tokens do not match"), Error);
  // Text only: no media, plain causal options.
  const MultimodalPrompt text = merge_media(mc, {2, 40, 41}, {});
  CHECK_FALSE(text.has_media());
  CHECK(text.forward_options().media_rows == nullptr);
}

TEST_CASE("forward with media: soft-token rows replace the embedding, the rest is the text path") {
  const std::string dir = bundle_dir();
  if (!std::filesystem::exists(std::filesystem::path(dir) / "models/31b-tiny/config.json")) {
    MESSAGE("SKIP: no tiny checkpoint");
    return;
  }
  const Model m = Model::load(dir + "/models/31b-tiny");
  const int H = m.text().hidden_size;
  // <bos> text <|image> <|image|>×3 <image|> text: soft tokens are arbitrary rows here.
  const std::vector<int> ids = {2, 40, 505, 507, 507, 507, 509, 41, 42};
  std::vector<float> soft(size_t(3 * H));
  for (size_t i = 0; i < soft.size(); ++i) soft[i] = float(std::sin(0.37 * double(i)));
  const MultimodalPrompt p = merge_media(m.config, ids, soft);
  std::vector<float> inp;
  Trace keep([&](const TensorReport& r) {
    if (r.name == "inp_scaled") inp.assign(static_cast<const float*>(r.data), static_cast<const float*>(r.data) + ids.size() * size_t(H));
  });
  KVCache cache(m.text());
  Activations a;
  forward(m, ids.data(), ids.size(), cache, a, hwy(), keep, p.forward_options());
  const std::vector<float> with_blocks = a.logits;
  for (int j = 0; j < H; ++j) CHECK(inp[size_t(4 * H + j)] == soft[size_t(H + j)]);
  // Rows before the image block only see the past: identical with and without the overlay.
  ForwardOptions causal = p.forward_options();
  causal.vision_blocks = nullptr;
  KVCache cache2(m.text());
  Activations b;
  forward(m, ids.data(), ids.size(), cache2, b, hwy(), {}, causal);
  const size_t V = size_t(m.text().vocab_size);
  for (size_t i = 0; i < 3 * V; ++i) REQUIRE(with_blocks[i] == b.logits[i]);
  // The first image token sees the later ones through the sliding layers: its logits change.
  double diff = 0;
  for (size_t i = 3 * V; i < 4 * V; ++i) diff = std::max(diff, std::fabs(double(with_blocks[i]) - b.logits[i]));
  CHECK(diff > 1e-3);
}

}  // TEST_SUITE("vision")

TEST_SUITE("multimodal") {
TEST_CASE("multimodal golden cases (e2b, 31b, 26b-a4b bidirectional) at the manifest tolerance") {
  check_cases("multimodal", "");
}
}

TEST_SUITE("vision-realwidth") {
TEST_CASE("real-width vision towers (e2b on-device, 31b large) at the manifest tolerance") {
  check_cases("vision", "-realwidth-");
}
}
