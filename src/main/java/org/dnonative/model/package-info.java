/**
 * The policy: HuggingFace-compatible causal LMs (Llama family, Qwen2) on libtorch.
 *
 * <ul>
 * <li>{@link org.dnonative.model.Policy#load(java.nio.file.Path, org.bytedeco.pytorch.Device)} reads a
 *     model directory (config.json, model.safetensors or a sharded index, tokenizer.json, the chat
 *     template, generation_config.json); {@link org.dnonative.model.Policy#of} builds one in memory
 *     (e.g. {@link org.dnonative.model.CausalLM#random} with a character-level tokenizer);
 *     {@link org.dnonative.model.Policy#save(java.nio.file.Path)} writes the same layout, the whole
 *     directory at once.</li>
 * <li>{@link org.dnonative.model.Sampler#generate} draws K completions per prompt with a KV cache
 *     (temperature, top-p, top-k, eos, stop strings, a seed per (prompt, sample)).</li>
 * <li>{@link org.dnonative.model.Scorer#score} gives the sum of response-token log-probs and the
 *     token count for (prompt, response) pairs, without grad: DNO's reference log-probs.</li>
 * <li>For training, {@link org.dnonative.model.SequenceBatch} packs (prompt, response) pairs;
 *     {@link org.dnonative.model.CausalLM#hidden} gives the final hidden states with autograd and
 *     {@link org.dnonative.model.CausalLM#lmHeadWeight()} the output projection, for the fused
 *     native loss; {@link org.dnonative.train.PolicyTrainer} does the rest.</li>
 * </ul>
 *
 * Memory: tensors are native; computations run inside {@link org.bytedeco.javacpp.PointerScope}s
 * and results escape them through {@link org.dnonative.model.Scopes}. Callers that loop should open
 * a PointerScope per iteration.
 */
package org.dnonative.model;
