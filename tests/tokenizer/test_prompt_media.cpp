// Media placeholder expansion against Gemma4Processor (reference_outputs/chat_template/media_expansion.json).
#include <doctest/doctest.h>

#include "gemma4/chat_template.h"
#include "gemma4/prompt_media.h"
#include "gemma4/tokenizer_hf_json.h"
#include "test_paths.h"

using gemma4::MediaItem;
using Json = nlohmann::ordered_json;

TEST_SUITE("prompt_media") {

TEST_CASE("template rendering + expansion + tokenization equal Gemma4Processor's input_ids") {
  auto path = gemma4::test::golden("chat_template/media_expansion.json");
  auto tok_path = gemma4::test::golden("tokenizer/small/tokenizer.json");
  if (!path || !tok_path) return;
  const auto tok = gemma4::HfJsonTokenizer::from_file(*tok_path);
  const Json golden = gemma4::test::read_json(*path);
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    const std::string name = c["name"];
    gemma4::ChatTemplateOptions opts;
    opts.add_generation_prompt = true;
    const std::string rendered = gemma4::render_chat_template(c["messages"], Json(), opts);
    CHECK_MESSAGE(rendered == c["rendered"].get<std::string>(), name);
    std::vector<MediaItem> items;
    for (const auto& it : c["items"]) {
      const std::string kind = it["kind"];
      if (kind == "image") items.push_back(MediaItem::image(it["soft_tokens"]));
      if (kind == "audio") items.push_back(MediaItem::audio(it["soft_tokens"]));
      if (kind == "video") {
        std::vector<double> seconds;
        for (const auto& stamp : it["timestamps"]) {
          const std::string s = stamp;
          seconds.push_back(std::stoi(s.substr(0, 2)) * 60 + std::stoi(s.substr(3, 2)) + 0.25);
        }
        items.push_back(MediaItem::video(it["soft_tokens_per_frame"], seconds));
      }
    }
    const std::string expanded = gemma4::expand_media_placeholders(rendered, items);
    CHECK_MESSAGE(expanded == c["expanded"].get<std::string>(), name);
    CHECK_MESSAGE(tok.encode(expanded) == c["ids"].get<std::vector<gemma4::TokenId>>(), name);
    ++checked;
  }
  MESSAGE("media expansion: " << checked << " processor goldens checked");
  CHECK(checked >= 5);
}

TEST_CASE("placeholder and item counts must agree") {
  CHECK(gemma4::expand_media_placeholders("a<|image|>b", {MediaItem::image(2)}) ==
        "a<|image><|image|><|image|><image|>b");
  CHECK(gemma4::expand_media_placeholders("<|video|>", {MediaItem::video(1, {0.0, 61.9})}) ==
        "00:00 <|image><|video|><image|> 01:01 <|image><|video|><image|>");
  CHECK_THROWS_AS(gemma4::expand_media_placeholders("<|image|><|image|>", {MediaItem::image(1)}), std::invalid_argument);
  CHECK_THROWS_AS(gemma4::expand_media_placeholders("<|image|>", {}), std::invalid_argument);
  CHECK_THROWS_AS(gemma4::expand_media_placeholders("x", {MediaItem::audio(3)}), std::invalid_argument);
  CHECK_THROWS_AS(gemma4::expand_media_placeholders("<|audio|>", {MediaItem::image(3)}), std::invalid_argument);
  CHECK(gemma4::audio_soft_tokens(100) == 25);
  CHECK(gemma4::audio_soft_tokens(1) == 1);
  CHECK(gemma4::audio_soft_tokens(0) == 0);
}

}  // TEST_SUITE
