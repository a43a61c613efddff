package org.dnonative.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one table of {@code train}'s configuration flags: each flag's names, the configuration field it
 * sets (dotted snake_case path), other fields it implies, and whether {@code --resume} takes it
 * (flags that change where a run executes, not what it computes). The options are added to the
 * command from this table, and their values are read back through it.
 */
final class TrainFlags {
    private TrainFlags() {}

    record Flag(List<String> names, String path, Class<?> type, String label, String description, boolean environment,
                Map<String, Object> implies) {
        /** The flag's first long name, as messages name it. */
        String name() {
            return names.stream().filter(n -> n.startsWith("--")).findFirst().orElse(names.get(0));
        }
    }

    private static Flag flag(String name, String path, Class<?> type, String label, String description) {
        return new Flag(List.of(name), path, type, label, description, false, Map.of());
    }

    static final List<Flag> FLAGS = List.of(
            flag("--model", "model", String.class, "DIR", "starting policy, a HuggingFace model directory (default: the embedded model)"),
            flag("--prompts", "prompts.file", String.class, "FILE.jsonl", "prompts: {\"prompt\": ..., \"gold\": ...} per line"),
            flag("--eval-prompts", "prompts.eval_file", String.class, "FILE.jsonl", "held-out prompts for evaluation"),
            flag("--validation", "prompts.validation", Boolean.class, "BOOL",
                    "evaluate on a validation split (the eval_count prompts after the held-out ones), not on the evaluation prompts"),
            new Flag(List.of("--judge-url"), "oracle.judge.base_url", String.class, "URL",
                    "an OpenAI-compatible endpoint as the oracle, e.g. http://localhost:8000/v1", false, Map.of("oracle.kind", "judge")),
            flag("--judge-model", "oracle.judge.model", String.class, "NAME", "the judge model's name"),
            new Flag(List.of("--judge-api-key-env"), "oracle.judge.api_key_env", String.class, "VAR",
                    "environment variable with the judge's API key", true, Map.of()),
            flag("--task", "oracle.builtin", String.class, "TASK",
                    "the built-in oracle's preference: cyclic (a style cycle among correct answers, the default) or correctness (transitive)"),
            flag("--judge-mode", "oracle.mode", String.class, "MODE", "listwise, pairwise or both"),
            new Flag(List.of("--teacher-url"), "teacher.endpoint.base_url", String.class, "URL",
                    "a teacher model behind an OpenAI-compatible endpoint writes the gold responses the prompts lack", false,
                    Map.of("teacher.kind", "endpoint")),
            flag("--teacher-model", "teacher.endpoint.model", String.class, "NAME", "the teacher model's name"),
            new Flag(List.of("--teacher-api-key-env"), "teacher.endpoint.api_key_env", String.class, "VAR",
                    "environment variable with the teacher's API key", true, Map.of()),
            new Flag(List.of("-k", "--samples"), "sampling.samples", Integer.class, "K", "samples per prompt (default 5)", false, Map.of()),
            flag("--mask-untokenized-ids", "sampling.mask_untokenized_ids", Boolean.class, "BOOL",
                    "never sample ids the tokenizer has no token for (a padded vocabulary's tail; default false: they decode to \"\")"),
            flag("--sampling-dtype", "sampling.dtype", String.class, "DTYPE",
                    "weights the decode step reads: float32 (default) or bfloat16 (bf16 copies of the large matrices; docs/POLICY.md)"),
            flag("--beta", "training.beta", Double.class, "B", "beta (eta) of the DNO loss (default 0.1)"),
            new Flag(List.of("--lr", "--learning-rate"), "training.learning_rate", Double.class, "LR", "learning rate (default 5e-5)",
                    false, Map.of()),
            flag("--batch-size", "training.batch_size", Integer.class, "N", "pairs per optimizer step (default 64)"),
            flag("--micro-batch", "training.micro_batch", Integer.class, "N", "pairs per forward/backward pass (default 8)"),
            flag("--loss", "training.loss", String.class, "KIND", "native (the loss kernel on the logits), fused (lm_head + loss, no logits) or libtorch"),
            flag("--soft-targets", "pairs.soft_targets", Boolean.class, "BOOL",
                    "Algorithm 1: soft targets sigma(r_t(y_w) - r_t(y_l)), with the pairwise rule (which pairs.rule auto then picks)"),
            new Flag(List.of("--device"), "device", String.class, "DEV", "cpu, cuda or cuda:N", true, Map.of()),
            new Flag(List.of("--threads"), "threads", Integer.class, "N", "CPU compute threads (0 = every processor; sampling and scoring split their batches over them)", true, Map.of()),
            flag("--seed", "seed", Long.class, "SEED", "seed of every random choice"));

    /** Adds the table's options to the {@code train} command. */
    static void addTo(CommandSpec spec) {
        for (Flag f : FLAGS) {
            OptionSpec.Builder b = OptionSpec.builder(f.names().toArray(String[]::new)).type(f.type()).paramLabel(f.label())
                    .description(f.description() + (f.environment() ? " (also on --resume)" : ""));
            if (f.type() == Boolean.class) b.arity("0..1");
            spec.addOption(b.build());
        }
    }

    /** The flags given, in the table's order. */
    static List<Flag> given(ParseResult parsed) {
        return FLAGS.stream().filter(f -> parsed.hasMatchedOption(f.name())).toList();
    }

    /** The configuration overrides the given flags make (dotted path to value), implied fields first. */
    static Map<String, Object> overrides(ParseResult parsed, List<Flag> flags) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Flag f : flags) {
            out.putAll(f.implies());
            Object v = parsed.matchedOptionValue(f.name(), null);
            out.put(f.path(), f.type() == Boolean.class && v == null ? Boolean.TRUE : v);
        }
        return out;
    }
}
