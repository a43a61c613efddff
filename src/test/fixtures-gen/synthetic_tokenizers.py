#!/usr/bin/env python3
"""Writes src/test/fixtures/tokenizers/synthetic.json: small tokenizers built with HF tokenizers for
the components the seven real tokenizer.json files do not use (Metaspace, WordPiece-style
continuing_subword_prefix, end_of_word_suffix, single_word/lstrip/rstrip and normalized added
tokens, Lowercase/NFKC/Strip/Replace normalizers, Digits/WhitespaceSplit/GPT-2 ByteLevel
pre-tokenizers, Bert/Roberta post-processors), each with its tokenizer.json text and HF's ids and
decodes on the texts below. Run: pip install tokenizers==0.23.2 && python3 src/test/fixtures-gen/synthetic_tokenizers.py
"""
import json
import pathlib

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

OUT = pathlib.Path(__file__).resolve().parents[3] / "src/test/fixtures/tokenizers/synthetic.json"
CORPUS = ["Hello world, hello there! It's 2026 and 12345 numbers.", "The quick brown fox jumps over the lazy dog.",
          "caf\u00e9 na\u00efve \u00fcber \u4f60\u597d \U0001f600", "def f(x):\n    return x * 2\n", "ALL CAPS and mixed Case"] * 20
TEXTS = ["", " ", "Hello world", "hello   there  ", "It's 2026!", "caf\u00e9 \u4f60\u597d \U0001f600", "The lazy dog.\n\nThe fox",
         "[MASK] is here", "a [MASK]b", "x<mask> y", "  <mask>  z", "word<special>word", "\u2460\u2461 \uff21\uff22",
         "\tdef f(x):\n\treturn 1", "unknown \u0416\u0436 chars", "12345 6789", "MiXeD CaSe", "hello<special> <special>"]


def bpe_trained(**kw):
    tok = Tokenizer(models.BPE(unk_token="[UNK]", **kw))
    return tok


def build():
    out = {}
    # 1. WordPiece-style BPE: continuing_subword_prefix "##", Lowercase + Strip, WhitespaceSplit, Bert post-processor
    t = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##"))
    t.normalizer = normalizers.Sequence([normalizers.Lowercase(), normalizers.Strip()])
    t.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    t.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                                      continuing_subword_prefix="##"))
    t.post_processor = processors.BertProcessing(("[SEP]", t.token_to_id("[SEP]")), ("[CLS]", t.token_to_id("[CLS]")))
    t.add_special_tokens([AddedToken("[MASK]", single_word=True, lstrip=True)])
    out["prefix_bert"] = t
    # 2. end_of_word_suffix, NFKC, Digits, Metaspace (first), Roberta post-processor, rstrip token
    t = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
    t.normalizer = normalizers.NFKC()
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.Metaspace(prepend_scheme="first")])
    t.decoder = decoders.Metaspace(prepend_scheme="first")
    t.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "<s>", "</s>"], end_of_word_suffix="</w>"))
    t.post_processor = processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")))
    t.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=True)])
    out["suffix_metaspace"] = t
    # 3. GPT-2 byte-level (use_regex, add_prefix_space), normalized added tokens, Replace regex normalizer
    t = Tokenizer(models.BPE())
    t.normalizer = normalizers.Replace(Regex(r"\s{2,}"), " ")
    t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    t.decoder = decoders.ByteLevel()
    t.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                      special_tokens=["<|endoftext|>"]))
    t.add_tokens([AddedToken("<special>", normalized=True), AddedToken("hello there", normalized=True)])
    out["gpt2_normalized_added"] = t
    # 4. SentencePiece-style with Metaspace always (split) and byte fallback
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    t.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always", split=True)
    t.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(prepend_scheme="always")])
    t.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]))
    out["metaspace_bytes"] = t
    return out


def main():
    fixture = {"tokenizers_version": tokenizers.__version__, "tokenizers": {}}
    for name, t in build().items():
        cases = []
        for text in TEXTS:
            ids = t.encode(text, add_special_tokens=False).ids
            cases.append({"text": text, "ids": ids, "ids_special": t.encode(text).ids,
                          "decoded": t.decode(ids, skip_special_tokens=False), "decoded_skip": t.decode(ids)})
        fixture["tokenizers"][name] = {"json": t.to_str(), "cases": cases}
        print(name, t.get_vocab_size())
    OUT.write_text(json.dumps(fixture, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
