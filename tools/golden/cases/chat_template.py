"""Chat-template goldens (G2 in docs/runtime-bugs.md): the official Gemma 4 chat template
(../shared/fixtures/chat_templates/gemma4-chat_template.jinja, never copied into the bundle) rendered
by transformers' `apply_chat_template` (jinja2, trim_blocks + lstrip_blocks, the special-token map
as template variables, None-valued message keys dropped, reasoning fields aliased) over a matrix of
conversations.

File written: chat_template/renderings.json
  template_sha256      sha256 of the template file the renderings come from
  conversations[]      name, description, messages, tools (or null), kwargs (add_generation_prompt,
                       and enable_thinking when given), then either
                         rendered  the exact string, and (except for the G2 matrix cells, named
                                   "matrix/...") ids = the small tokenizer's
                                   apply_chat_template(tokenize=True) ids of it
                       or
                         error     the template raised (the renderer must fail too)
"""
from __future__ import annotations

import copy
import hashlib
from pathlib import Path

from g4golden.bundle import dump_json
from g4golden import small_tokenizer

TEMPLATE = (Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "chat_templates"
            / "gemma4-chat_template.jinja")

# ---------------------------------------------------------------------------------------------
# Tools (OpenAI / HF function-schema shape)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
                "days": {"type": "integer", "description": "Forecast length in days"},
            },
            "required": ["city"],
        },
    },
}

SEARCH_FLIGHTS = {
    "type": "function",
    "function": {
        "name": "search_flights",
        "description": "Search flights between two airports.",
        "parameters": {
            "type": "object",
            "properties": {
                "origin": {"type": "string", "description": "IATA code"},
                "destination": {"type": "string", "description": "IATA code"},
                "max_price": {"type": "number", "description": "Upper bound in EUR"},
                "direct_only": {"type": "boolean", "description": "Only direct flights"},
                "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
                "passengers": {
                    "type": "array",
                    "description": "Travellers",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "age": {"type": "integer", "description": "Age in years"},
                            "loyalty": {"type": "object", "properties": {
                                "program": {"type": "string"}, "number": {"type": "string"}}},
                        },
                        "required": ["name"],
                    },
                },
                "dates": {"type": "array", "items": {"type": "string", "description": "ISO date"}},
                "window": {
                    "type": "object",
                    "description": "Departure time window",
                    "properties": {
                        "earliest": {"type": "string", "description": "HH:MM"},
                        "latest": {"type": "string", "nullable": True},
                    },
                    "required": ["earliest"],
                },
                "flexible": {"type": "integer", "nullable": True, "description": "Days of flexibility"},
            },
            "required": ["origin", "destination", "passengers"],
        },
    },
}

# Unusual schemas: no type, type lists, objects without properties, items with extra keys,
# enums of numbers, a missing description, a response declaration.
ODD_SCHEMA = {
    "type": "function",
    "function": {
        "name": "odd.tool-name",
        "parameters": {
            "type": "object",
            "properties": {
                "anything": {"description": "No type given"},
                "maybe": {"type": ["string", "null"], "description": "Type list"},
                "free_form": {"type": "object", "description": "Object without properties",
                              "additionalProperties": {"type": "string"}},
                "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                "tags": {"type": "array", "items": {"type": ["string", "integer"], "enum": ["a", 1],
                                                    "minItems": 1, "pattern": "^[a-z]+$"}},
                "level": {"type": "integer", "enum": [1, 2, 3]},
                "Zeta": {"type": "string"},
                "alpha": {"type": "string", "description": "Sorted case-insensitively before Zeta"},
            },
            "required": ["anything"],
        },
        "response": {"type": "object", "description": "The result object"},
    },
}

NO_PARAMS = {
    "type": "function",
    "function": {"name": "get_current_time", "description": "Current UTC time."},
}

PARAMS_WITHOUT_TYPE = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Parameters without a top-level type, and a response without one.",
        "parameters": {"properties": {"q": {"type": "string"}}},
        "response": {"description": "Text"},
    },
}


def _call(cid, name, arguments):
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}


def conversations() -> list[dict]:
    C = []

    def add(name, description, messages, tools=None, **kwargs):
        C.append({"name": name, "description": description, "messages": messages, "tools": tools,
                  "kwargs": kwargs})

    user_hi = {"role": "user", "content": "Hi there!"}
    add("user-only", "one user turn, no generation prompt", [user_hi], add_generation_prompt=False)
    add("user-genprompt", "generation prompt, enable_thinking not given (empty closed thought channel)",
        [user_hi], add_generation_prompt=True)
    add("user-genprompt-think-off", "enable_thinking=False", [user_hi], add_generation_prompt=True,
        enable_thinking=False)
    add("user-genprompt-think-on", "enable_thinking=True: system turn with <|think|> only", [user_hi],
        add_generation_prompt=True, enable_thinking=True)
    add("system-user", "system prompt (trimmed), thinking off",
        [{"role": "system", "content": "  You are a helpful assistant.\n"},
         {"role": "user", "content": "\n What is 2+2?  "}], add_generation_prompt=True, enable_thinking=False)
    add("developer-user-think", "developer role as first message, thinking on",
        [{"role": "developer", "content": "Answer tersely."},
         {"role": "user", "content": "Name a prime."}], add_generation_prompt=True, enable_thinking=True)
    add("system-parts", "system content as a list of text parts (each trimmed, then a space)",
        [{"role": "system", "content": [{"type": "text", "text": " Part one. "}, {"type": "text", "text": "Part two."}]},
         {"role": "user", "content": "ok"}], add_generation_prompt=True)
    add("multi-turn-thinking-history",
        "earlier assistant turns carry thought channels, stripped from history; thinking on",
        [{"role": "user", "content": "What is 17*3?"},
         {"role": "assistant", "content": "<|channel>thought\n17*3 = 51<channel|>The answer is 51."},
         {"role": "user", "content": "And 51+1?"},
         {"role": "assistant", "content": "  <|channel>thought\nadd one<channel|>52.  "},
         {"role": "user", "content": "Thanks!"}], add_generation_prompt=True, enable_thinking=True)
    add("multi-turn-no-genprompt", "multi-turn ending with an assistant turn",
        [{"role": "user", "content": "Hello"},
         {"role": "assistant", "content": "Hi! How can I help?"},
         {"role": "user", "content": "Tell me a joke."},
         {"role": "assistant", "content": "Why did the tensor cross the road?"}], add_generation_prompt=False)
    add("strip-thinking-edge-cases",
        "several thought blocks, an unclosed opener and a stray closer in one assistant message",
        [{"role": "user", "content": "go"},
         {"role": "assistant", "content": "A<|channel>x<channel|>B<|channel>y<channel|>C <|channel>unclosed"},
         {"role": "user", "content": "again"},
         {"role": "assistant", "content": "stray<channel|> closer"},
         {"role": "user", "content": "parts"},
         {"role": "assistant", "content": [{"type": "text", "text": " <|channel>t<channel|>one "},
                                           {"type": "text", "text": "two"}]}],
        add_generation_prompt=True)
    add("reasoning-content-no-tools",
        "reasoning_content on a plain assistant answer is not rendered",
        [{"role": "user", "content": "Why?"},
         {"role": "assistant", "content": "Because.", "reasoning_content": "the user asks why"},
         {"role": "user", "content": "OK"}], add_generation_prompt=True, enable_thinking=True)
    add("image-user", "image item before text",
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this image."}]}],
        add_generation_prompt=True)
    add("audio-user", "audio item after text",
        [{"role": "user", "content": [{"type": "text", "text": "Transcribe: "}, {"type": "audio"}]}],
        add_generation_prompt=True, enable_thinking=False)
    add("video-image-audio", "video, two images and audio in one turn, plus an unknown item type",
        [{"role": "system", "content": "Be precise."},
         {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": " What happens? "},
                                      {"type": "image"}, {"type": "image"},
                                      {"type": "image_url", "image_url": {"url": "x"}},
                                      {"type": "audio"}]}],
        add_generation_prompt=True)
    add("image-last-no-genprompt", "last item is an image, no generation prompt",
        [{"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image"}]}],
        add_generation_prompt=False)
    add("tools-declarations", "tool declarations only (nested schema, enums, arrays, objects, nullable)",
        [{"role": "user", "content": "Find me a flight."}], tools=[WEATHER, SEARCH_FLIGHTS],
        add_generation_prompt=True)
    add("tools-odd-schemas", "schemas without types, with type lists, objects without properties, response",
        [{"role": "user", "content": "x"}], tools=[ODD_SCHEMA, NO_PARAMS, PARAMS_WITHOUT_TYPE],
        add_generation_prompt=True)
    add("tools-system-think", "system prompt + tools + thinking on",
        [{"role": "system", "content": "You can call tools."},
         {"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER],
        add_generation_prompt=True, enable_thinking=True)
    add("tool-call-response-answer",
        "assistant tool call (mapping arguments), tool response (string), final answer",
        [{"role": "user", "content": "Weather in Paris?"},
         {"role": "assistant", "content": None,
          "tool_calls": [_call("call_1", "get_weather", {"city": "Paris", "unit": "celsius", "days": 2})]},
         {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
         {"role": "assistant", "content": "It is sunny and 21 C in Paris."}],
        tools=[WEATHER], add_generation_prompt=False)
    add("tool-call-then-genprompt",
        "after a tool response the generation prompt is omitted (the model continues in its turn)",
        [{"role": "user", "content": "Weather in Paris?"},
         {"role": "assistant", "tool_calls": [_call("call_1", "get_weather", {"city": "Paris"})]},
         {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"}],
        tools=[WEATHER], add_generation_prompt=True)
    add("tool-call-no-response",
        "a tool call with no tool message after it ends with <|tool_response>",
        [{"role": "user", "content": "Weather in Paris?"},
         {"role": "assistant", "tool_calls": [_call("c", "get_weather", {"city": "Paris"})]}],
        tools=[WEATHER], add_generation_prompt=True)
    add("parallel-tool-calls",
        "two calls, two responses resolved by tool_call_id (given in reverse order), reasoning before the calls",
        [{"role": "system", "content": "sys"},
         {"role": "user", "content": "Compare Paris and Rome."},
         {"role": "assistant", "reasoning_content": "I need both cities.",
          "tool_calls": [_call("a", "get_weather", {"city": "Paris"}), _call("b", "get_weather", {"city": "Rome"})]},
         {"role": "tool", "tool_call_id": "b", "content": "Rome: 25 C"},
         {"role": "tool", "tool_call_id": "a", "content": "Paris: 21 C"},
         {"role": "assistant", "content": "Rome is warmer."},
         {"role": "user", "content": "Thanks"}],
        tools=[WEATHER], add_generation_prompt=True, enable_thinking=True)
    add("reasoning-after-last-user",
        "reasoning (field 'reasoning') on a tool-calling turn after the last user message is rendered",
        [{"role": "user", "content": "Weather?"},
         {"role": "assistant", "reasoning": "Call the tool.",
          "tool_calls": [_call("x", "get_weather", {"city": "Oslo"})]},
         {"role": "tool", "tool_call_id": "x", "content": "cold"}],
        tools=[WEATHER], add_generation_prompt=True, enable_thinking=True)
    add("tool-args-types",
        "arguments of every JSON type: nested objects, arrays, booleans, null, ints, floats, quotes",
        [{"role": "user", "content": "go"},
         {"role": "assistant", "tool_calls": [_call("t", "search_flights", {
             "origin": "CDG", "destination": "FCO", "max_price": 199.5, "direct_only": False,
             "passengers": [{"name": "Ann \"A\" O'Neil", "age": 34, "loyalty": {"program": "X", "number": None}},
                            {"name": "Bo", "age": 7}],
             "dates": ["2026-05-01", "2026-05-03"], "flexible": None, "ratio": 1e-07, "big": 12345678901234,
             "neg": -3, "small": 0.0001, "huge": 1e16, "exp": 2.5e20, "Upper": True, "empty": {}, "none": []})]},
         {"role": "tool", "tool_call_id": "t", "content": [{"type": "text", "text": "2 flights"},
                                                           {"type": "image"}, {"type": "text", "text": " found"}]}],
        tools=[SEARCH_FLIGHTS], add_generation_prompt=True)
    add("tool-args-json-string",
        "arguments given as a JSON string are inserted verbatim",
        [{"role": "user", "content": "go"},
         {"role": "assistant", "tool_calls": [_call("s", "get_weather", "{\"city\": \"Paris\"}")]},
         {"role": "tool", "tool_call_id": "s", "name": "ignored_name", "content": "ok"},
         {"role": "assistant", "content": "Done."}],
        tools=[WEATHER], add_generation_prompt=True)
    add("tool-response-non-string",
        "tool message contents that are not strings: a number, a list of text parts; name from 'name'",
        [{"role": "user", "content": "go"},
         {"role": "assistant", "tool_calls": [_call("n1", "get_current_time", {}), _call("n2", "lookup", {"q": "a"})]},
         {"role": "tool", "tool_call_id": "zz", "name": "get_current_time", "content": 42},
         {"role": "tool", "tool_call_id": "n2", "content": [{"type": "text", "text": "part A, "},
                                                            {"type": "text", "text": "part B"}]}],
        tools=[NO_PARAMS, PARAMS_WITHOUT_TYPE], add_generation_prompt=True)
    add("legacy-tool-responses",
        "tool_responses embedded on the assistant message: mapping and non-mapping responses",
        [{"role": "user", "content": "go"},
         {"role": "assistant", "tool_calls": [_call("l", "get_weather", {"city": "Paris"})],
          "tool_responses": [{"name": "get_weather", "response": {"temp": 21, "sky": "clear", "wind": [3, 5.5],
                                                                  "Alerts": None, "ok": True}},
                             {"response": "plain text"}]},
         {"role": "assistant", "content": "Clear sky."}],
        tools=[WEATHER], add_generation_prompt=True)
    add("tool-call-with-content-and-image",
        "an assistant message with text content next to its tool call",
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where is this?"}]},
         {"role": "assistant", "content": "Let me check.",
          "tool_calls": [_call("w", "get_weather", {"city": "Lyon"})]},
         {"role": "tool", "tool_call_id": "w", "content": "rain"},
         {"role": "assistant", "content": "<|channel>thought\nrain in Lyon<channel|>It rains in Lyon."},
         {"role": "user", "content": "And tomorrow?"}],
        tools=[WEATHER], add_generation_prompt=True, enable_thinking=False)
    add("mid-conversation-system", "a system message after the first turn is rendered as its own turn",
        [{"role": "user", "content": "a"}, {"role": "system", "content": " new rules "},
         {"role": "user", "content": "b"}], add_generation_prompt=True)
    add("orphan-tool-message", "a tool message with no preceding tool call is dropped",
        [{"role": "user", "content": "a"}, {"role": "tool", "tool_call_id": "q", "content": "lost"},
         {"role": "user", "content": "b"}], add_generation_prompt=False)
    add("unicode-whitespace-trim", "trim uses Python's notion of whitespace (NBSP, ideographic space)",
        [{"role": "system", "content": "\u00a0\u3000sys\u2003"},
         {"role": "user", "content": "\u200b zero-width is not whitespace \u200b"},
         {"role": "assistant", "content": "\u2028answer\u00a0"}], add_generation_prompt=True)
    add("special-strings-in-content", "special-token strings inside user text are copied verbatim",
        [{"role": "user", "content": "Explain <|turn> and <end_of_turn> and <|\"|>."}], add_generation_prompt=True)
    add("empty-content", "empty user content and empty assistant content",
        [{"role": "user", "content": ""}, {"role": "assistant", "content": ""},
         {"role": "user", "content": []}], add_generation_prompt=True)
    add("tool-missing-name-error",
        "a tool message whose tool_call_id matches nothing and which has no name: the template fails",
        [{"role": "user", "content": "go"},
         {"role": "assistant", "tool_calls": [_call("a", "get_weather", {"city": "x"})]},
         {"role": "tool", "tool_call_id": "nope", "content": "r"}], tools=[WEATHER], add_generation_prompt=True)
    return C + matrix()


def matrix() -> list[dict]:
    """The G2 matrix: thinking {absent, off, on} x {no system, system} x {no tools, tools} x
    {single turn, multi-turn with an earlier thought, tool call -> response -> continuation,
    two parallel calls} x {text, image first, audio first, image + audio}."""
    out = []
    media_sets = {"text": [], "image": [{"type": "image"}], "audio": [{"type": "audio"}],
                  "image+audio": [{"type": "image"}, {"type": "audio"}]}
    for thinking in ("absent", "off", "on"):
        for system in (False, True):
            for tools in (False, True):
                for shape in ("single", "multi-thought", "tool-continue", "parallel"):
                    for media_name, media in media_sets.items():
                        first_user = {"role": "user", "content": media + [{"type": "text", "text": "Question one?"}]}
                        msgs = [{"role": "system", "content": "System rules."}] if system else []
                        msgs.append(first_user)
                        if shape == "multi-thought":
                            msgs += [{"role": "assistant", "content": "<|channel>thought\nhmm<channel|>Answer one."},
                                     {"role": "user", "content": "Question two?"}]
                        elif shape == "tool-continue":
                            msgs += [{"role": "assistant", "reasoning_content": "need weather",
                                      "tool_calls": [_call("m1", "get_weather", {"city": "Nice", "days": 1})]},
                                     {"role": "tool", "tool_call_id": "m1", "content": "warm"},
                                     {"role": "assistant", "content": "It is warm."},
                                     {"role": "user", "content": "Thanks."}]
                        elif shape == "parallel":
                            msgs += [{"role": "assistant",
                                      "tool_calls": [_call("p1", "get_weather", {"city": "A"}),
                                                     _call("p2", "search_flights", {"origin": "A", "destination": "B",
                                                                                    "direct_only": True})]},
                                     {"role": "tool", "tool_call_id": "p1", "content": "cold"},
                                     {"role": "tool", "tool_call_id": "p2", "content": "2 flights"}]
                        kwargs = {"add_generation_prompt": True}
                        if thinking != "absent":
                            kwargs["enable_thinking"] = thinking == "on"
                        out.append({
                            "name": f"matrix/think-{thinking}/{'system' if system else 'nosystem'}/"
                                    f"{'tools' if tools else 'notools'}/{shape}/{media_name}",
                            "description": "G2 matrix cell",
                            "messages": msgs,
                            "tools": [WEATHER, SEARCH_FLIGHTS] if tools else None,
                            "kwargs": kwargs,
                        })
    return out


# ---------------------------------------------------------------------------------------------
# Model-output parsing (G3): transformers' own response parser for gemma4
# (transformers.cli.serving.utils._RESPONSE_TEMPLATE_FALLBACKS["gemma4"], run by
# transformers.utils.chat_parsing.response_parser.parse_response) on a corpus of outputs.

PROMPT_THINK_OFF = "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>"
PROMPT_THINK_ON = "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n"
PROMPT_AFTER_TOOL = ('<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|tool_call>call:f{a:1}<tool_call|>'
                     '<|tool_response>response:f{value:<|"|>x<|"|>}<tool_response|>')
PROMPT_NO_ANCHOR = "<bos>plain prompt without a model turn "
Q = '<|"|>'


def parser_corpus() -> list[dict]:
    C = []

    def add(name, prompt, text):
        C.append({"name": name, "prompt": prompt, "output": text})

    off, on, tool = PROMPT_THINK_OFF, PROMPT_THINK_ON, PROMPT_AFTER_TOOL
    add("plain-answer", off, "Hello there.<turn|>")
    add("answer-eos", off, "answer<eos>")
    add("answer-no-terminator", off, "answer without end")
    add("answer-whitespace-stripped", off, "  spaced answer  \n<turn|>")
    add("empty-output", off, "")
    add("only-terminator", off, "<turn|>")
    add("thought-then-answer", on, "<|channel>thought\nLet me think.\nStep 2.<channel|>The answer is 4.<turn|>")
    add("empty-thought", on, "<|channel>thought\n<channel|>Direct.<turn|>")
    add("thought-truncated", on, "<|channel>thought\nunfinished reasoning")
    add("two-thoughts", on, "<|channel>thought\nfirst<channel|>mid<|channel>thought\nsecond<channel|>end<turn|>")
    add("tool-call-simple", off, f"<|tool_call>call:get_weather{{city:{Q}Paris{Q}}}<tool_call|><|tool_response>")
    add("tool-call-after-thought", on,
        f"<|channel>thought\nneed the tool<channel|><|tool_call>call:get_weather{{city:{Q}Paris{Q},days:3}}"
        "<tool_call|><|tool_response>")
    add("tool-call-all-types", off,
        f"<|tool_call>call:f{{s:{Q}text{Q},i:42,neg:-7,fl:3.25,exp:1e-07,big:12345678901234,t:true,fa:false,"
        f"n:null,arr:[1,{Q}two{Q},[3],{{k:{Q}v{Q}}}],obj:{{inner:{{deep:[]}},e:{{}}}}}}<tool_call|><|tool_response>")
    add("tool-string-specials", off,
        f"<|tool_call>call:run{{code:{Q}print(\"hi\")\nx = {{'a': [1, 2]}}\n`ls` \\s*\\w+ : , {Q},"
        f"q:{Q}it's \"quoted\"{Q},u:{Q}Grüße 東京 😊{Q}}}<tool_call|><|tool_response>")
    add("tool-string-code-block", off,
        f"<|tool_call>call:write{{path:{Q}a.py{Q},body:{Q}```python\ndef f():\n    return {{}}\n```{Q}}}"
        "<tool_call|><|tool_response>")
    add("tool-quoted-keys", off, f"<|tool_call>call:f{{{Q}key with space{Q}:1,plain:2}}<tool_call|>")
    add("two-tool-calls", off,
        f"<|tool_call>call:a{{x:1}}<tool_call|><|tool_call>call:b{{y:{Q}z{Q}}}<tool_call|><|tool_response>")
    add("text-before-call", off, f"Let me check.<|tool_call>call:a{{x:1}}<tool_call|><|tool_response>")
    add("text-around-call", off, "Some text <|tool_call>call:a{x:1}<tool_call|> more<turn|>")
    add("empty-arguments", off, "<|tool_call>call:now{}<tool_call|><|tool_response>")
    add("underscore-digit-name", off, "<|tool_call>call:get_v2_data{id:7}<tool_call|>")
    add("after-tool-response", tool, "The result is x.<turn|>")
    add("after-tool-thought", tool, "<|channel>thought\nok<channel|>Final.<turn|>")
    add("no-anchor-prompt", PROMPT_NO_ANCHOR, "text<turn|>")
    add("call-inside-thought", on,
        "<|channel>thought\nI could write <|tool_call>call:a{x:1}<tool_call|> here<channel|>No call.<turn|>")
    add("literal-end-of-turn-text", off, "Gemma 3 used <end_of_turn>; Gemma 4 uses another token.<turn|>")
    add("text-after-terminator", off, "answer<turn|>garbage after")
    add("spaces-in-arguments", off, f"<|tool_call>call:f{{ a : 1 }}<tool_call|>")
    # malformed / truncated: the reference raises
    add("malformed-single-quotes", off, "<|tool_call>call:a{x:'single'}<tool_call|>")
    add("malformed-missing-delimiter", off, f"<|tool_call>call:a{{x:{Q}open}}<tool_call|>")
    add("malformed-raw-string", off, "<|tool_call>call:a{x:raw text}<tool_call|>")
    add("malformed-python-none", off, "<|tool_call>call:a{x:None}<tool_call|>")
    add("malformed-parenthesis-form", off, 'call:a(x: "v")<|tool_call>call:a(x: "v")<tool_call|>')
    add("malformed-begin-arg", off, "<|tool_call>call:a:BEGIN_ARG:x\n1\nEND_ARG<tool_call|>")
    add("malformed-hyphen-name", off, "<|tool_call>call:my-tool{x:1}<tool_call|>")
    add("malformed-dotted-name", off, "<|tool_call>call:ns.tool{x:1}<tool_call|>")
    add("malformed-space-after-comma", off, "<|tool_call>call:a{x:1, y:2}<tool_call|>")
    add("malformed-trailing-garbage", off, "<|tool_call>call:a{x:1}junk<tool_call|>")
    add("truncated-call", off, "<|tool_call>call:a{x:1")
    add("truncated-in-string", off, f"<|tool_call>call:a{{x:{Q}partial")
    add("truncated-after-call-open", off, "<|tool_call>call:a")
    add("no-name", off, "<|tool_call>call:{x:1}<tool_call|>")
    return C


def media_expansion(tok, template) -> list[dict]:
    """Gemma4Processor expanding the template's <|image|>, <|audio|>, <|video|> placeholders into
    the soft-token layout, for media of several sizes (default processor settings)."""
    import re

    import numpy as np
    from transformers.models.gemma4.feature_extraction_gemma4 import Gemma4AudioFeatureExtractor
    from transformers.models.gemma4.image_processing_gemma4 import Gemma4ImageProcessor
    from transformers.models.gemma4.processing_gemma4 import Gemma4Processor
    from transformers.models.gemma4.video_processing_gemma4 import Gemma4VideoProcessor

    proc = Gemma4Processor(image_processor=Gemma4ImageProcessor(), feature_extractor=Gemma4AudioFeatureExtractor(),
                           video_processor=Gemma4VideoProcessor(), tokenizer=tok)
    rng = np.random.default_rng(2026)
    image = lambda h, w: (rng.random((h, w, 3)) * 255).astype(np.uint8)  # noqa: E731
    audio = lambda seconds: (rng.standard_normal(int(16000 * seconds)) * 0.1).astype(np.float32)  # noqa: E731
    video = lambda frames, h, w: (rng.random((frames, h, w, 3)) * 255).astype(np.uint8)  # noqa: E731
    setups = [
        ("one-image", [{"type": "image"}, {"type": "text", "text": "Describe."}], [image(100, 150)], None, None),
        ("two-images-wide-tall", [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Compare."}],
         [image(64, 512), image(700, 90)], None, None),
        ("audio-short", [{"type": "text", "text": "Transcribe:"}, {"type": "audio"}], None, [audio(1.0)], None),
        ("audio-long", [{"type": "audio"}], None, [audio(7.3)], None),
        ("video", [{"type": "video"}, {"type": "text", "text": "What happens?"}], None, None, [video(40, 64, 96)]),
        ("image-audio-video", [{"type": "image"}, {"type": "audio"}, {"type": "video"}],
         [image(224, 224)], [audio(2.5)], [video(48, 72, 128)]),
    ]
    pattern = re.compile(r"(?:(\d\d:\d\d) )?(<\|image>|<\|audio>)((?:<\|image\|>|<\|audio\|>|<\|video\|>)*)(<image\|>|<audio\|>)")
    out = []
    for name, content, images, audios, videos in setups:
        messages = [{"role": "user", "content": content}]
        rendered = tok.apply_chat_template(messages, chat_template=template, tokenize=False, add_generation_prompt=True)
        kwargs = {"text": rendered, "return_tensors": None}
        if images:
            kwargs["images"] = [images]
        if audios:
            kwargs["audio"] = audios
        if videos:
            kwargs["videos"] = videos
        ids = proc(**kwargs)["input_ids"]
        ids = [int(i) for i in (ids[0] if isinstance(ids[0], list) else ids)]
        expanded = tok.decode(ids, skip_special_tokens=False)
        # The items in prompt order, read back from the processor's own expansion.
        items, video_frames = [], None
        for m in pattern.finditer(expanded):
            stamp, soft = m.group(1), m.group(3)
            count = soft.count("<|image|>") + soft.count("<|audio|>") + soft.count("<|video|>")
            if "<|video|>" in soft:
                if video_frames is None:
                    video_frames = {"kind": "video", "soft_tokens_per_frame": count, "timestamps": []}
                    items.append(video_frames)
                video_frames["timestamps"].append(stamp)
            else:
                video_frames = None
                items.append({"kind": "image" if "<|image|>" in soft else "audio", "soft_tokens": count})
        out.append({"name": name, "messages": messages, "rendered": rendered, "items": items,
                    "expanded": expanded, "ids": ids})
    return out


def _parse_with_reference(template, prompt, output):
    from transformers.utils.chat_parsing.response_parser import parse_response
    try:
        return {"message": parse_response(output, template, prefix=prompt)}
    except (ValueError, KeyError) as e:
        return {"error": f"{type(e).__name__}: {str(e).splitlines()[0]}"}


def generate(bundle, ctx) -> None:
    import jinja2
    import transformers
    from transformers import AutoTokenizer

    if not TEMPLATE.exists():
        ctx.log(f"chat_template: SKIPPING, fixture absent: {TEMPLATE.resolve()}")
        return
    template_bytes = TEMPLATE.read_bytes()
    template = template_bytes.decode("utf-8")

    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in small_tokenizer.tokenizer_file_bytes().items():
            (Path(tmp) / name).write_bytes(data)
        tok = AutoTokenizer.from_pretrained(tmp)

    out = []
    for conv in conversations():
        entry = copy.deepcopy(conv)
        kwargs = dict(conv["kwargs"])
        try:
            rendered = tok.apply_chat_template(copy.deepcopy(conv["messages"]), tools=copy.deepcopy(conv["tools"]),
                                               chat_template=template, tokenize=False, **kwargs)
            ids = tok.apply_chat_template(copy.deepcopy(conv["messages"]), tools=copy.deepcopy(conv["tools"]),
                                          chat_template=template, tokenize=True, return_dict=False, **kwargs)
            if hasattr(ids, "keys"):
                ids = ids["input_ids"]
            ids = [int(i) for i in ids]
            if ids != tok.encode(rendered, add_special_tokens=False):
                raise RuntimeError(f"{conv['name']}: apply_chat_template ids differ from encode(rendered)")
            if ids.count(2) != 1 or ids[0] != 2:
                raise RuntimeError(f"{conv['name']}: rendered prompt must hold exactly one <bos>, first")
            entry["rendered"] = rendered
            if not conv["name"].startswith("matrix/"):  # the matrix keeps the bundle small: text only
                entry["ids"] = ids
        except (jinja2.exceptions.TemplateError, TypeError) as e:
            entry["error"] = f"{type(e).__name__}: {e}"
        out.append(entry)
    doc = {
        "template": "../shared/fixtures/chat_templates/gemma4-chat_template.jinja",
        "template_sha256": hashlib.sha256(template_bytes).hexdigest(),
        "renderer": f"transformers {transformers.__version__} apply_chat_template, jinja2 {jinja2.__version__}",
        "conversations": out,
    }
    bundle.add_file("chat_template/renderings.json", dump_json(doc),
                    description=f"{len(out)} conversations rendered by the official Gemma 4 chat template")

    media = media_expansion(tok, template)
    bundle.add_file("chat_template/media_expansion.json",
                    dump_json({"processor": f"transformers {transformers.__version__} Gemma4Processor (default image, "
                                            "audio and video processors, small tokenizer)", "cases": media}),
                    description=f"{len(media)} prompts with <|image|>/<|audio|>/<|video|> expanded by Gemma4Processor")

    from transformers.cli.serving.utils import _RESPONSE_TEMPLATE_FALLBACKS
    template = next(v for k, v in _RESPONSE_TEMPLATE_FALLBACKS.items() if "gemma4" in k)
    cases = []
    for case in parser_corpus():
        entry = dict(case)
        entry.update(_parse_with_reference(template, case["prompt"], case["output"]))
        cases.append(entry)
    bundle.add_file("chat_template/response_parsing.json",
                    dump_json({"parser": f"transformers {transformers.__version__} parse_response with the gemma4 "
                                         "response template (transformers/cli/serving/utils.py)",
                               "response_template": template, "cases": cases}),
                    description=f"{len(cases)} model outputs parsed by transformers' gemma4 response parser")
    ctx.log(f"chat_template: {len(out)} conversations, "
            f"{sum('error' in e for e in out)} expected template errors")
