package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.dnonative.model.ArchitectureFixture.ints;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A padded vocabulary: qwen3-tiny's embedding has 528 rows for the tokenizer's 512 tokens, as
 * Qwen2.5/Qwen3 checkpoints have 151936 rows for ~151665 tokens. The padded rows are made to win
 * (their lm_head row is set along the prompt's last hidden state), so generation must meet them.
 */
class PaddedVocabularyTest {
    static final Device CPU = new Device(torch.DeviceType.CPU);
    static final ArchitectureFixture FIXTURE = ArchitectureFixture.of("qwen3-tiny/untied-bf16");
    static final int PADDED = 515;
    static Policy policy;
    static int[] prompt, greedy;

    @BeforeAll
    static void load() {
        policy = Policy.load(FIXTURE.dir(), CPU);
        JsonNode c = FIXTURE.cases().get(0);
        prompt = ints(c.get("prompt_ids"));
        greedy = ints(c.get("greedy_16"));
        CausalLM m = policy.model();
        assertTrue(m.config().vocabSize() > policy.tokenizer().vocabSize(), "the fixture must pad its vocabulary");
        try (NoGradGuard g = new NoGradGuard(); PointerScope s = new PointerScope()) {
            Tensor ids = Tensors.fromLongs(Arrays.stream(prompt).asLongStream().toArray(), 1, prompt.length);
            Tensor h = m.hidden(ids, null, null, null).select(1, prompt.length - 1).squeeze(0);   // [H]
            // logit of PADDED at the first step = 1000, far above any real token's
            Tensor row = h.mul(new org.bytedeco.pytorch.Scalar(1000.0)).div(h.dot(h));
            m.parameters().get("lm_head.weight").select(0, PADDED).copy_(row);
        }
    }

    @AfterAll
    static void close() { policy.close(); }

    @Test
    void idsTheTokenizerLacksDecodeToNothingAsInTransformers() {
        for (JsonNode c : FIXTURE.reference().get("padded_decode")) {
            int[] ids = ints(c.get("ids"));
            // the sampler decodes with skip_special_tokens, so compare with what transformers gave for that
            assertEquals(c.get("skip_special").asText(), Sampler.decodeKnown(policy.tokenizer(), ids), Arrays.toString(ids));
        }
    }

    @Test
    void generateEmitsAndDecodesPaddedIds() {
        Completion greedyOut = new Sampler(policy).generate(List.of(prompt), SamplingParams.greedy(6)).get(0).get(0);
        assertEquals(PADDED, greedyOut.ids()[0], Arrays.toString(greedyOut.ids()));
        int[] real = Arrays.stream(greedyOut.ids()).filter(id -> id < policy.tokenizer().vocabSize()).toArray();
        assertEquals(policy.tokenizer().decode(real, true), greedyOut.text());

        // sampling (temperature, top-p, top-k) meets the padded id too and still returns text
        List<Completion> sampled = new Sampler(policy).generate(List.of(prompt), new SamplingParams(4, 1.0, 0.95, 20, 6, List.of(), 7, 4)).get(0);
        for (Completion c : sampled) {
            assertEquals(PADDED, c.ids()[0], Arrays.toString(c.ids()));
            assertNotNull(c.text());
        }
    }

    @Test
    void theGenerateCommandWritesPaddedIdsAndTheirEmptyText(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("padded"), in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        policy.save(model);   // bf16 like the source: the boosted row stays far ahead
        Files.writeString(in, "{\"prompt_ids\":" + Arrays.toString(prompt) + "}\n");
        int code = new CommandLine(new org.dnonative.cli.GenerateCommand()).execute("--model", model.toString(),
                "--in", in.toString(), "--out", out.toString(), "--temperature", "0", "--max-new-tokens", "6");
        assertEquals(0, code);
        JsonNode c = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(out)).get("completions").get(0);
        int[] ids = ints(c.get("ids"));
        assertEquals(PADDED, ids[0], Arrays.toString(ids));
        int[] real = Arrays.stream(ids).filter(id -> id < policy.tokenizer().vocabSize()).toArray();
        assertEquals(policy.tokenizer().decode(real, true), c.get("text").asText());
    }

    @Test
    void theGenerateCommandMasksThemWithItsFlag(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("padded"), in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        policy.save(model);
        Files.writeString(in, "{\"prompt_ids\":" + Arrays.toString(prompt) + "}\n");
        int code = new CommandLine(new org.dnonative.cli.GenerateCommand()).execute("--model", model.toString(),
                "--in", in.toString(), "--out", out.toString(), "--temperature", "1", "--samples", "4", "--seed", "3",
                "--max-new-tokens", "8", "--mask-untokenized-ids");
        assertEquals(0, code);
        JsonNode completions = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(out)).get("completions");
        assertEquals(4, completions.size());
        for (JsonNode c : completions)
            for (int id : ints(c.get("ids"))) assertTrue(id < policy.tokenizer().vocabSize(), "sampled untokenized id " + id + " in " + c);
    }

    @Test
    void maskingKeepsIdsTheTokenizerLacksOutOfSampling() {
        Sampler masked = new Sampler(policy).maskingUntokenizedIds();
        int[] got = masked.generate(List.of(prompt), SamplingParams.greedy(16)).get(0).get(0).ids();
        // with the padded rows out of the running, greedy is transformers' greedy on the unmodified model
        assertArrayEquals(Arrays.copyOf(greedy, got.length), got);
        for (Completion c : masked.generate(List.of(prompt), new SamplingParams(4, 1.0, 1.0, 0, 8, List.of(), 7, 4)).get(0))
            for (int id : c.ids()) assertTrue(id < policy.tokenizer().vocabSize(), "sampled untokenized id " + id);
    }
}
