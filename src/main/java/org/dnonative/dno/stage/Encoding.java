package org.dnonative.dno.stage;

import org.dnonative.model.Policy;

import java.util.Arrays;

/** Prompts and responses as the policy sees them. */
public final class Encoding {
    private Encoding() {}

    /** The prompt's token ids: through the chat template unless {@code chatTemplate} is false (or the model has none). */
    public static int[] prompt(Policy policy, String prompt, boolean chatTemplate) {
        return chatTemplate && policy.chatTemplate() != null ? policy.encodeUserPrompt(prompt) : policy.tokenizer().encode(prompt);
    }

    /** A response's token ids as the policy would have generated them: the text, then the first eos id. */
    public static int[] response(Policy policy, String text) {
        int[] ids = policy.tokenizer().encode(text);
        if (policy.eosIds().isEmpty()) return ids;
        int eos = policy.model().config().eosTokenIds().isEmpty() ? policy.eosIds().iterator().next() : policy.model().config().eosTokenIds().get(0);
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos;
        return out;
    }
}
