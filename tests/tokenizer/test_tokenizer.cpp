// Tokenizer parity with HF `tokenizers` (goldens in reference_outputs/tokenizer/), the real
// 262k-entry Gemma 3 vocabulary (../shared/fixtures), round trips and malformed files.
#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "gemma4/tokenizer_hf_json.h"
#include "gemma4/tokenizer_load.h"
#ifdef GEMMA4_HAVE_SENTENCEPIECE
#include "gemma4/tokenizer_sentencepiece.h"
#endif
#include "test_paths.h"

using gemma4::EncodeOptions;
using gemma4::HfJsonTokenizer;
using gemma4::TokenId;
using gemma4::Tokenizer;

namespace {

std::string show_ids(const std::vector<TokenId>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  s += ']';
  return s;
}

struct Parity {
  int checked = 0, failed = 0;
};

// Compares every encoding and decoding in a golden file; returns the counts.
Parity check_against_golden(const Tokenizer& tok, const nlohmann::ordered_json& golden, bool check_decode = true) {
  Parity p;
  for (const auto& e : golden["encode"]) {
    const std::string text = e["text"];
    const auto ids = tok.encode(text);
    const auto split = tok.encode(text, EncodeOptions{.parse_special = false});
    const auto with_special = tok.encode(text, EncodeOptions{.add_special_tokens = true});
    const auto want = e["ids"].get<std::vector<TokenId>>();
    const auto want_split = e["ids_split_special"].get<std::vector<TokenId>>();
    const auto want_special = e["ids_with_special_tokens"].get<std::vector<TokenId>>();
    bool ok = ids == want && split == want_split && with_special == want_special;
    if (check_decode) {
      ok = ok && tok.decode(want) == e["decoded"].get<std::string>() &&
           tok.decode(want, true) == e["decoded_skip_special"].get<std::string>();
    }
    ++p.checked;
    if (!ok) {
      ++p.failed;
      if (p.failed <= 5) {
        MESSAGE("mismatch on text " << nlohmann::json(text).dump() << "\n  got  " << show_ids(ids) << " split "
                                    << show_ids(split) << "\n  want " << show_ids(want) << " split "
                                    << show_ids(want_split) << "\n  decoded " << nlohmann::json(tok.decode(want)).dump());
      }
    }
  }
  if (check_decode) {
    for (const auto& d : golden["decode"]) {
      const auto ids = d["ids"].get<std::vector<TokenId>>();
      ++p.checked;
      if (tok.decode(ids) != d["text"].get<std::string>() || tok.decode(ids, true) != d["text_skip_special"].get<std::string>()) {
        ++p.failed;
        MESSAGE("decode mismatch on " << show_ids(ids) << ": got " << nlohmann::json(tok.decode(ids)).dump()
                                      << " want " << d["text"].dump());
      }
    }
  }
  return p;
}

}  // namespace

TEST_SUITE("tokenizer") {

TEST_CASE("small tokenizer.json matches HF tokenizers on the golden corpus") {
  auto json_path = gemma4::test::golden("tokenizer/small/tokenizer.json");
  auto golden_path = gemma4::test::golden("tokenizer/small.json");
  if (!json_path || !golden_path) return;
  const auto tok = HfJsonTokenizer::from_file(*json_path);
  const auto golden = gemma4::test::read_json(*golden_path);
  CHECK(tok.vocab_size() == golden["vocab_size"].get<std::size_t>());
  for (const auto& [piece, id] : golden["special_ids"].items()) {
    CHECK(tok.piece_to_id(piece) == id.get<TokenId>());
    CHECK(tok.id_to_piece(id.get<TokenId>()) == piece);
  }
  CHECK(tok.is_special(1));
  CHECK(tok.is_special(106));
  CHECK_FALSE(tok.is_special(107));  // "\n" is an added token but not special
  const Parity p = check_against_golden(tok, golden);
  MESSAGE("small tokenizer.json: " << p.checked - p.failed << "/" << p.checked << " golden checks match");
  CHECK(p.checked >= 80);
  CHECK(p.failed == 0);
}

TEST_CASE("real Gemma 3 tokenizer.json (262k) matches HF tokenizers and loads fast") {
  auto json_path = gemma4::test::fixture("gemma3-tokenizer/tokenizer.json");
  auto golden_path = gemma4::test::golden("tokenizer/gemma3.json");
  if (!json_path || !golden_path) return;
  // CPU time, not wall time: the test machine is shared, and waiting for a core is not loading.
  const std::clock_t c0 = std::clock();
  const auto t0 = std::chrono::steady_clock::now();
  const auto tok = HfJsonTokenizer::from_file(*json_path);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  MESSAGE("Gemma 3 tokenizer.json: " << tok.vocab_size() << " ids, " << tok.merge_count() << " merges, loaded in "
                                     << cpu_s << " s CPU (" << wall_s << " s wall)");
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  CHECK(cpu_s < 1.0);
#endif
  const auto golden = gemma4::test::read_json(*golden_path);
  CHECK(tok.vocab_size() == golden["vocab_size"].get<std::size_t>());
  CHECK(tok.piece_to_id("<start_of_turn>") == 105);
  CHECK(tok.piece_to_id("\n") == 107);
  const Parity p = check_against_golden(tok, golden);
  MESSAGE("Gemma 3 tokenizer.json: " << p.checked - p.failed << "/" << p.checked << " golden checks match");
  CHECK(p.failed == 0);

  // Streaming decoding of every golden sequence equals decode().
  for (const auto& e : golden["encode"]) {
    const auto ids = e["ids"].get<std::vector<TokenId>>();
    gemma4::StreamingDecoder stream(tok);
    std::string text;
    for (TokenId id : ids) text += stream.push(id);
    CHECK(text + stream.finish() == tok.decode(ids));
  }
  // Decoding round-trips on text that is not in the golden corpus.
  for (const std::string& s : std::vector<std::string>{"Grüße, 世界! 🙂\n\n\tx  y", "<start_of_turn>model\nok<end_of_turn>",
                                                     std::string(1000, ' ')}) {
    CHECK(tok.decode(tok.encode(s)) == s);
  }
}

TEST_CASE("streaming decoding equals decode() of all ids, id by id") {
  std::vector<std::pair<std::string, std::string>> sets = {{"tokenizer/small/tokenizer.json", "tokenizer/small.json"}};
  for (const auto& [tok_rel, golden_rel] : sets) {
    auto json_path = gemma4::test::golden(tok_rel);
    auto golden_path = gemma4::test::golden(golden_rel);
    if (!json_path || !golden_path) return;
    const auto tok = HfJsonTokenizer::from_file(*json_path);
    const auto golden = gemma4::test::read_json(*golden_path);
    std::vector<std::vector<TokenId>> sequences;
    for (const auto& e : golden["encode"]) sequences.push_back(e["ids"].get<std::vector<TokenId>>());
    for (const auto& d : golden["decode"]) sequences.push_back(d["ids"].get<std::vector<TokenId>>());
    for (const auto& ids : sequences) {
      for (bool skip : {false, true}) {
        gemma4::StreamingDecoder stream(tok, skip);
        std::string text;
        for (TokenId id : ids) text += stream.push(id);
        text += stream.finish();
        CHECK(text == tok.decode(ids, skip));
      }
    }
    // A multi-byte character arrives whole, when its byte run ends.
    gemma4::StreamingDecoder stream(tok);
    const TokenId e6 = tok.required_id("<0xE6>"), x9d = tok.required_id("<0x9D>"), xb1 = tok.required_id("<0xB1>");
    CHECK(stream.push(e6).empty());
    CHECK(stream.push(x9d).empty());
    CHECK(stream.push(xb1).empty());
    CHECK(stream.push(tok.required_id("<turn|>")) == "\xE6\x9D\xB1<turn|>");
    CHECK(stream.finish().empty());
  }
}

TEST_CASE("encoding is stable under concatenation at added-token boundaries") {
  auto json_path = gemma4::test::golden("tokenizer/small/tokenizer.json");
  if (!json_path) return;
  const auto tok = HfJsonTokenizer::from_file(*json_path);
  // Added tokens cut the text: encode(a + <turn|> + b) == encode(a) + [106] + encode(b).
  const std::string a = "Hello there", b = "\nnext line";
  auto joined = tok.encode(a + "<turn|>" + b);
  auto parts = tok.encode(a);
  parts.push_back(106);
  const auto tail = tok.encode(b);
  parts.insert(parts.end(), tail.begin(), tail.end());
  CHECK(joined == parts);
  // With parse_special=false the special token is ordinary text, "\n" (non-special) still matches.
  auto plain = tok.encode("<turn|>\n", EncodeOptions{.parse_special = false});
  CHECK(std::find(plain.begin(), plain.end(), 106) == plain.end());
  CHECK(plain.back() == 107);
  CHECK(tok.decode(plain) == "<turn|>\n");
}

TEST_CASE("invalid UTF-8 input is encoded through byte fallback, never crashes") {
  auto json_path = gemma4::test::golden("tokenizer/small/tokenizer.json");
  if (!json_path) return;
  const auto tok = HfJsonTokenizer::from_file(*json_path);
  const std::string bad = std::string("ok\xff\xfe") + "\xe6\x9d" + "end";
  const auto ids = tok.encode(bad);
  CHECK(ids.size() >= 7);
  CHECK(tok.id_to_piece(ids[2]) == "<0xFF>");
  CHECK(tok.decode(ids) == "ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "end");
  CHECK_THROWS_AS((void)tok.id_to_piece(100000), std::out_of_range);
  CHECK(tok.decode(std::vector<TokenId>{-5, 100000}) == "");  // unknown ids are skipped, as HF does
}

TEST_CASE("malformed tokenizer.json files give errors naming the field") {
  auto expect_error = [](const std::string& json, const std::string& needle) {
    try {
      (void)HfJsonTokenizer::from_string(json, "bad.json");
      FAIL("no error for " << json);
    } catch (const gemma4::TokenizerError& e) {
      const std::string what = e.what();
      CHECK_MESSAGE(what.find("bad.json") != std::string::npos, what);
      CHECK_MESSAGE(what.find(needle) != std::string::npos, what);
    }
  };
  expect_error("{", "JSON");
  expect_error("[]", "root");
  expect_error(R"({"model": {"type": "Unigram", "vocab": []}})", "model.type");
  expect_error(R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})", "model.vocab");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}})", "model.merges[0]");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}})", "model.merges[0]");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                   "normalizer": {"type": "NFKC"}})", "normalizer.type");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                   "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s"}, "behavior": "Isolated"}})",
               "pre_tokenizer.pattern");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
                   "added_tokens": [{"id": 1, "content": "x", "lstrip": true}]})", "added_tokens[0].lstrip");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}})", "model.unk_token");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 2000000000}, "merges": []}})", "model.vocab");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}})", "model.vocab");
  // A missing file names the path.
  CHECK_THROWS_AS(HfJsonTokenizer::from_file("/nonexistent/tokenizer.json"), gemma4::TokenizerError);
}

TEST_CASE("BPE merges apply lowest rank first, leftmost on ties; unknown characters fuse into one <unk>") {
  // vocab a b c ab bc abc; merges "b c" (rank 0) before "a b" (rank 1): "abc" -> a + bc -> no (a,bc) merge.
  const char* json = R"({"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true,
      "vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "bc": 5, "abc": 6, "aa": 7},
      "merges": [["b", "c"], ["a", "b"], ["ab", "c"], ["a", "a"]]}})";
  const auto tok = HfJsonTokenizer::from_string(json);
  CHECK(tok.encode("abc") == std::vector<TokenId>{1, 5});
  CHECK(tok.encode("abab") == std::vector<TokenId>{4, 4});
  CHECK(tok.encode("aaa") == std::vector<TokenId>{7, 1});        // leftmost pair first
  CHECK(tok.encode("xyab") == std::vector<TokenId>{0, 4});       // x y fused into one <unk>
  CHECK(tok.encode("") == std::vector<TokenId>{});
}

TEST_CASE("load_tokenizer picks tokenizer.json, else tokenizer.model, else fails clearly") {
  const auto dir = std::filesystem::temp_directory_path() / "gemma4_load_tokenizer_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CHECK_THROWS_AS(gemma4::load_tokenizer(dir), gemma4::TokenizerError);
  auto model_path = gemma4::test::golden("tokenizer/small/tokenizer.model");
  auto json_path = gemma4::test::golden("tokenizer/small/tokenizer.json");
  if (model_path && json_path) {
    std::filesystem::copy_file(*model_path, dir / "tokenizer.model");
#ifdef GEMMA4_HAVE_SENTENCEPIECE
    CHECK(gemma4::load_tokenizer(dir)->encode("Hello world") == HfJsonTokenizer::from_file(*json_path).encode("Hello world"));
#else
    CHECK_THROWS_AS(gemma4::load_tokenizer(dir), gemma4::TokenizerError);
#endif
    std::filesystem::copy_file(*json_path, dir / "tokenizer.json");
    const auto tok = gemma4::load_tokenizer(dir);
    CHECK(dynamic_cast<const HfJsonTokenizer*>(tok.get()) != nullptr);
    CHECK(tok->vocab_size() == 512);
  }
  std::filesystem::remove_all(dir);
}

#ifdef GEMMA4_HAVE_SENTENCEPIECE
TEST_CASE("small tokenizer.model through libsentencepiece gives the HF ids") {
  auto model_path = gemma4::test::golden("tokenizer/small/tokenizer.model");
  auto golden_path = gemma4::test::golden("tokenizer/small.json");
  if (!model_path || !golden_path) return;
  const auto tok = gemma4::SentencePieceTokenizer::from_file(*model_path);
  const auto golden = gemma4::test::read_json(*golden_path);
  CHECK(tok.vocab_size() == 512);
  for (const auto& [piece, id] : golden["special_ids"].items()) CHECK(tok.piece_to_id(piece) == id.get<TokenId>());
  const Parity p = check_against_golden(tok, golden);
  MESSAGE("small tokenizer.model (libsentencepiece): " << p.checked - p.failed << "/" << p.checked
                                                       << " golden checks match");
  CHECK(p.failed == 0);
}

TEST_CASE("malformed .model files give an error naming the file") {
  const auto path = std::filesystem::temp_directory_path() / "gemma4_bad_tokenizer.model";
  {
    std::ofstream(path, std::ios::binary) << "not a sentencepiece model";
  }
  try {
    (void)gemma4::SentencePieceTokenizer::from_file(path);
    FAIL("no error");
  } catch (const gemma4::TokenizerError& e) {
    CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
  }
  std::filesystem::remove(path);
}
#endif

}  // TEST_SUITE
