/**
 * Training the policy on DNO pairs: {@link org.dnonative.train.PairLoss} (the pairwise loss from
 * the final hidden states: the native logits kernel, the fused lm_head kernel, or the plain
 * libtorch reference), {@link org.dnonative.train.PolicyTrainer} (the one backward path, the one
 * gradient scaling, clipping and the optimizer step), {@link org.dnonative.train.TrainOptions}
 * (AdamW's defaults and the schedule, in one place), {@link org.dnonative.train.AdamW} (no weight
 * decay for norms and biases), {@link org.dnonative.train.LrSchedule} (warmup, then constant,
 * linear or cosine decay) and bf16 {@link org.dnonative.train.Autocast} for CUDA.
 *
 * <p>One optimizer step over micro-batches of pairs:
 * <pre>{@code
 * try (PolicyTrainer trainer = new PolicyTrainer(policy.model(), TrainOptions.adamW(lr, warmup, steps, 0.0, 1.0));
 *      PairLoss loss = PairLoss.create(PairLoss.Kind.NATIVE, 0)) {
 *     for (each micro-batch of m of the step's M pairs) {
 *         try (SequenceBatch batch = new SequenceBatch(promptsTwice, chosenThenRejected, policy.padId(), device)) {
 *             PolicyTrainer.MicroResult r = trainer.accumulate(loss, batch, refLogps, null, beta, (double) m / M);
 *         }
 *     }
 *     PolicyTrainer.StepResult step = trainer.step();                  // clip, AdamW, zero grads
 * }
 * }</pre>
 */
package org.dnonative.train;
