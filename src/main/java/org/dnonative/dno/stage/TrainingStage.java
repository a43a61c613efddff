package org.dnonative.dno.stage;

import org.bytedeco.javacpp.PointerScope;
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
                try (PolicyTrainer trainer = new PolicyTrainer(p.model(), options);
                     PairLoss loss = PairLoss.create(c.loss(), Math.max(0, run.config().threads()));
                     Progress bar = run.bars().start("training pi_" + (t + 1), used)) {
                    for (int s = 0; s < steps; s++) {
                        List<Integer> batch = order.subList(s * c.batchSize(), Math.min(used, (s + 1) * c.batchSize()));
                        for (int from = 0; from < batch.size(); from += c.microBatch()) {
                            List<Integer> micro = batch.subList(from, Math.min(batch.size(), from + c.microBatch()));
                            PolicyTrainer.MicroResult r = microBatch(run, p, trainer, loss, pairs, ref, micro, (double) micro.size() / batch.size());
                            lossSum += r.loss() * micro.size();
                            marginSum += r.rewardMargin() * micro.size();
                            correct += r.accuracy() * micro.size();
                            bar.step(micro.size());
                        }
                        m.put("last_lr", trainer.step().learningRate());
                    }
                }
                m.put("loss", lossSum / used);
                m.put("reward_margin", marginSum / used);
                m.put("reward_accuracy", correct / used);
            } else {
                m.put("loss", null);
                m.put("reward_margin", null);
            }
            m.put("steps", steps);
            m.put("learning_rate", lr);
            RunDirectory.writeDirectory(run.store().checkpoint(t), d -> p.save(d, Checkpoints.dtype(run.config())));
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
