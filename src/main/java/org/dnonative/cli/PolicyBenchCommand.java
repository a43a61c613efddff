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
    @Option(names = "--model", description = "a HuggingFace model directory to bench instead of the random mid-size Llama (its load time is measured too)") Path model;
    @Option(names = "--parts", split = ",", defaultValue = "load,sampling,scoring,train,decode",
            description = "what to measure: load (--model only), sampling, scoring, train, decode (per-token cost vs context)") List<String> parts;
    @Option(names = "--sampling-dtype", defaultValue = "float32", description = "float32 or bfloat16 (the weights while sampling)") String samplingDtype;
    @Option(names = "--train-loss", defaultValue = "NATIVE", description = "the training step's pair loss: NATIVE, FUSED or LIBTORCH (training.loss)")
    org.dnonative.train.PairLoss.Kind trainLoss;
    @Option(names = "--threads", defaultValue = "0", description = "compute threads (0 = every processor); see Threads") int threads;

    @Override
    public Integer call() throws Exception {
        Device dev = Policy.device(device);
        org.dnonative.model.Threads.configure(threads);
        System.out.println("compute threads: " + org.dnonative.model.Threads.count() + ", cores: " + Runtime.getRuntime().availableProcessors());
        System.out.println("| model | measure | value |");
        System.out.println("|---|---|---|");
        if (fixture != null) {
            try (Policy p = Policy.load(fixture, dev)) {
                bench("hf-tiny (64h, 2L, V512)", p.model(), p.padId(), p.eosIds().isEmpty() ? -1 : p.eosIds().iterator().next());
            }
        }
        if (model != null) {
            if (parts.contains("load")) {
                // the first load pays class loading and JIT; the median of the next ones is the steady cost
                double[] ms = new double[Math.max(1, repeats)];
                for (int r = -1; r < ms.length; r++) {
                    long t0 = System.nanoTime();
                    try (Policy p = Policy.load(model, dev)) {
                        if (r >= 0) ms[r] = (System.nanoTime() - t0) / 1e6;
                        else result("load_first_ms", (System.nanoTime() - t0) / 1e6);
                    }
                }
                result("load_ms", median(ms));
            }
            try (Policy p = Policy.load(model, dev)) {
                bench(model.getFileName().toString(), p.model(), p.padId(), -1);
            }
        } else if (!skipMid) {
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
        if (parts.contains("sampling")) sampling(name, model, rng, vocab);
        if (parts.contains("scoring")) scoring(name, model, pad, rng, vocab);
        if (parts.contains("train")) training(name, model, pad, rng, vocab);
        if (parts.contains("decode")) decode(name, model, rng, vocab);
    }

    private void sampling(String name, CausalLM model, SplittableRandom rng, int vocab) {
        // sampling: 8 rows (2 prompts x K=4) of 64 new tokens after a 32-token prompt; eos disabled by a tokenizer-free policy
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 2; i++) prompts.add(randomIds(rng, 32, vocab));
        Policy policy = Policy.of(model, byteTokenizer(vocab), null);
        SamplingParams sp = new SamplingParams(4, 1.0, 1.0, 0, 64, List.of(), 1, 8);
        torch.ScalarType dtype = GenerateCommand.samplingDtype(samplingDtype);
        Sampler sampler = new Sampler(policy).withDtype(dtype);
        sampler.generate(prompts, sp); // warm-up: the whole workload once (JIT, caches), as peer.py does
        double[] tps = new double[repeats], tpsCpu = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long[] t0 = now();
            List<List<Completion>> out = sampler.generate(prompts, sp);
            long[] t1 = now();
            long tokens = out.stream().flatMap(List::stream).mapToLong(c -> c.ids().length).sum();
            tps[r] = tokens / ((t1[0] - t0[0]) / 1e9);
            tpsCpu[r] = tokens / ((t1[2] - t0[2]) / 1e9);
        }
        row(name, "sampling, batch 8 (2 prompts x K=4), 32-token prompt, 64 new tokens: tokens/s by wall / process CPU time", median(tps), median(tpsCpu));
        result("sampling_tok_s", median(tps));
        if (dtype != torch.ScalarType.Float) {
            // how far the sampling dtype moves the sampling distribution: the sampled tokens' log-probs
            // as the decode step computes them (teacher-forced, through the KV cache) in that dtype,
            // against the float32 scorer's
            List<List<Completion>> out = sampler.generate(prompts, sp);
            List<int[]> ps = new ArrayList<>(), rs = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) for (Completion c : out.get(i)) { ps.add(prompts.get(i)); rs.add(c.ids()); }
            CausalLM view = dtype == torch.ScalarType.BFloat16 ? model.withBf16DecodeWeights() : null;
            try (CausalLM cast = view != null ? view : model.inferenceCopy(dtype)) {
                List<org.dnonative.model.SequenceScore> f32 = new Scorer(model, 0, 8 * 256).score(ps, rs);
                double[] low = org.dnonative.model.Sampler.decodeLogprobs(cast, ps, rs);
                double err = 0, maxErr = 0;
                long tokens = 0;
                for (int i = 0; i < f32.size(); i++) {
                    double d = Math.abs(low[i] - f32.get(i).logprob());
                    err += d;
                    maxErr = Math.max(maxErr, d / Math.max(1, f32.get(i).tokens()));
                    tokens += f32.get(i).tokens();
                }
                row(name, "sampled sequences' log-prob, " + samplingDtype + " decode vs float32 scorer: mean / max |difference| per token (nats)", err / tokens, maxErr);
                result("sampling_logprob_err_per_token", err / tokens);
            }
        }
    }

    private void scoring(String name, CausalLM model, int pad, SplittableRandom rng, int vocab) {
        // scoring: 16 sequences of 128 prompt + 128 response tokens
        List<int[]> sp2 = new ArrayList<>(), rs = new ArrayList<>();
        for (int i = 0; i < 16; i++) { sp2.add(randomIds(rng, 128, vocab)); rs.add(randomIds(rng, 128, vocab)); }
        Scorer scorer = new Scorer(model, pad, 8 * 256);
        scorer.score(sp2.subList(0, 2), rs.subList(0, 2));
        double[] sc = new double[repeats], scCpu = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long[] t0 = now();
            scorer.score(sp2, rs);
            long[] t1 = now();
            sc[r] = 16 * 256 / ((t1[0] - t0[0]) / 1e9);
            scCpu[r] = 16 * 256 / ((t1[2] - t0[2]) / 1e9);
        }
        row(name, "scoring, 16 x (128 prompt + 128 response), batches of 8: tokens/s by wall / process CPU time", median(sc), median(scCpu));
        result("scoring_tok_s", median(sc));
        if (org.dnonative.kernel.AmxLinear.available() && model.device().is_cpu()) {
            // what the AMX products (bf16x3) do to the reference log-probs: against libtorch's float32 products
            List<org.dnonative.model.SequenceScore> amx = scorer.score(sp2, rs);
            double err = 0;
            long tokens = 0;
            for (int b = 0; b < 16; b += 8) {
                try (NoGradGuard g = new NoGradGuard();
                     PointerScope scope = new PointerScope();
                     org.dnonative.model.SequenceBatch batch = new org.dnonative.model.SequenceBatch(sp2.subList(b, b + 8),
                             rs.subList(b, b + 8), pad, model.device())) {
                    float[] f32 = Tensors.toFloats(
                            Scorer.sequenceLogprobs(model, batch, model.hidden(batch.inputIds(), null, null, null)));
                    for (int i = 0; i < 8; i++) {
                        err += Math.abs(amx.get(b + i).logprob() - f32[i]);
                        tokens += rs.get(b + i).length;
                    }
                }
            }
            row(name, "scoring through AMX (bf16x3) vs libtorch float32 products: mean |log-prob difference| per token (nats)", err / tokens);
            result("scoring_amx_err_per_token", err / tokens);
        }
    }

    /** Training steps run before the timed ones. */
    static final int TRAIN_WARMUP = 3;

    /**
     * One optimizer step on 2 DNO pairs (4 sequences of 32 prompt + 32 response tokens): forward,
     * the default (native) pair loss, backward, AdamW. On a copy: the benched model is not changed.
     */
    private void training(String name, CausalLM source, int pad, SplittableRandom rng, int vocab) {
        List<int[]> ps = new ArrayList<>(), rs = new ArrayList<>();
        for (int i = 0; i < 2; i++) ps.add(randomIds(rng, 32, vocab));
        for (int i = 0; i < 4; i++) rs.add(randomIds(rng, 32, vocab));
        List<int[]> prompts = List.of(ps.get(0), ps.get(1), ps.get(0), ps.get(1));
        float[] ref = {-350f, -352f, -351f, -353f};
        double[] ms = new double[repeats], update = new double[repeats];
        try (CausalLM model = source.copy(source.device());
             org.dnonative.train.PolicyTrainer trainer = new org.dnonative.train.PolicyTrainer(model,
                     org.dnonative.train.TrainOptions.adamW(1e-5, 0, 1000, 0.0, 1.0));
             org.dnonative.train.PairLoss loss = org.dnonative.train.PairLoss.create(trainLoss,
                     org.dnonative.model.Threads.count());
             org.dnonative.model.SequenceBatch batch = new org.dnonative.model.SequenceBatch(prompts, rs, pad, model.device())) {
            // TRAIN_WARMUP steps first (peer.py warms up as many): the JIT compiles the step's Java
            // during the first few, on the cores the step's workers would use (measured on the 2-core
            // AMD EPYC at 2 threads: steps 0-3 at 550-860 ms, then 430-470)
            for (int r = -TRAIN_WARMUP; r < repeats; r++) {
                long t0 = System.nanoTime();
                trainer.accumulate(loss, batch, ref, null, 0.1, 1.0);
                long t1 = System.nanoTime();
                trainer.step();
                long t2 = System.nanoTime();
                if (r >= 0) {
                    ms[r] = (t2 - t0) / 1e6;
                    update[r] = (t2 - t1) / 1e6;
                }
            }
        }
        row(name, "training step, 2 pairs (4 x (32 prompt + 32 response)), " + trainLoss.name().toLowerCase(java.util.Locale.ROOT) + " loss, AdamW: ms by wall", median(ms));
        result("train_step_ms", median(ms));
        result("train_update_ms", median(update));   // of which clipping, AdamW and zeroing the gradients
    }

    private void decode(String name, CausalLM model, SplittableRandom rng, int vocab) {
        // per-token decode time vs context length: contexts are interleaved round by round so that
        // interference from other processes spreads over all of them; the minimum is the robust figure
        List<Integer> ctxs = new ArrayList<>();
        for (int c : contexts) if (c + 64 <= model.config().maxPositionEmbeddings()) ctxs.add(c);
        int rounds = 24, fullRounds = 5;
        double[][] cachedMs = new double[ctxs.size()][rounds], fullMs = new double[ctxs.size()][fullRounds];
        KvCache[] caches = new KvCache[ctxs.size()];
        long[][] seqs = new long[ctxs.size()][];
        try (NoGradGuard g = new NoGradGuard()) {
            for (int i = 0; i < ctxs.size(); i++) {
                int ctx = ctxs.get(i);
                seqs[i] = Arrays.stream(randomIds(rng, ctx + rounds, vocab)).asLongStream().toArray();
                caches[i] = new KvCache(model.config(), 1, ctx + rounds, model.device(), torch.ScalarType.Float);
                try (PointerScope s = new PointerScope()) {
                    model.hidden(ids(Arrays.copyOf(seqs[i], ctx), model), null, null, caches[i]);
                }
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < ctxs.size(); i++) {
                    try (PointerScope s = new PointerScope()) {
                        Tensor in = ids(new long[]{seqs[i][ctxs.get(i) + r]}, model);
                        long[] t0 = now();
                        Tensors.toFloats(model.logits(model.hidden(in, null, null, caches[i]).select(1, 0)));
                        cachedMs[i][r] = cpuOrWall(t0, now());
                    }
                }
            }
            for (int r = 0; r < fullRounds; r++) {
                for (int i = 0; i < ctxs.size(); i++) {
                    int ctx = ctxs.get(i);
                    try (PointerScope s = new PointerScope()) {
                        Tensor in = ids(Arrays.copyOf(seqs[i], ctx + 1), model);
                        long[] t0 = now();
                        Tensors.toFloats(model.logits(model.hidden(in, null, null, null).select(1, ctx)));
                        fullMs[i][r] = cpuOrWall(t0, now());
                    }
                }
            }
        } finally {
            for (KvCache c : caches) if (c != null) c.close();
        }
        for (int i = 0; i < ctxs.size(); i++) {
            row(name, "next token at context " + ctxs.get(i) + ": KV cache min / median, full recompute min / median (ms, thread CPU time)",
                    min(cachedMs[i]), median(cachedMs[i]), min(fullMs[i]), median(fullMs[i]));
        }
    }

    /** A machine-readable line for benchmarks/bench.py. */
    private static void result(String key, double value) {
        System.out.printf(java.util.Locale.ROOT, "RESULT %s %.6g%n", key, value);
        System.out.flush();
    }

    private static Tensor ids(long[] ids, CausalLM model) {
        return Tensors.fromLongs(ids, 1, ids.length).to(model.device(), torch.ScalarType.Long);
    }

    /** Thread CPU time when libtorch computes on this thread (one intra-op thread), otherwise wall time. */
    private static double cpuOrWall(long[] t0, long[] t1) {
        return torch.get_num_threads() == 1 ? (t1[1] - t0[1]) / 1e6 : (t1[0] - t0[0]) / 1e6;
    }

    private static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    private static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    /** Wall time and this thread's CPU time in ns (with --threads 1 libtorch computes on this thread, so CPU time excludes waits for other processes). */
    private static long[] now() {
        long process = java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
        return new long[]{System.nanoTime(), MX.getCurrentThreadCpuTime(), process};
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
        for (double v : values) sb.append(sb.length() == 0 ? "" : " / ").append(String.format(v >= 100 ? "%.0f" : v >= 0.01 || v == 0 ? "%.2f" : "%.2e", v));
        System.out.println("| " + model + " | " + what + " | " + sb + " |");
        System.out.flush();
    }
}
