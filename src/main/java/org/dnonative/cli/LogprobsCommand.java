package org.dnonative.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.dnonative.model.Policy;
import org.dnonative.model.Scorer;
import org.dnonative.model.SequenceScore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code logprobs}: lines with {@code prompt} and {@code response} (text; the prompt goes through
 * the chat template unless --raw, the response is tokenized as is) or {@code prompt_ids} and
 * {@code response_ids} in; the same lines out with {@code logprob} (sum of the response tokens'
 * log-probs) and {@code tokens} (their number) added. An empty response has log-prob 0 over 0 tokens.
 */
@Command(name = "logprobs", mixinStandardHelpOptions = true,
        description = "Score responses: sum of response-token log-probs under a HuggingFace causal LM (JSONL in, JSONL out).")
public final class LogprobsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin PolicyOptions common = new PolicyOptions();

    @Option(names = "--token-budget", defaultValue = "8192", description = "padded tokens per forward pass") int tokenBudget;

    @Override
    public Integer call() throws Exception {
        try {
            if (tokenBudget < 1) throw new IllegalArgumentException("--token-budget must be positive");
            common.applyThreads();
            List<JsonlIO.Line> lines = JsonlIO.read(common.in);
            String name = common.in == null ? "<stdin>" : common.in.toString();
            try (Policy policy = Policy.load(common.model, Policy.device(common.device));
                 JsonlIO.Output out = new JsonlIO.Output(common.out)) {
                List<int[]> prompts = new ArrayList<>(), responses = new ArrayList<>();
                int longest = 0;
                for (JsonlIO.Line line : lines) {
                    String where = name + ":" + line.number();
                    prompts.add(GenerateCommand.promptIds(policy, line, where, common.raw));
                    ObjectNode j = line.json();
                    int[] r;
                    if (j.has("response_ids")) r = JsonlIO.ids(j.get("response_ids"), "response_ids", where);
                    else if (j.path("response").isTextual()) r = policy.tokenizer().encode(j.get("response").asText());
                    else throw new JsonlIO.InputException(where + ": needs 'response' (text) or 'response_ids'");
                    JsonlIO.checkIds(r, policy.model().config().vocabSize(), "response_ids", where);
                    int[] prompt = prompts.get(prompts.size() - 1);
                    policy.checkLength((long) prompt.length + r.length, where,
                            "the prompt (" + prompt.length + " tokens) plus the response (" + r.length + " tokens)");
                    longest = Math.max(longest, prompt.length + r.length);
                    responses.add(r);
                }
                // a batch holds up to token-budget padded tokens, or one longer sequence
                if (longest > 0) policy.checkMemory(Math.max(1, tokenBudget / longest), longest, longest, name);
                List<SequenceScore> scores = new Scorer(policy.model(), policy.padId(), tokenBudget).score(prompts, responses);
                for (int i = 0; i < lines.size(); i++) {
                    ObjectNode o = lines.get(i).json().deepCopy();
                    o.put("logprob", scores.get(i).logprob());
                    o.put("tokens", scores.get(i).tokens());
                    out.write(o);
                }
                out.commit();
            }
            return 0;
        } catch (Exception e) {
            return PolicyOptions.handle(e, spec.commandLine().getErr());
        }
    }
}
