"""Tokenizer goldens (G1 in docs/runtime-bugs.md): ids from HF `tokenizers` over a varied corpus
for (a) the small 512-entry tokenizer shipped in the bundle and (b) the real Gemma 3 tokenizer.json
from ../shared/fixtures (ids only; the fixture itself is never copied).

Files written:
  tokenizer/small/tokenizer.model, tokenizer.json, tokenizer_config.json   the small tokenizer
  tokenizer/small.json    encodings and decodings with the small tokenizer
  tokenizer/gemma3.json   the same with the Gemma 3 tokenizer (skipped if the fixture is absent)

Each encoding entry:
  text                   the input string
  ids                    encode(text, add_special_tokens=False): added tokens, special or not,
                         are matched in the text (HF default; "parse_special=true")
  ids_split_special      the same with special added tokens NOT matched (tokenizers'
                         encode_special_tokens=True, transformers' split_special_tokens=True;
                         "parse_special=false"); non-special added tokens ("\\n", <mask>, ...) still match
  ids_with_special_tokens  encode(text, add_special_tokens=True) (the post-processor's BOS, if any)
  decoded                decode(ids, skip_special_tokens=False)
  decoded_skip_special   decode(ids, skip_special_tokens=True)
  roundtrip              decoded == text
Decoding entries (`decode`): arbitrary id sequences (lone and broken byte-fallback bytes, special
tokens between text) with their decodings.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from g4golden.bundle import dump_json
from g4golden import small_tokenizer

FIXTURE = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "gemma3-tokenizer" / "tokenizer.json"


def corpus() -> list[str]:
    texts = [
        "",
        " ",
        "a",
        "Hello world! Café déjà vu — 123 😊",
        "Hello world!  Café",
        "The quick brown fox jumps over the lazy dog.",
        "the model answered the question about the weather in Paris",
        " leading space",
        "trailing space ",
        "  two leading, two trailing  ",
        "tab\tseparated\tvalues\t\t\tend",
        "\t\tindented with tabs",
        "line one\nline two\r\nline three\rline four",
        "mixed \t \n \t\n  whitespace",
        "<html><body><p class=\"x\">Text &amp; more</p><br/></body></html>",
        "def f(x):\n    return x * 2\n\n\nclass A:\n\tpass\n",
        "for (int i = 0; i < n; ++i) { sum += a[i]; }  // comment",
        '{"key": "value", "n": -3.5e-7, "list": [1, 2, 3], "ok": true, "none": null}',
        "https://example.com/path?query=1&other=two#frag",
        "3.14159265358979323846 1,000,000 -42 +7 0x1F 1e10 12345678901234567890",
        # CJK, Korean, Japanese and other scripts (mostly byte fallback in the small vocab)
        "東京は日本の首都です。北京是中国的首都。",
        "한국어 텍스트입니다. 안녕하세요!",
        "ひらがな カタカナ 漢字 まじり",
        "Привет, мир! Как дела?",
        "Γειά σου Κόσμε",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",
        "สวัสดีชาวโลก",
        "Tiếng Việt có dấu: Đây là một câu.",
        # emoji, ZWJ sequences, flags, skin tones, variation selectors
        "😀😃😄 👍🏽 ❤️ ✌️",
        "👩‍👩‍👧‍👦 family, 👨‍💻 coder, 🏳️‍🌈 flag",
        "🇫🇷🇩🇪🇯🇵 flags",
        # byte fallback: rare and control characters, combining marks, zero-width characters
        "𠀀𠀁 (CJK extension B) 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙",
        "control \x00\x01\x07\x1b[0m\x7f chars",
        "e\u0301 vs \u00e9, n\u0303, a\u0308",
        "zero\u200bwidth\u200cjoiner\u200dand\ufeffbom",
        "replacement \ufffd char and \u00a0nbsp",
        "math ∑∫√π≈≠≤≥∞ ∀x∈ℝ",
        # special-token strings inside text
        "<|channel><channel|>",
        '<|"|>',
        "<end_of_turn>",
        "<start_of_turn>user\nhello<end_of_turn>",
        "<turn|>",
        "<image|>",
        "<bos>",
        "<bos><bos>text<eos>",
        "<pad><unk><mask>",
        "text<|turn>user\nHi<turn|>\n<|turn>model\nHello<turn|>more text",
        '<|tool_call>call:get_weather{city:<|"|>Paris<|"|>,days:3}<tool_call|>',
        "<|tool_response>response:f{value:1}<tool_response|>",
        "<|channel>thought\nthinking...<channel|>The answer is 4.",
        "<|think|>",
        "<|image><|image|><|image|><image|> and <|audio><|audio|><audio|> and <|video|>",
        "<unused0> <unused42> <unused94>",
        "partial <|turn <turn| <|\"| <<|turn>> <|<|turn>|>",
        "<|TURN> <Turn|> < |turn>",
        # newline runs (1..8), around an image placeholder
        "\n",
        "\n\n",
        "\n\n\n",
        "\n\n\n\n",
        "\n\n\n\n\n",
        "\n\n\n\n\n\n",
        "\n\n\n\n\n\n\n",
        "\n\n\n\n\n\n\n\n",
        "a\nb\n\nc\n\n\nd",
        "\n\n<|image|>\n\n",
        "Describe this image.\n\n<|image>\n\n",
        # whitespace runs
        " " * 16 + "x",
        " " * 31 + "x",
        " " * 50 + "x",
        "x" + " " * 50,
        " \u3000 ideographic space",
        # very long words
        "a" * 300,
        "Pneumonoultramicroscopicsilicovolcanoconiosis" * 5,
        "9" * 200,
        "abcdefghijklmnopqrstuvwxyz" * 12,
        "".join(chr(0x4E00 + (i * 37) % 2000) for i in range(150)),
        "🙂" * 60,
        # a paragraph
        ("Researchers compare the outputs of one runtime with the reference outputs of another. "
         "When the answer is ready, the model ends its turn; when it needs a tool, it calls the tool. "
         "Numbers like 2026, 3.5 and -17 appear, as do names like get_current_time and search_flights.\n") * 4,
    ]
    return texts


def _decode_cases(tok, byte_id) -> list[list[int]]:
    """Id sequences for decoder parity: lone/broken UTF-8 bytes, specials between text."""
    t = lambda s: tok.encode(s, add_special_tokens=False).ids  # noqa: E731
    b = byte_id
    return [
        [],
        [b(0xE6), b(0x9D), b(0xB1)],              # "東" as three byte tokens
        [b(0xE6), b(0x9D)],                       # truncated UTF-8 sequence
        [b(0xFF)],                                # never valid UTF-8
        [b(0x41), b(0xC3)] + t(" ok") + [b(0xA9)],  # valid byte, broken sequence split by text
        [b(0xF0), b(0x9F), b(0x98), b(0x8A), b(0xF0)],
        t("Hello") + [tok.token_to_id("<bos>"), tok.token_to_id("<eos>")] + t(" world"),
        [tok.token_to_id("<pad>")] * 3 + t("x"),
        t("a b  c") + [b(0x20)] + t("d"),
        t("<unk>") + [tok.token_to_id("<unk>")],
    ]


def _tokenizer_record(tok, name: str, texts: list[str], byte_id) -> dict:
    entries = []
    for text in texts:
        tok.encode_special_tokens = False
        ids = tok.encode(text, add_special_tokens=False).ids
        with_special = tok.encode(text, add_special_tokens=True).ids
        tok.encode_special_tokens = True
        split_special = tok.encode(text, add_special_tokens=False).ids
        tok.encode_special_tokens = False
        decoded = tok.decode(ids, skip_special_tokens=False)
        entries.append({
            "text": text,
            "ids": ids,
            "ids_split_special": split_special,
            "ids_with_special_tokens": with_special,
            "decoded": decoded,
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
            "roundtrip": decoded == text,
        })
    decodes = []
    for ids in _decode_cases(tok, byte_id):
        decodes.append({
            "ids": ids,
            "text": tok.decode(ids, skip_special_tokens=False),
            "text_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    return {"tokenizer": name, "vocab_size": tok.get_vocab_size(with_added_tokens=True),
            "encode": entries, "decode": decodes}


def generate(bundle, ctx) -> None:
    import tokenizers
    from tokenizers import Tokenizer

    texts = corpus()
    # (a) the small tokenizer, shipped once in the bundle
    files = small_tokenizer.tokenizer_file_bytes()
    for name, data in files.items():
        bundle.add_file(f"tokenizer/small/{name}", data,
                        description=f"small 512-entry Gemma-4-style tokenizer: {name}")
    small = Tokenizer.from_str(files["tokenizer.json"].decode("utf-8"))
    byte_small = lambda v: small.token_to_id(f"<0x{v:02X}>")  # noqa: E731
    record = _tokenizer_record(small, "small", texts, byte_small)
    record["special_ids"] = dict(sorted(small_tokenizer.SPECIAL_IDS.items(), key=lambda kv: kv[1]))
    record["real_gemma4_ids"] = dict(sorted(small_tokenizer.REAL_GEMMA4_IDS.items(), key=lambda kv: kv[1]))
    record["tokenizers_version"] = tokenizers.__version__
    bundle.add_file("tokenizer/small.json", dump_json(record),
                    description=f"small tokenizer: ids, split-special ids and decodings of {len(texts)} strings")
    ctx.log(f"tokenizer: small, {len(texts)} strings")

    # (b) the real Gemma 3 vocabulary (262,144 entries), from the shared fixture
    fixture = FIXTURE.resolve()
    if not fixture.exists():
        ctx.log(f"tokenizer: SKIPPING gemma3 goldens, fixture absent: {fixture}")
        return
    data = fixture.read_bytes()
    g3 = Tokenizer.from_str(data.decode("utf-8"))
    byte_g3 = lambda v: g3.token_to_id(f"<0x{v:02X}>")  # noqa: E731
    record = _tokenizer_record(g3, "gemma3", texts, byte_g3)
    record["fixture"] = "../shared/fixtures/gemma3-tokenizer/tokenizer.json"
    record["fixture_sha256"] = hashlib.sha256(data).hexdigest()
    record["tokenizers_version"] = tokenizers.__version__
    bundle.add_file("tokenizer/gemma3.json", dump_json(record),
                    description="real Gemma 3 tokenizer.json (fixture, not copied): ids and decodings "
                                f"of {len(texts)} strings")
    ctx.log(f"tokenizer: gemma3, {len(texts)} strings")
