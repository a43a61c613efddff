#!/usr/bin/env python3
"""Writes src/test/fixtures/tokenizers/<name>.json: what HF `tokenizers` computes, with the published
tokenizer.json of each model (fetched by fetch-tokenizers.sh), on the texts below: ids without and
with special tokens, decodes (with and without skipping special tokens), decodes of id slices
that cut multi-byte characters, and the ids of the added tokens. TokenizerParityTest compares.

Run: pip install tokenizers==0.23.2 && bash src/test/fixtures-gen/fetch-tokenizers.sh
     && python3 src/test/fixtures-gen/tokenizer_fixtures.py
"""
import hashlib
import json
import pathlib

import tokenizers
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parents[3]
NPM = ROOT / "src/test/fixtures/tokenizers/npm"
OUT = ROOT / "src/test/fixtures/tokenizers"
MODELS = ["llama3", "llama3_1", "llama2", "qwen3", "gemma3", "deepseek_v3", "gptoss"]

TEXTS = [
    # empty and whitespace
    "", " ", "  ", "\n", "\n\n\n", "\t", " \t \n  \r\n", "a  b   c    d", "trailing spaces   ", "   leading",
    "line one\nline two\r\nline three\rfour", "a\u00a0b\u2009c\u3000d\u2028e\u0085f", "zero\u200bwidth\ufeffbom",
    "x" + " " * 40 + "y", "\n" * 12 + "end",
    # English, contractions, case
    "Hello, world!", "The quick brown fox jumps over the lazy dog.", "I'm sure you're right; it's what they'd've said.",
    "CAN'T WON'T He'LL She'S", "it\u2019s a curly apostrophe, and it'\u017f a long s", "ALL CAPS and MiXeD cAsE words",
    "Pneumonoultramicroscopicsilicovolcanoconiosis", "e.g. i.e. etc. Mr. Dr. St.",
    # numbers
    "1234567890", "3.14159 2.71828 -0.5 +7e10", "1,000,000 and 12:30:45", "\u0663\u0664\u0665 \u0967\u0968\u0969 \uff11\uff12",
    "\u216b \u00bd \u2460\u2461 \u00b2\u00b3", "abc123def456", "9" * 50,
    # scripts
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837\uff1f",
    "\u3053\u3093\u306b\u3061\u306f\u3001\u30ab\u30bf\u30ab\u30ca\u3068\u6f22\u5b57\u3002",
    "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4.", "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0401\u0436",
    "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5 \u039a\u03cc\u03c3\u03bc\u03b5", "\u0532\u0561\u0580\u0587 \u10d2\u10d0\u10db\u10d0\u10e0\u10ef\u10dd\u10d1\u10d0",
    "\u0bb5\u0ba3\u0b95\u0bcd\u0b95\u0bae\u0bcd \u09a8\u09ae\u09b8\u09cd\u0995\u09be\u09b0", "\u1230\u120b\u121d \u12a0\u1208\u121d",
    "na\u00efve fa\u00e7ade co\u00f6perate \u00fcber Stra\u00dfe", "\u0130stanbul \u0131s\u0131k I\u0307", "\ufb01 \ufb02 \u2126 \u212b",
    # emoji
    "\U0001f44d\U0001f3fd thumbs", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family", "\U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5 flags",
    "1\ufe0f\u20e3 keycap \u2764\ufe0f heart", "\U0001f600\U0001f603\U0001f604\U0001f601\U0001f606", "\U0001fae8 shaking face (Unicode 15)",
    # combining marks and normalisation
    "cafe\u0301 vs caf\u00e9", "Z\u0324\u0354\u0367\u0311\u0353a\u0308\u0356\u032d\u0308\u0307l\u036e\u0312\u036bg\u030c\u0317\u035a\u031ao",
    "\u1100\u1161\u11a8 decomposed hangul", "a\u0328\u0301 o\u031b\u0323 \u0915\u093c", "\u0061\u0300\u0301\u0302\u0303\u0304",
    # characters newer than Unicode 13
    " \U00011f04", "\U00011f04\U00011f05\U00011f06 kawi \U00011f50\U00011f51", "\U0001e4d0\U0001e4d1 nag mundari",
    "\u0870\u0871\u0872 arabic ext-b", "\U0001e030\U0001e031 modifier", "\U00031350 cjk ext h", "\u2c2f\u2c5f glagolitic",
    # control, private use, unassigned
    "\x00\x01\x02\x7f controls", "\ue000\uf8ff private", "\u0378\uffff unassigned",
    # code and markup
    "def f(x):\n    return x ** 2  # square\n\nprint(f(3))\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    '{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}',
    "<div class=\"main\"><p>Hello &amp; welcome</p></div>", "https://example.com/path?q=1&r=two#frag user@mail.org",
    "| a | b |\n|---|---|\n| 1 | 2 |", "^\\s*(\\d+)\\.(\\w+)$", "x=>x+1;y!==z||w&&v", "    indented\n        more\n",
    "!!!??? ... --- *** ///", "a" * 300, "ab" * 150,
    # special-token strings in text (each model knows some of them)
    "<|begin_of_text|>Hello<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<s>Hello</s> <unk> world", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
    "<think>\n\n</think>\n\nanswer", "<bos><start_of_turn>user\nhi<end_of_turn>", "<|endoftext|>text<|endoftext|>",
    "<\uff5cbegin\u2581of\u2581sentence\uff5c>Hi<\uff5cend\u2581of\u2581sentence\uff5c>",
    "<|start|>assistant<|channel|>final<|message|>ok<|end|>", "<|im_sta partial <|eot_id <s", "text<|im_end|>text<|im_end|><|im_end|>",
    # mixed
    "Hello\u4e16\u754c123!? \U0001f600 \u0645\u0631\u062d\u0628\u0627 naive", "Price: $1,299.99 (\u20ac1.199,99) \u00a5\u00a3",
    "tab\tseparated\tvalues\n1\t2\t3", "MixedScript\u041f\u0440\u0438\u0432\u0435\u0442\u4e16\u754cabc",
]


def main():
    print("tokenizers", tokenizers.__version__, len(TEXTS), "texts")
    for name in MODELS:
        path = NPM / name / "tokenizer.json"
        raw = path.read_bytes()
        tok = Tokenizer.from_str(raw.decode("utf-8"))
        cases = []
        for text in TEXTS:
            ids = tok.encode(text, add_special_tokens=False).ids
            ids_special = tok.encode(text, add_special_tokens=True).ids
            case = {"text": text, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip": tok.decode(ids, skip_special_tokens=True)}
            if ids_special != ids:
                case["ids_special"] = ids_special
            cases.append(case)
        decodes = []
        for c in cases:  # slices that cut characters, and ids out of range
            ids = c["ids"]
            if len(ids) > 1 and any(ord(ch) > 127 for ch in c["text"]):
                for sl in (ids[1:], ids[:-1], ids[len(ids) // 2:len(ids) // 2 + 1]):
                    decodes.append({"ids": sl, "decoded": tok.decode(sl, skip_special_tokens=False)})
        size = tok.get_vocab_size(with_added_tokens=True)
        decodes.append({"ids": [5, size + 3, 7], "decoded": tok.decode([5, size + 3, 7])})
        added = tok.get_added_tokens_decoder()
        specials = {t.content: i for i, t in sorted(added.items())[:200]}
        fixture = {"tokenizer": f"npm/{name}/tokenizer.json", "sha256": hashlib.sha256(raw).hexdigest(),
                   "tokenizers_version": tokenizers.__version__, "vocab_size": size, "added_tokens": specials,
                   "cases": cases, "decode_cases": decodes}
        (OUT / f"{name}.json").write_text(json.dumps(fixture, ensure_ascii=True, indent=0) + "\n")
        print(name, len(cases), "cases", len(decodes), "decode cases")


if __name__ == "__main__":
    main()
