#!/usr/bin/env python3
"""Writes the benchmark texts: OUT/text-<n>.txt of n UTF-16 units (1k..100k), a fixed mix of English
prose, code, numbers, whitespace runs, CJK, Cyrillic, Arabic and emoji, shuffled with a fixed seed."""
import random
import sys

PARTS = [
    "The quick brown fox jumps over the lazy dog. ",
    "Direct Nash Optimization samples several responses per prompt, ranks them and trains on large-margin pairs. ",
    "It's what they'd've said, isn't it? ",
    "def f(x):\n    return x ** 2  # square\n\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    '{"key": "value", "list": [1, 2, 3], "n": 3.14159}\n',
    "1234567890 3,141,592 2026-12-01 ",
    "    \n\n   ",
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u4eca\u5929\u5929\u6c14\u600e\u4e48\u6837\uff1f",
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! ",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 ",
    "\U0001f44d\U0001f3fd \U0001f600 ",
    "na\u00efve caf\u00e9 \u00fcber ",
]


def main():
    out, sizes = sys.argv[1], [int(s) for s in sys.argv[2:]]
    rng = random.Random(7)
    for n in sizes:
        buf = []
        size = 0
        while size < n:
            p = rng.choice(PARTS)
            buf.append(p)
            size += len(p.encode("utf-16-le")) // 2
        text = "".join(buf)
        while len(text.encode("utf-16-le")) // 2 > n:
            text = text[:-1]
        with open(f"{out}/text-{n}.txt", "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
