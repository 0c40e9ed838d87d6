"""A small SentencePiece BPE tokenizer (vocabulary of exactly 512) carrying the Gemma 4 special
tokens at Gemma 4's real ids, for the tiny golden checkpoints and the tokenizer goldens.

Layout of the 512 ids:
  * every Gemma 4 special token whose real id is below 512 sits at that id
    (<pad> 0, <eos> 1, <bos> 2, <unk> 3, <mask> 4, <|tool> 46 ... <turn|> 106, "\\n" 107, "\\n\\n" 108);
  * the multimodal tokens, whose real ids are above 255999, sit at the top: <|image> 505,
    <|audio> 506, <|image|> 507, <|audio|> 508, <image|> 509, <audio|> 510, <|video|> 511;
  * the 256 byte-fallback pieces <0x00>..<0xFF> and the learned BPE pieces fill the other ids in
    the order SentencePiece produced them.

Build (deterministic, offline): SentencePiece 0.2.x trains a BPE model with byte fallback on the
text in TRAINING_TEXT (identity normalisation, no dummy prefix, whitespace kept, Gemma's trainer
flags); the pieces are then moved to the ids above (scores travel with their pieces, so the BPE
merge order is unchanged). The HF `tokenizer.json` comes from transformers' own GemmaConverter
applied to that `.model`, as the Gemma converters do; `tokenizer_config.json` and
`chat_template.jinja` come from `GemmaTokenizer.save_pretrained`.

In the .model, the Gemma 4 control tokens are CONTROL pieces (SentencePiece never produces them
from text; the HF tokenizer marks them special and matches them in text as added tokens);
<mask>, "\\n" and "\\n\\n" are USER_DEFINED pieces (non-special added tokens in HF, as in Gemma 3).
"""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from types import SimpleNamespace

VOCAB_SIZE = 512

# Gemma 4 token -> id in the small vocabulary. Ids below 512 are Gemma 4's real ids.
SPECIAL_IDS: dict[str, int] = {
    "<pad>": 0,
    "<eos>": 1,
    "<bos>": 2,
    "<unk>": 3,
    "<mask>": 4,
    "<|tool>": 46,
    "<tool|>": 47,
    "<|tool_call>": 48,
    "<tool_call|>": 49,
    "<|tool_response>": 50,
    "<tool_response|>": 51,
    '<|"|>': 52,
    "<|think|>": 98,
    "<|channel>": 100,
    "<channel|>": 101,
    "<|turn>": 105,
    "<turn|>": 106,
    "\n": 107,
    "\n\n": 108,
    # Multimodal tokens (real ids 255999, 256000, 258880..258884) moved to the top of the vocab.
    "<|image>": 505,
    "<|audio>": 506,
    "<|image|>": 507,
    "<|audio|>": 508,
    "<image|>": 509,
    "<audio|>": 510,
    "<|video|>": 511,
}

# The real Gemma 4 ids of the same tokens (docs/gemma4-architecture.md §7.1), for the manifest.
REAL_GEMMA4_IDS: dict[str, int] = {
    **{k: v for k, v in SPECIAL_IDS.items() if v < 505},
    "<|image>": 255999,
    "<|audio>": 256000,
    "<|image|>": 258880,
    "<|audio|>": 258881,
    "<image|>": 258882,
    "<audio|>": 258883,
    "<|video|>": 258884,
}

# Plain-text pieces (SentencePiece USER_DEFINED; HF non-special added tokens). Everything else in
# SPECIAL_IDS except <unk> is a CONTROL piece (HF special added token).
USER_DEFINED = ("<mask>", "\n", "\n\n")

# tokenizer_config.json fields, named as the Gemma 4 converter names them.
EXTRA_SPECIAL_TOKENS = {
    "image_token": "<|image|>",
    "boi_token": "<|image>",
    "eoi_token": "<image|>",
    "audio_token": "<|audio|>",
    "boa_token": "<|audio>",
    "eoa_token": "<audio|>",
    "sot_token": "<|turn>",
    "eot_token": "<turn|>",
    "soc_token": "<|channel>",
    "eoc_token": "<channel|>",
    "think_token": "<|think|>",
    "escape_token": '<|"|>',
    "str_token": "<|tool_response>",
    "etr_token": "<tool_response|>",
    "stc_token": "<|tool_call>",
    "etc_token": "<tool_call|>",
    "std_token": "<|tool>",
    "etd_token": "<tool|>",
}

# Training text: mostly English (so merges form real words), some accented Latin, code and tabs.
# Other scripts (CJK, Cyrillic, emoji...) are deliberately absent: they exercise byte fallback.
TRAINING_TEXT = """\
The quick brown fox jumps over the lazy dog. The dog sleeps in the sun, and the fox runs away.
Gemma is a family of open models. A model reads tokens and writes tokens, one at a time.
What is the weather like in Paris today? It is sunny, with a high of 21 degrees.
Please call the function get_weather with the city name and the unit of temperature.
The user asked a question, and the model answered it after thinking about the problem.
In the beginning there was the word, and the word was a token in the vocabulary of the model.
This is a test of the tokenizer: numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 2026 3.14 -42 1e-5.
Function names like get_current_time, search_flights and send_email are common in tools.
Attention, normalisation, embedding, projection, activation, rotation, position, sequence.
def main():\tprint("hello world")\treturn 0
for (int i = 0; i < n; ++i) {\tsum += values[i];\t}
if x == 1 and y != 2 or not z:\tpass
Hello world! How are you? I am fine, thank you. Where are you going? I am going home.
She said that they would meet at the station at seven o'clock in the evening.
Café, déjà vu, naïve, façade, résumé, piñata, über, Straße, coöperate, élève, garçon.
Le café est très bon. Où est la gare? Je ne sais pas. Voilà! C'est déjà fait.
Der schnelle braune Fuchs springt über den faulen Hund. Grüße aus München.
El niño está en la escuela. ¿Dónde está la biblioteca? ¡Muy bien!
Tokens: <html><body><p>text</p></body></html> {"key": "value", "list": [1, 2, 3]} a_b-c.d/e
The results were reported in tables, figures and appendices of the paper.
Researchers compare the outputs of one runtime with the reference outputs of another.
When the answer is ready, the model ends its turn; when it needs a tool, it calls the tool.
"""


def _training_lines() -> list[str]:
    # Repeat with small variations so BPE statistics favour common English words.
    lines = [l for l in TRAINING_TEXT.splitlines() if l.strip()]
    out = []
    for k in range(8):
        for i, line in enumerate(lines):
            out.append(line if (i + k) % 3 else line.lower())
    return out


def _train_spm() -> bytes:
    import sentencepiece as spm

    controls = [t for t in SPECIAL_IDS if t not in ("<pad>", "<eos>", "<bos>", "<unk>") and t not in USER_DEFINED]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_training_lines()),  # no input path is recorded in the model
        model_writer=model,
        model_type="bpe",
        vocab_size=VOCAB_SIZE,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3,
        pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
        control_symbols=controls,
        user_defined_symbols=list(USER_DEFINED),
        byte_fallback=True,
        normalization_rule_name="identity",
        add_dummy_prefix=False,
        remove_extra_whitespaces=False,
        split_by_unicode_script=True,
        split_by_number=True,
        split_by_whitespace=True,
        treat_whitespace_as_suffix=False,
        allow_whitespace_only_pieces=True,
        split_digits=True,
        character_coverage=1.0,
        max_sentencepiece_length=16,
        num_threads=1,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    return model.getvalue()


# --- Minimal protobuf wire format, enough to reorder ModelProto.pieces (field 1) without the
# --- protobuf package. A piece is {1: piece string, 2: score float, 3: type enum (NORMAL=1)}.

def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _fields(buf: bytes):
    """Yield (field_number, wire_type, value, raw_record_bytes) for each top-level record."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value, buf[start:pos]


def _piece_text(record_value: bytes) -> str:
    for field, _, value, _ in _fields(record_value):
        if field == 1:
            return value.decode("utf-8")
    raise ValueError("SentencePiece piece without text")


def _place_pieces(model_bytes: bytes) -> bytes:
    """Move every special piece to its id; the others keep their relative order (and scores)."""
    pieces = []      # (text, raw record)
    head, tail = [], []
    for field, _, value, raw in _fields(model_bytes):
        if field == 1:
            pieces.append((_piece_text(value), raw))
        elif pieces:
            tail.append(raw)
        else:
            head.append(raw)
    if len(pieces) != VOCAB_SIZE:
        raise RuntimeError(f"SentencePiece produced {len(pieces)} pieces, expected {VOCAB_SIZE}")
    by_text = dict(pieces)
    missing = [t for t in SPECIAL_IDS if t not in by_text]
    if missing:
        raise RuntimeError(f"special pieces missing after training: {missing}")
    slots: list = [None] * VOCAB_SIZE
    for text, idx in SPECIAL_IDS.items():
        slots[idx] = by_text[text]
    rest = iter(raw for text, raw in pieces if text not in SPECIAL_IDS)
    for i in range(VOCAB_SIZE):
        if slots[i] is None:
            slots[i] = next(rest)
    return b"".join(head) + b"".join(slots) + b"".join(tail)


class _SmallGemmaConverter:
    """transformers' GemmaConverter without the protobuf package: the few ModelProto fields the
    converter reads are supplied from the SentencePiece processor itself."""

    @staticmethod
    def convert(model_path: Path):
        import importlib

        import sentencepiece as spm

        # The module, not the function of the same name that `transformers` may export.
        cst = importlib.import_module("transformers.convert_slow_tokenizer")

        sp = spm.SentencePieceProcessor(model_file=str(model_path))

        def piece_type(i: int) -> int:  # ModelProto.SentencePiece.Type
            if sp.is_unknown(i):
                return 2
            if sp.is_control(i):
                return 3
            if sp.is_byte(i):
                return 6
            if sp.id_to_piece(i) in USER_DEFINED:
                return 4
            return 1

        proto = SimpleNamespace(
            pieces=[SimpleNamespace(piece=sp.id_to_piece(i), score=sp.get_score(i), type=piece_type(i))
                    for i in range(sp.get_piece_size())],
            trainer_spec=SimpleNamespace(model_type=2, unk_piece="<unk>", unk_id=3, byte_fallback=True),
            normalizer_spec=SimpleNamespace(precompiled_charsmap=b""),
        )

        class Extractor(cst.GemmaSentencePieceExtractor):
            def __init__(self, _model):
                self.sp = sp

        class Converter(cst.GemmaConverter):
            SpmExtractor = Extractor

            def __init__(self, original):
                self.original_tokenizer = original
                self.proto = proto

        original = SimpleNamespace(vocab_file=str(model_path), pad_token="<pad>", eos_token="<eos>",
                                   bos_token="<bos>", unk_token="<unk>", add_prefix_space=False)
        return Converter(original).converted()


def _hf_tokenizer(model_path: Path):
    """transformers' GemmaConverter on the .model, wrapped in GemmaTokenizer."""
    from transformers.models.gemma.tokenization_gemma import GemmaTokenizer

    backend = _SmallGemmaConverter.convert(model_path)
    return GemmaTokenizer(
        tokenizer_object=backend,
        bos_token="<bos>", eos_token="<eos>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
        add_bos_token=False, add_eos_token=False,
        extra_special_tokens=dict(EXTRA_SPECIAL_TOKENS),
        padding_side="left",
        clean_up_tokenization_spaces=False,
        spaces_between_special_tokens=False,
        model_max_length=131072,
    )


def build_small_tokenizer(out_dir, chat_template: str | None = None) -> list[Path]:
    """Write tokenizer.model, tokenizer.json, tokenizer_config.json (and chat_template.jinja when a
    template is given) into out_dir. Deterministic. Returns the written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_bytes = _place_pieces(_train_spm())
        model_path = tmp / "tokenizer.model"
        model_path.write_bytes(model_bytes)
        tok = _hf_tokenizer(model_path)
        if chat_template is not None:
            tok.chat_template = chat_template
        save = tmp / "hf"
        tok.save_pretrained(str(save))
        written = []
        (out / "tokenizer.model").write_bytes(model_bytes)
        written.append(out / "tokenizer.model")
        for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
            src = save / name
            if src.exists():
                data = src.read_bytes()
                if name == "tokenizer_config.json":
                    data = _stable_config(data)
                (out / name).write_bytes(data)
                written.append(out / name)
    _self_check(out)
    return written


def _stable_config(data: bytes) -> bytes:
    cfg = json.loads(data)
    return (json.dumps(cfg, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _self_check(out: Path) -> None:
    """The written files agree with each other and with the id layout above."""
    import sentencepiece as spm
    from tokenizers import Tokenizer

    sp = spm.SentencePieceProcessor(model_file=str(out / "tokenizer.model"))
    hf = Tokenizer.from_file(str(out / "tokenizer.json"))
    if sp.get_piece_size() != VOCAB_SIZE or hf.get_vocab_size(with_added_tokens=True) != VOCAB_SIZE:
        raise RuntimeError("small tokenizer: vocabulary size is not 512")
    for text, idx in SPECIAL_IDS.items():
        if sp.piece_to_id(text) != idx or hf.token_to_id(text) != idx:
            raise RuntimeError(f"small tokenizer: {text!r} not at id {idx}")
    for b in range(256):
        if sp.piece_to_id(f"<0x{b:02X}>") == sp.unk_id():
            raise RuntimeError(f"small tokenizer: byte piece <0x{b:02X}> missing")
    sample = "The quick brown fox. Café 東京 😊\tdef f():\n\n  return 42"
    if hf.encode(sample, add_special_tokens=False).ids != sp.encode(sample):
        raise RuntimeError("small tokenizer: HF and SentencePiece disagree on the self-check sample")


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "small_tokenizer_out")
    for p in build_small_tokenizer(target):
        print(p)


_FILES_CACHE: dict[str, bytes] | None = None


def tokenizer_file_bytes() -> dict[str, bytes]:
    """{file name: contents} of the small tokenizer files, built once per process."""
    global _FILES_CACHE
    if _FILES_CACHE is None:
        with tempfile.TemporaryDirectory() as tmp:
            paths = build_small_tokenizer(tmp)
            _FILES_CACHE = {p.name: p.read_bytes() for p in paths}
    return dict(sorted(_FILES_CACHE.items()))


def write_tokenizer_files(dest_dir) -> list[str]:
    """Copy the small tokenizer (tokenizer.model, tokenizer.json, tokenizer_config.json) into a
    checkpoint folder; returns the file names written. The official chat template is a test
    fixture and is not copied into checkpoints."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    files = tokenizer_file_bytes()
    for name, data in files.items():
        (dest / name).write_bytes(data)
    return list(files)
