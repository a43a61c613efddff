package org.dnonative.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** tokenizer.json regexes read as HF's engine reads them: its Unicode tables, its syntax, and clear refusals. */
class HfRegexTest {
    static List<String> matches(String regex, String text) {
        List<String> out = new ArrayList<>();
        HfRegex.regex(regex, "<test>").findAll(text, (s, e) -> out.add(text.substring(s, e)));
        return out;
    }

    @Test
    void categoriesAreHfsOnAnyJdk() {
        // assigned after Unicode 13 (JDK 17's tables): Kawi letter and digit, Nag Mundari, Arabic Extended-B, an emoji of Unicode 15
        assertEquals(List.of(" \uD807\uDF04\uD807\uDF05"), matches(" ?\\p{L}+", " \uD807\uDF04\uD807\uDF05"));
        assertEquals(List.of("\uD807\uDF50"), matches("\\p{Nd}", "x\uD807\uDF50"));
        assertEquals(List.of("\uD839\uDCD0", "\u0870"), matches("\\p{Lo}", "\uD839\uDCD0-\u0870"));
        assertEquals(List.of("\uD83E\uDEE8"), matches("[^\\s\\p{L}\\p{N}]+", "\uD83E\uDEE8"));
        assertEquals(List.of("\uD83E\uDEE8"), matches("\\p{So}", "a\uD83E\uDEE8b"));
        // offsets are those of the real text, whatever stand-ins the matcher saw
        assertEquals(List.of("ab", "\uD807\uDF04c"), matches("\\p{L}+", "ab \uD807\uDF04c"));
    }

    @Test
    void whiteSpaceIsHfsSet() {
        // HF's \s (from its engine, in HfUnicodeTable.SPACE) is what java's \s and UnicodeSpace say on this JDK
        Pattern java = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);
        List<Integer> javaSpace = new ArrayList<>(), ours = new ArrayList<>();
        for (int cp = 0; cp < 0x110000; cp++) {
            if (cp >= 0x3100 && cp < 0xE0000) { cp = 0xE0000; }           // no white space between (asserted by HF's table)
            String s = new String(Character.toChars(cp));
            if (java.matcher(s).matches()) javaSpace.add(cp);
            if (UnicodeSpace.is(cp)) ours.add(cp);
        }
        List<Integer> hf = new ArrayList<>();
        for (int cp : HfUnicodeTable.SPACE) hf.add(cp);
        assertEquals(hf, javaSpace);
        assertEquals(hf, ours);
        for (int cp : HfUnicodeTable.SPACE) assertTrue(cp < 0x3100, "the scan above skips U+3100..U+DFFFF");
    }

    @Test
    void onigurumaSyntaxIsRewritten() {
        assertEquals(List.of("\u000B"), matches("\\v", "a\u000Bb\n"));            // Java's \v would match \n too
        assertEquals(List.of("ab", "ab", "a"), matches("a[b]{,1}", "ababa"));       // {,n} = {0,n}
        assertEquals(List.of("{x}"), matches("{x}", "a{x}b"));                   // a brace that is no quantifier
        assertEquals(List.of("I'S", "'t"), matches("(?i:'s|'t)|I'S", "I'S 't"));
        assertEquals(List.of("a\r"), matches(".+", "a\r\nb").subList(0, 1));      // '.' stops only at \n, as in Ruby syntax
    }

    @Test
    void unsupportedConstructsAreNamed() {
        for (String[] c : new String[][]{{"\\p{Han}+", "\\p{Han}"}, {"(?m:a.b)", "(?m"}, {"\\h+", "\\h"}, {"[[:alpha:]]", "POSIX"}, {"\\X", "\\X"}}) {
            TokenizerException e = assertThrows(TokenizerException.class, () -> HfRegex.regex(c[0], "m/tokenizer.json: pre_tokenizer Split"));
            assertTrue(e.getMessage().startsWith("m/tokenizer.json: pre_tokenizer Split: regex '" + c[0] + "' uses ") && e.getMessage().contains(c[1]), e.getMessage());
        }
        String json = """
            {"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\\\p{Greek}+"},"behavior":"Isolated","invert":false},
             "model":{"type":"BPE","vocab":{"a":0},"merges":[]}}
            """;
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromJson(json, "g/tokenizer.json"));
        assertTrue(e.getMessage().contains("g/tokenizer.json: pre_tokenizer Split") && e.getMessage().contains("\\p{Greek}"), e.getMessage());
    }
}
