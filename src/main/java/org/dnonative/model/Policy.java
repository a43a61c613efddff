package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Device;
import org.dnonative.io.AtomicFiles;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.model.tokenizer.ChatTemplate;
import org.dnonative.model.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A HuggingFace model directory in memory: the causal LM, its tokenizer and chat template, and the
 * eos/pad ids gathered from config.json, generation_config.json and tokenizer_config.json.
 * This is what the DNO loop samples from, scores with and saves each iteration.
 */
public final class Policy implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final Set<Integer> eosIds;
    private final int padId;

    public Policy(Path dir, CausalLM model, Tokenizer tokenizer, ChatTemplate chatTemplate) {
        this.dir = dir;
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        Set<Integer> eos = new LinkedHashSet<>(model.config().eosTokenIds());
        Integer pad = model.config().padTokenId();
        if (dir != null) {
            try {
                Path gen = dir.resolve("generation_config.json");
                if (Files.exists(gen)) {
                    JsonNode g = JSON.readTree(Files.readString(gen));
                    JsonNode e = g.get("eos_token_id");
                    if (e != null && e.isArray()) e.forEach(x -> eos.add(x.asInt()));
                    else if (e != null && e.isInt()) eos.add(e.asInt());
                    if (pad == null && g.path("pad_token_id").isInt()) pad = g.get("pad_token_id").asInt();
                }
                Path tc = dir.resolve("tokenizer_config.json");
                if (Files.exists(tc) && tokenizer != null) {
                    JsonNode c = JSON.readTree(Files.readString(tc));
                    Integer e = tokenizer.tokenId(textOf(c.get("eos_token")));
                    if (e != null) eos.add(e);
                    Integer p = tokenizer.tokenId(textOf(c.get("pad_token")));
                    if (pad == null && p != null) pad = p;
                }
            } catch (IOException e) {
                throw new ModelException(dir + ": " + e.getMessage(), e);
            }
        }
        this.eosIds = Set.copyOf(eos);
        this.padId = pad != null ? pad : eos.isEmpty() ? 0 : eos.iterator().next();
    }

    private static String textOf(JsonNode n) {
        if (n == null || n.isNull()) return null;
        return n.isTextual() ? n.asText() : n.path("content").asText(null);
    }

    /** Loads model, tokenizer.json and the chat template (if any) from a HuggingFace directory. */
    public static Policy load(Path dir, Device device) {
        CausalLM model = CausalLM.load(dir, device);
        try {
            Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"));
            return new Policy(dir, model, tok, ChatTemplate.load(dir));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Parses "cpu", "cuda" or "cuda:N"; fails clearly when CUDA is asked for but missing. */
    public static Device device(String name) {
        if (name.startsWith("cuda") && !torch.cuda_is_available())
            throw new ModelException("--device " + name + ": CUDA is not available (build with -Pgpu on a machine with a GPU)");
        if (!name.equals("cpu") && !name.startsWith("cuda")) throw new ModelException("--device must be cpu or cuda, not '" + name + "'");
        return new Device(name);
    }

    public Path directory() { return dir; }
    public CausalLM model() { return model; }
    public Tokenizer tokenizer() { return tokenizer; }
    /** The chat template, or null when the model has none. */
    public ChatTemplate chatTemplate() { return chatTemplate; }
    public Set<Integer> eosIds() { return eosIds; }
    public int padId() { return padId; }

    /**
     * Refuses, before anything is allocated for it, a sequence the model cannot hold: {@code tokens}
     * positions (prompt plus response or new tokens) above config.json's max_position_embeddings.
     */
    public void checkLength(long tokens, String where, String what) {
        int max = model.config().maxPositionEmbeddings();
        if (tokens > max)
            throw new ModelException(where + ": " + what + " is " + tokens + " positions, more than the model's "
                    + "max_position_embeddings (" + max + ")");
    }

    /**
     * Refuses a forward pass of {@code batch} sequences of {@code tokens} new positions attending to
     * {@code context} positions whose memory would not fit this machine (on the CPU: its physical
     * memory; a CUDA device reports its own out-of-memory error, which libtorch turns into an exception).
     */
    public void checkMemory(long batch, long tokens, long context, String where) {
        if (!model.device().is_cpu()) return;
        long need = forwardBytes(model.config(), batch, tokens, context);
        long have = physicalMemory();
        if (need > have)
            throw new ModelException(where + ": " + batch + " sequences of " + context + " positions need about "
                    + (need >> 20) + " MiB, more than this machine's " + (have >> 20) + " MiB (lower the batch or the lengths)");
    }

    /**
     * Peak bytes of a no-grad forward, roughly: one layer's float32 attention scores, probabilities
     * and mask ([batch, heads, tokens, context] each: the attention is not fused) plus the KV cache of
     * every layer. Saturates instead of overflowing.
     */
    static long forwardBytes(ModelConfig c, long batch, long tokens, long context) {
        double attention = 3.0 * 4 * batch * c.numHeads() * tokens * context;
        double cache = 2.0 * 4 * c.numLayers() * batch * c.numKvHeads() * context * c.headDim();
        double total = attention + cache;
        return total >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) total;
    }

    private static long physicalMemory() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
            return os.getTotalMemorySize();
        return Long.MAX_VALUE;
    }

    /** The prompt text put through the chat template as one user turn, with the generation prompt. */
    public int[] encodeChat(List<ChatTemplate.Message> messages) {
        if (chatTemplate == null) throw new ModelException(dir + ": no chat template (chat_template.jinja or tokenizer_config.json); use raw prompts");
        return tokenizer.encode(chatTemplate.render(messages, true));
    }

    public int[] encodeUserPrompt(String prompt) {
        List<ChatTemplate.Message> m = new ArrayList<>();
        m.add(new ChatTemplate.Message("user", prompt));
        return encodeChat(m);
    }

    /** Saves with the checkpoint's own dtype (config.json torch_dtype/dtype), float32 when it names another. */
    public void save(Path target) throws IOException {
        String d = model.config().dtype();
        save(target, d.equals("bfloat16") || d.equals("float16") ? d : "float32");
    }

    /** A policy with an independent copy of the weights (same tokenizer, template and source directory). */
    public Policy copy() {
        return new Policy(dir, model.copy(model.device()), tokenizer, chatTemplate);
    }

    /**
     * Saves the policy in the HuggingFace layout (weights as {@code dtype}). Tokenizer files are
     * copied from the source directory; a policy built in memory writes tokenizer.json,
     * chat_template.jinja and a tokenizer_config.json naming eos and pad.
     */
    public void save(Path target, String dtype) throws IOException {
        Path abs = target.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        // build the checkpoint in a sibling directory and rename it into place: a crash leaves
        // either the old checkpoint or the complete new one (plus a stray temporary directory)
        Path tmp = AtomicFiles.siblingDirectory(abs, ".tmp-");
        try {
            writeCheckpoint(tmp, dtype);
            if (Files.exists(abs)) {
                Path old = AtomicFiles.siblingDirectory(abs, ".old-");
                Files.delete(old);
                Files.move(abs, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                deleteTree(old);
            } else {
                Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
        }
    }

    private void writeCheckpoint(Path target, String dtype) throws IOException {
        CheckpointIO.save(model, target, dtype, dir);
        if (dir == null) {
            AtomicFiles.writeString(target.resolve("tokenizer.json"), tokenizer.json());
            ObjectNode cfg = JSON.createObjectNode();
            if (chatTemplate != null) {
                AtomicFiles.writeString(target.resolve("chat_template.jinja"), chatTemplate.text());
                chatTemplate.specialTokens().forEach((k, v) -> cfg.put(k, String.valueOf(v)));
            }
            if (!cfg.has("eos_token") && !eosIds.isEmpty()) cfg.put("eos_token", tokenizer.token(eosIds.iterator().next()));
            if (!cfg.has("pad_token")) cfg.put("pad_token", tokenizer.token(padId));
            cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
            AtomicFiles.writeString(target.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg) + "\n");
        }
    }

    /**
     * A policy built in memory (e.g. a randomly initialised model with a character-level tokenizer
     * for the embedded default run); eos ids come from the model config.
     */
    public static Policy of(CausalLM model, Tokenizer tokenizer, ChatTemplate chatTemplate) {
        return new Policy(null, model, tokenizer, chatTemplate);
    }

    @Override
    public void close() { model.close(); }
}
