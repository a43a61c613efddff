package org.dnonative.dno.stage;

import org.bytedeco.javacpp.PointerScope;
import org.dnonative.dist.Cluster;
import org.dnonative.dist.GradientAllReduce;
import org.dnonative.dno.Progress;
import org.dnonative.dno.RunDirectory;
import org.dnonative.dno.Seeds;
import org.dnonative.dno.config.TrainingConfig;
import org.dnonative.dno.store.Pair;
import org.dnonative.dno.store.ReferenceLogps;
import org.dnonative.model.Policy;
import org.dnonative.model.SequenceBatch;
import org.dnonative.train.PairLoss;
import org.dnonative.train.PolicyTrainer;
import org.dnonative.train.TrainOptions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * pi_{t+1} from pi_t's weights on the iteration's pairs (with replay): at most one epoch in a seeded
 * order, optimizer steps of {@code batch_size} pairs reached by accumulating micro-batches, the
 * learning rate decayed per iteration; then the checkpoint, written atomically.
 */
public final class TrainingStage implements Stage {
    @Override
    public String name() { return "train"; }

    @Override
    public boolean sharded() { return true; }

    @Override
    public void run(RunContext run, int t) {
        TrainingConfig c = run.config().training();
        List<Pair> pairs = run.store().trainPairs(t);
        Map<String, ReferenceLogps> ref = new HashMap<>();
        for (ReferenceLogps r : run.store().referenceLogps(t)) ref.put(r.pairId(), r);
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) order.add(i);
        Collections.shuffle(order, new Random(Seeds.derive(run.config().seed(), t, Seeds.Stage.TRAIN)));
        int used = (int) Math.floor(c.epochs() * pairs.size() + 1e-9);
        order = order.subList(0, used);
        int steps = (used + c.batchSize() - 1) / c.batchSize();
        double lr = c.learningRate() * Math.pow(c.learningRateDecay(), t - 1);
        Map<String, Object> m = new LinkedHashMap<>();
        try (Policy p = run.loadPolicy(t)) {
            if (steps > 0) {
                TrainOptions options = TrainOptions.adamW(lr, (int) Math.floor(c.warmupRatio() * steps), steps, c.weightDecay(), c.maxGradNorm());
                double lossSum = 0, marginSum = 0, correct = 0;
                Cluster cluster = run.cluster();
                if (cluster.distributed()) cluster.group().verifyParams(new ArrayList<>(p.model().parameters().values()));
                try (PolicyTrainer trainer = new PolicyTrainer(p.model(), options);
                     PairLoss loss = PairLoss.create(c.loss(), Math.max(0, run.config().threads()));
                     Progress bar = run.bars().start("training pi_" + (t + 1), used)) {
                    // the global batch of each step is split across the ranks by micro-batch (micro-batch m of
                    // a step on rank m mod world); their gradients, already weighted by their share of the
                    // global batch, are summed before the step, so clipping and AdamW see the global gradient
                    if (cluster.distributed()) trainer.gradientSync(new GradientAllReduce(cluster.group()));
                    for (int s = 0; s < steps; s++) {
                        List<Integer> batch = order.subList(s * c.batchSize(), Math.min(used, (s + 1) * c.batchSize()));
                        for (int from = 0, mb = 0; from < batch.size(); from += c.microBatch(), mb++) {
                            List<Integer> micro = batch.subList(from, Math.min(batch.size(), from + c.microBatch()));
                            if (!cluster.shard().owns(mb)) {
                                bar.step(micro.size());
                                continue;
                            }
                            PolicyTrainer.MicroResult r = microBatch(run, p, trainer, loss, pairs, ref, micro, (double) micro.size() / batch.size());
                            lossSum += r.loss() * micro.size();
                            marginSum += r.rewardMargin() * micro.size();
                            correct += r.accuracy() * micro.size();
                            bar.step(micro.size());
                        }
                        m.put("last_lr", trainer.step().learningRate());
                    }
                }
                double[] sums = cluster.sum(new double[] {lossSum, marginSum, correct}, "the training losses");
                m.put("loss", sums[0] / used);
                m.put("reward_margin", sums[1] / used);
                m.put("reward_accuracy", sums[2] / used);
            } else {
                m.put("loss", null);
                m.put("reward_margin", null);
            }
            m.put("steps", steps);
            m.put("learning_rate", lr);
            m.put("param_checksum", ParamChecksum.agreed(run.cluster(), p.model()));
            if (run.store().writes()) RunDirectory.writeDirectory(run.store().checkpoint(t), d -> p.save(d, Checkpoints.dtype(run.config())));
        }
        run.store().writeSummary(t, "train", m);
    }

    /** One micro-batch of pairs: P chosen then P rejected rows, their reference log-probs, soft targets if any pair has one. */
    private static PolicyTrainer.MicroResult microBatch(RunContext run, Policy p, PolicyTrainer trainer, PairLoss loss, List<Pair> pairs,
                                                        Map<String, ReferenceLogps> ref, List<Integer> micro, double weight) {
        int n = micro.size();
        boolean template = run.config().prompts().chatTemplate();
        List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
        float[] refs = new float[2 * n];
        boolean soft = micro.stream().anyMatch(i -> pairs.get(i).target() != null);
        float[] targets = soft ? new float[n] : null;
        for (int i = 0; i < n; i++) {
            Pair q = pairs.get(micro.get(i));
            ReferenceLogps r = ref.get(q.id());
            if (r == null) throw new IllegalStateException("no reference log-probs for pair " + q.id());
            prompts.add(Encoding.prompt(p, q.prompt(), template));
            responses.add(q.chosenIds());
            refs[i] = (float) r.chosen();
            refs[n + i] = (float) r.rejected();
            if (soft) targets[i] = q.target() == null ? 1f : q.target().floatValue();
        }
        for (int i = 0; i < n; i++) {
            prompts.add(prompts.get(i));
            responses.add(pairs.get(micro.get(i)).rejectedIds());
        }
        try (PointerScope scope = new PointerScope();
             SequenceBatch batch = new SequenceBatch(prompts, responses, p.padId(), p.model().device())) {
            return trainer.accumulate(loss, batch, refs, targets, run.config().training().beta(), weight);
        }
    }
}
