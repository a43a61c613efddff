package org.dnonative.cli;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.CausalLM;
import org.dnonative.model.Completion;
import org.dnonative.model.KvCache;
import org.dnonative.model.ModelConfig;
import org.dnonative.model.Policy;
import org.dnonative.model.Sampler;
import org.dnonative.model.SamplingParams;
import org.dnonative.model.Scorer;
import org.dnonative.model.Tensors;
import org.dnonative.model.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code bench-policy}: sampling and scoring throughput of the policy on this machine, and the
 * time of one decoding step at several context lengths (with the KV cache, against recomputing
 * the whole prefix), for the hf-tiny fixture model and a random mid-size Llama
 * (hidden 512, 8 layers, vocab 32000). Prints a Markdown table; reports medians.
 *
 * <pre>java -cp target/dno-native.jar org.dnonative.cli.Main bench-policy --fixture ../shared/fixtures/hf-tiny/llama-tiny</pre>
 */
@Command(name = "bench-policy", mixinStandardHelpOptions = true,
        description = "Benchmark sampling, scoring and per-token decode cost vs context length.")
public final class PolicyBenchCommand implements Callable<Integer> {
    @Option(names = "--fixture", description = "the hf-tiny llama-tiny directory (skipped when absent)") Path fixture;
    @Option(names = "--device", defaultValue = "cpu") String device;
    @Option(names = "--contexts", split = ",", defaultValue = "64,128,256,512,1024") int[] contexts;
    @Option(names = "--repeats", defaultValue = "5") int repeats;
    @Option(names = "--skip-mid", description = "skip the hidden-512 model") boolean skipMid;

    @Override
    public Integer call() throws Exception {
        Device dev = Policy.device(device);
        System.out.println("| model | measure | value |");
        System.out.println("|---|---|---|");
        if (fixture != null) {
            try (Policy p = Policy.load(fixture, dev)) {
                bench("hf-tiny (64h, 2L, V512)", p.model(), p.padId(), p.eosIds().isEmpty() ? -1 : p.eosIds().iterator().next());
            }
        }
        if (!skipMid) {
            ModelConfig mid = ModelConfig.of(ModelConfig.Architecture.LLAMA, 32000, 512, 1376, 8, 8, 4, 4096, true, null, 2, 0);
            try (CausalLM m = CausalLM.random(mid, 1, dev)) {
                bench("random Llama (512h, 8L, 8/4 heads, V32000, " + m.parameterCount() / 1_000_000 + "M params)", m, 0, 2);
            }
        }
        return 0;
    }

    private void bench(String name, CausalLM model, int pad, int eos) {
        int vocab = model.config().vocabSize();
        SplittableRandom rng = new SplittableRandom(7);
        // sampling: 8 rows (2 prompts x K=4) of 64 new tokens after a 32-token prompt; eos disabled by a tokenizer-free policy
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 2; i++) prompts.add(randomIds(rng, 32, vocab));
        Policy policy = Policy.of(model, byteTokenizer(vocab), null);
        SamplingParams sp = new SamplingParams(4, 1.0, 1.0, 0, 64, List.of(), 1, 8);
        Sampler sampler = new Sampler(policy);
        sampler.generate(prompts, new SamplingParams(4, 1.0, 1.0, 0, 4, List.of(), 1, 8)); // warm-up
        double[] tps = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            List<List<Completion>> out = sampler.generate(prompts, sp);
            long tokens = out.stream().flatMap(List::stream).mapToLong(c -> c.ids().length).sum();
            tps[r] = tokens / ((System.nanoTime() - t0) / 1e9);
        }
        row(name, "sampling, batch 8, 32+64 tokens (tokens/s)", median(tps));
        // scoring: 16 sequences of 128 prompt + 128 response tokens
        List<int[]> sp2 = new ArrayList<>(), rs = new ArrayList<>();
        for (int i = 0; i < 16; i++) { sp2.add(randomIds(rng, 128, vocab)); rs.add(randomIds(rng, 128, vocab)); }
        Scorer scorer = new Scorer(model, pad, 8 * 256);
        scorer.score(sp2.subList(0, 2), rs.subList(0, 2));
        double[] sc = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            scorer.score(sp2, rs);
            sc[r] = 16 * 256 / ((System.nanoTime() - t0) / 1e9);
        }
        row(name, "scoring, 16 x (128+128) tokens (tokens/s, all positions)", median(sc));
        // per-token decode time vs context length
        for (int ctx : contexts) {
            if (ctx + 16 > model.config().maxPositionEmbeddings()) continue;
            double cached = decodeStepMillis(model, ctx, rng, true);
            double full = decodeStepMillis(model, ctx, rng, false);
            row(name, "one more token at context " + ctx + ": KV cache / full recompute (ms)", cached, full);
        }
    }

    /** Median time of one decoding step (batch 1) at context {@code ctx}: with the cache, or recomputing the prefix. */
    private double decodeStepMillis(CausalLM model, int ctx, SplittableRandom rng, boolean useCache) {
        int steps = useCache ? 16 : 3;
        int[] ids = randomIds(rng, ctx + steps, model.config().vocabSize());
        long[] all = Arrays.stream(ids).asLongStream().toArray();
        double[] times = new double[steps];
        try (NoGradGuard g = new NoGradGuard()) {
            if (useCache) {
                try (KvCache cache = new KvCache(model.config(), 1, ctx + steps, model.device(), torch.ScalarType.Float)) {
                    try (PointerScope s = new PointerScope()) {
                        model.hidden(Tensors.fromLongs(Arrays.copyOf(all, ctx), 1, ctx).to(model.device(), torch.ScalarType.Long), null, null, cache);
                    }
                    for (int i = 0; i < steps; i++) {
                        try (PointerScope s = new PointerScope()) {
                            Tensor in = Tensors.fromLongs(new long[]{all[ctx + i]}, 1, 1).to(model.device(), torch.ScalarType.Long);
                            long t0 = System.nanoTime();
                            Tensors.toFloats(model.logits(model.hidden(in, null, null, cache).select(1, 0)));
                            times[i] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                }
            } else {
                for (int i = 0; i < steps; i++) {
                    try (PointerScope s = new PointerScope()) {
                        Tensor in = Tensors.fromLongs(Arrays.copyOf(all, ctx + i + 1), 1, ctx + i + 1).to(model.device(), torch.ScalarType.Long);
                        long t0 = System.nanoTime();
                        Tensor h = model.hidden(in, null, null, null);
                        Tensors.toFloats(model.logits(h.select(1, ctx + i)));
                        times[i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
        }
        return median(times);
    }

    private static Tokenizer byteTokenizer(int vocab) {
        StringBuilder v = new StringBuilder("{\"model\":{\"type\":\"WordLevel\",\"unk_token\":\"t0\",\"vocab\":{");
        for (int i = 0; i < vocab; i++) v.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":").append(i);
        v.append("}},\"decoder\":null,\"pre_tokenizer\":null,\"normalizer\":null}");
        return Tokenizer.fromJson(v.toString(), "<bench>");
    }

    private static int[] randomIds(SplittableRandom rng, int n, int vocab) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = 3 + rng.nextInt(vocab - 3);
        return a;
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static void row(String model, String what, double... values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) sb.append(sb.length() == 0 ? "" : " / ").append(String.format(v >= 100 ? "%.0f" : "%.2f", v));
        System.out.println("| " + model + " | " + what + " | " + sb + " |");
        System.out.flush();
    }
}
