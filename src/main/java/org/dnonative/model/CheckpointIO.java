package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.io.AtomicFiles;
import org.dnonative.io.DType;
import org.dnonative.io.SafetensorsFile;
import org.dnonative.io.SafetensorsWriter;
import org.dnonative.io.TensorInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the HuggingFace checkpoint layout: config.json, model.safetensors (or a sharded
 * model.safetensors.index.json), generation_config.json and the tokenizer files. Every file is
 * written atomically, and the weights file carries the {@code format: pt} metadata that
 * transformers requires.
 */
public final class CheckpointIO {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointIO.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Files copied from the source model directory when a checkpoint is saved (when present). */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "chat_template.jinja", "chat_template.json", "tokenizer.model",
            "vocab.json", "merges.txt", "added_tokens.json");

    private CheckpointIO() {}

    static Map<String, Tensor> readWeights(Path dir, ModelConfig config, Device device) {
        return readWeights(dir, config, device, null);
    }

    /**
     * @param mappings where float32 weights loaded onto the CPU are backed by the file's pages
     *                 (mapped copy-on-write, as transformers maps safetensors), their buffers are
     *                 added here for the caller to keep reachable; null = always copy
     */
    static Map<String, Tensor> readWeights(Path dir, ModelConfig config, Device device, List<ByteBuffer> mappings) {
        Map<String, Path> fileOf = weightFiles(dir);
        Map<Path, SafetensorsFile> open = new LinkedHashMap<>();
        Map<String, Tensor> params = new LinkedHashMap<>();
        try {
            for (Path p : new java.util.LinkedHashSet<>(fileOf.values())) open.put(p, SafetensorsFile.open(p));
            Map<String, long[]> expected = CausalLM.expectedShapes(config);
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                String name = e.getKey();
                Path file = fileOf.get(name);
                if (file == null) {
                    // some checkpoints of untied-by-config models still omit lm_head when it equals the embedding
                    throw new ModelException(dir + ": tensor '" + name + "' is missing from the checkpoint");
                }
                SafetensorsFile f = open.get(file);
                TensorInfo info = f.info(name);
                if (!Arrays.equals(info.shape(), e.getValue()))
                    throw new ModelException(file + ": tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                            + " but config.json implies " + Arrays.toString(e.getValue()));
                if (!info.dtype().isFloatingPoint())
                    throw new ModelException(file + ": tensor '" + name + "' has dtype " + info.dtype() + ", expected F32, BF16 or F16");
                Tensor mapped = null;
                if (mappings != null && device.is_cpu() && info.dtype() == DType.F32) {
                    ByteBuffer b = f.dataCopyOnWrite(name);
                    mapped = b == null ? null : Tensors.overMapped(b, info.shape());
                    if (mapped != null) mappings.add(b);
                }
                params.put(name, CausalLM.prepare(mapped != null ? mapped : Tensors.fromBytes(f.data(name), info.dtype(), info.shape()), device));
            }
            for (String name : fileOf.keySet()) {
                if (expected.containsKey(name) || name.contains("rotary_emb.inv_freq")) continue;
                if (name.equals("lm_head.weight") && config.tieWordEmbeddings()) continue;
                LOG.warn("{}: ignoring tensor '{}', which {} does not use", fileOf.get(name), name, config.architecture().className);
            }
            return params;
        } catch (IOException e) {
            params.values().forEach(Tensor::close);
            throw new ModelException(e.getMessage(), e);
        } catch (RuntimeException e) {
            params.values().forEach(Tensor::close);
            throw e;
        } finally {
            for (SafetensorsFile f : open.values()) {
                try { f.close(); } catch (IOException ignored) { }
            }
        }
    }

    /** Tensor name → file, from model.safetensors.index.json or the single model.safetensors. */
    static Map<String, Path> weightFiles(Path dir) {
        Path index = dir.resolve("model.safetensors.index.json");
        Path single = dir.resolve("model.safetensors");
        Map<String, Path> out = new LinkedHashMap<>();
        try {
            if (Files.exists(index)) {
                JsonNode map = JSON.readTree(Files.readString(index)).get("weight_map");
                if (map == null || !map.isObject()) throw new ModelException(index + ": no weight_map object");
                for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    Path shard = dir.resolve(e.getValue().asText());
                    if (!Files.exists(shard)) throw new ModelException(index + ": shard " + shard + " (tensor '" + e.getKey() + "') is missing");
                    out.put(e.getKey(), shard);
                }
                return out;
            }
            if (!Files.exists(single)) {
                if (!Files.isDirectory(dir)) throw new ModelException(dir + ": no such model directory");
                throw new ModelException(dir + ": no model.safetensors or model.safetensors.index.json"
                        + (Files.exists(dir.resolve("pytorch_model.bin")) ? " (pytorch_model.bin is not supported: convert it to safetensors)" : ""));
            }
            try (SafetensorsFile f = SafetensorsFile.open(single)) {
                for (String name : f.tensors().keySet()) out.put(name, single);
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new ModelException(e.getFile() + ": missing");
        } catch (IOException e) {
            throw new ModelException(e.getMessage(), e);
        }
    }

    /**
     * Saves the model in the HuggingFace layout to {@code dir}: weights stored as {@code dtype}
     * ("float32", "bfloat16" or "float16"), config.json with that dtype, generation_config.json and
     * the tokenizer files copied from {@code sourceDir} (may be null).
     */
    public static void save(CausalLM model, Path dir, String dtype, Path sourceDir) throws IOException {
        DType store = switch (dtype) {
            case "float32" -> DType.F32;
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> throw new IllegalArgumentException("cannot save weights as '" + dtype + "' (float32, bfloat16, float16)");
        };
        torch.ScalarType st = switch (store) {
            case BF16 -> torch.ScalarType.BFloat16;
            case F16 -> torch.ScalarType.Half;
            default -> torch.ScalarType.Float;
        };
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        List<Tensor> keepAlive = new ArrayList<>();
        Device cpu = new Device(torch.DeviceType.CPU);
        try {
            for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
                Tensor t = e.getValue().detach().to(cpu, st).contiguous();
                keepAlive.add(t);
                BytePointer p = new BytePointer(t.data_ptr());
                p.capacity(t.nbytes());
                ByteBuffer bytes = p.asByteBuffer();
                w.add(e.getKey(), store, t.shape(), bytes);
            }
            w.write(dir.resolve("model.safetensors"));
        } finally {
            keepAlive.forEach(Tensor::close);
        }
        ObjectNode config = model.config().raw().deepCopy();
        if (config.has("dtype")) config.put("dtype", dtype);
        if (config.has("torch_dtype") || !config.has("dtype")) config.put("torch_dtype", dtype);
        AtomicFiles.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config) + "\n");

        Path genSource = sourceDir == null ? null : sourceDir.resolve("generation_config.json");
        if (genSource != null && Files.exists(genSource) && !samePath(sourceDir, dir)) {
            AtomicFiles.writeBytes(dir.resolve("generation_config.json"), Files.readAllBytes(genSource));
        } else if (!Files.exists(dir.resolve("generation_config.json"))) {
            ObjectNode gen = JSON.createObjectNode();
            ModelConfig c = model.config();
            if (c.bosTokenId() != null) gen.put("bos_token_id", c.bosTokenId());
            if (c.eosTokenIds().size() == 1) gen.put("eos_token_id", c.eosTokenIds().get(0));
            else if (!c.eosTokenIds().isEmpty()) { var a = gen.putArray("eos_token_id"); c.eosTokenIds().forEach(a::add); }
            if (c.padTokenId() != null) gen.put("pad_token_id", c.padTokenId());
            AtomicFiles.writeString(dir.resolve("generation_config.json"), JSON.writeValueAsString(gen) + "\n");
        }
        if (sourceDir != null && !samePath(sourceDir, dir)) {
            for (String name : TOKENIZER_FILES) {
                Path src = sourceDir.resolve(name);
                if (Files.exists(src)) AtomicFiles.writeBytes(dir.resolve(name), Files.readAllBytes(src));
            }
        }
    }

    private static boolean samePath(Path a, Path b) throws IOException {
        return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
    }

}
