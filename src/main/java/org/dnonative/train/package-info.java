/**
 * Training primitives for the policy: {@link org.dnonative.train.AdamW} (no weight decay for norms
 * and biases), {@link org.dnonative.train.LrSchedule} (warmup, then constant, linear or cosine
 * decay), gradient clipping and accumulation in {@link org.dnonative.train.PolicyTrainer}, bf16
 * {@link org.dnonative.train.Autocast} for CUDA, and {@link org.dnonative.train.ReferenceDnoLoss},
 * the plain-libtorch DNO loss the fused native kernel is checked against.
 *
 * <p>One DNO training micro-batch with the native loss:
 * <pre>{@code
 * try (PointerScope scope = new PointerScope();
 *      SequenceBatch batch = new SequenceBatch(promptsTwice, chosenThenRejected, policy.padId(), device)) {
 *     Tensor h = batch.responseHidden(trainer.hidden(batch));          // [N,H], autograd
 *     // native fused loss on (h, trainer.lmHead(), batch.targets(), batch.sequenceOf(), ref log-probs, beta)
 *     // -> loss, gradH [N,H], gradW [V,H]
 *     trainer.backwardFromResponseHidden(h, gradH, gradW);              // scales by 1/accumulation
 * }
 * PolicyTrainer.StepResult step = trainer.maybeStep();                 // clip, AdamW, zero grads
 * }</pre>
 */
package org.dnonative.train;
