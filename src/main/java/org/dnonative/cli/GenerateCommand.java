package org.dnonative.cli;

import org.bytedeco.pytorch.global.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.model.Completion;
import org.dnonative.model.Policy;
import org.dnonative.model.Sampler;
import org.dnonative.model.SamplingParams;
import org.dnonative.model.tokenizer.ChatTemplate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code generate}: prompts in, samples out. An input line holds {@code prompt} (text, put through
 * the chat template unless --raw), {@code messages} (a chat) or {@code prompt_ids}; each output line
 * repeats the input fields and adds {@code completions}: a list of {text, ids, finish_reason}.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Sample K completions per prompt from a HuggingFace causal LM (JSONL in, JSONL out).")
public final class GenerateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin PolicyOptions common = new PolicyOptions();

    @Option(names = "--samples", defaultValue = "1", description = "completions per prompt (K)") int samples;
    @Option(names = "--temperature", defaultValue = "1.0", description = "0 = greedy") double temperature;
    @Option(names = "--top-p", defaultValue = "1.0") double topP;
    @Option(names = "--top-k", defaultValue = "0", description = "0 = off") int topK;
    @Option(names = "--max-new-tokens", defaultValue = "128") int maxNewTokens;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--stop", description = "stop string (repeatable)") List<String> stop = new ArrayList<>();
    @Option(names = "--dtype", defaultValue = "float32", paramLabel = "DTYPE",
            description = "weights while sampling: float32 or bfloat16 (faster on CPUs with AVX-512 BF16/AMX; see docs/POLICY.md)") String dtype;
    @Option(names = "--batch-size", defaultValue = "32", description = "sequences decoded at once") int batchSize;
    @Option(names = "--mask-untokenized-ids", description = "never sample ids the tokenizer has no token for (a padded vocabulary's tail; "
            + "without it they can be sampled and decode to \"\", as in transformers)") boolean maskUntokenized;

    @Override
    public Integer call() throws Exception {
        try {
            common.applyThreads();
            SamplingParams params = new SamplingParams(samples, temperature, topP, topK, maxNewTokens, stop, seed, batchSize);
            List<JsonlIO.Line> lines = JsonlIO.read(common.in);
            String name = common.in == null ? "<stdin>" : common.in.toString();
            try (Policy policy = Policy.load(common.model, Policy.device(common.device));
                 JsonlIO.Output out = new JsonlIO.Output(common.out)) {
                List<int[]> prompts = new ArrayList<>();
                int longest = 0;
                for (JsonlIO.Line line : lines) {
                    String where = name + ":" + line.number();
                    int[] ids = promptIds(policy, line, where, common.raw);
                    // checked before the sampler allocates a KV cache and buffers of prompt + max-new-tokens positions
                    policy.checkLength((long) ids.length + maxNewTokens, where,
                            "the prompt (" + ids.length + " tokens) plus --max-new-tokens (" + maxNewTokens + ")");
                    longest = Math.max(longest, ids.length);
                    prompts.add(ids);
                }
                // one batch of up to --batch-size rows per compute thread at once
                int threads = org.dnonative.model.Threads.count();
                long rowsAtOnce = Math.min((long) Math.min(lines.size(), Math.max(1, batchSize / samples)) * samples, batchSize) * threads;
                if (!lines.isEmpty()) policy.checkMemory(Math.max(1, rowsAtOnce), longest, (long) longest + maxNewTokens, name);
                Sampler sampler = new Sampler(policy, maskUntokenized).withDtype(samplingDtype(dtype));
                int chunk = Math.max(1, batchSize / samples) * threads;
                for (int start = 0; start < lines.size(); start += chunk) {
                    int end = Math.min(lines.size(), start + chunk);
                    List<List<Completion>> result = sampler.generate(prompts.subList(start, end), params);
                    for (int i = start; i < end; i++) {
                        ObjectNode o = lines.get(i).json().deepCopy();
                        ArrayNode arr = o.putArray("completions");
                        for (Completion c : result.get(i - start)) {
                            ObjectNode co = arr.addObject();
                            co.put("text", c.text());
                            ArrayNode ids = co.putArray("ids");
                            for (int id : c.ids()) ids.add(id);
                            co.put("finish_reason", c.finishReason());
                        }
                        out.write(o);
                    }
                }
                out.commit();
            }
            return 0;
        } catch (Exception e) {
            return PolicyOptions.handle(e, spec.commandLine().getErr());
        }
    }

    /** The libtorch dtype for a --dtype value. */
    static torch.ScalarType samplingDtype(String name) {
        return switch (name) {
            case "float32" -> torch.ScalarType.Float;
            case "bfloat16" -> torch.ScalarType.BFloat16;
            default -> throw new IllegalArgumentException("--dtype must be float32 or bfloat16, not '" + name + "'");
        };
    }

    /** The prompt's token ids from prompt_ids, messages or prompt text. */
    static int[] promptIds(Policy policy, JsonlIO.Line line, String where, boolean raw) {
        ObjectNode j = line.json();
        int[] ids;
        if (j.has("prompt_ids")) {
            ids = JsonlIO.ids(j.get("prompt_ids"), "prompt_ids", where);
        } else if (j.has("messages")) {
            ids = policy.encodeChat(messages(j.get("messages"), where));
        } else if (j.has("prompt")) {
            if (!j.get("prompt").isTextual()) throw new JsonlIO.InputException(where + ": 'prompt' must be a string");
            String text = j.get("prompt").asText();
            if (!raw && policy.chatTemplate() == null)
                throw new JsonlIO.InputException(where + ": the model has no chat template; pass --raw or prompt_ids");
            ids = raw ? policy.tokenizer().encode(text) : policy.encodeUserPrompt(text);
        } else {
            throw new JsonlIO.InputException(where + ": needs 'prompt', 'messages' or 'prompt_ids'");
        }
        if (ids.length == 0) throw new JsonlIO.InputException(where + ": the prompt is empty");
        JsonlIO.checkIds(ids, policy.model().config().vocabSize(), "prompt_ids", where);
        return ids;
    }

    static List<ChatTemplate.Message> messages(JsonNode node, String where) {
        if (!node.isArray()) throw new JsonlIO.InputException(where + ": 'messages' must be a list");
        List<ChatTemplate.Message> out = new ArrayList<>();
        for (JsonNode m : node) {
            if (!m.path("role").isTextual() || !m.path("content").isTextual())
                throw new JsonlIO.InputException(where + ": each message needs string 'role' and 'content'");
            out.add(new ChatTemplate.Message(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }
}
