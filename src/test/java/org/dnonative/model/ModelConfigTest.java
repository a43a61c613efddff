package org.dnonative.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ModelConfigTest {
    static ObjectNode llama3() throws Exception {
        return (ObjectNode) new ObjectMapper().readTree("""
            {"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":128256,"hidden_size":2048,
             "intermediate_size":8192,"num_hidden_layers":16,"num_attention_heads":32,"num_key_value_heads":8,
             "rms_norm_eps":1e-05,"rope_theta":500000.0,"max_position_embeddings":131072,"tie_word_embeddings":true,
             "rope_scaling":{"factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
             "bos_token_id":128000,"eos_token_id":[128001,128008,128009],"torch_dtype":"bfloat16"}
            """);
    }

    @Test
    void topLevelRopeThetaAndLlama3Scaling() throws Exception {
        ModelConfig c = ModelConfig.fromJson(llama3(), "llama3");
        assertEquals(500000.0, c.rope().theta());
        assertEquals("llama3", c.rope().type());
        assertEquals(64, c.headDim());
        assertEquals(java.util.List.of(128001, 128008, 128009), c.eosTokenIds());
        assertEquals("bfloat16", c.dtype());
        float[] inv = CausalLM.inverseFrequencies(c);
        // transformers' _compute_llama3_parameters for head_dim 128 (here 64: recompute for 128 below)
        ObjectNode n = llama3();
        n.put("head_dim", 128);
        inv = CausalLM.inverseFrequencies(ModelConfig.fromJson(n, "llama3-128"));
        double[][] expected = {{0, 1.0}, {10, 0.12868737343265052}, {20, 0.016560440080994446}, {25, 0.005940730375674967},
                {30, 0.0013718935677611381}, {40, 3.428102195952591e-05}, {63, 3.068925988914511e-07}};
        for (double[] e : expected) assertEquals(e[1], inv[(int) e[0]], Math.abs(e[1]) * 1e-5, "inv_freq[" + (int) e[0] + "]");
    }

    @Test
    void rejectsUnknownArchitecturesAndRopeTypes() throws Exception {
        ObjectNode n = llama3();
        n.putArray("architectures").add("GPT2LMHeadModel");
        n.put("model_type", "gpt2");
        ModelException e = assertThrows(ModelException.class, () -> ModelConfig.fromJson(n, "x/config.json"));
        assertTrue(e.getMessage().contains("x/config.json") && e.getMessage().contains("GPT2LMHeadModel"));
        ObjectNode m = llama3();
        ((ObjectNode) m.get("rope_scaling")).put("rope_type", "yarn");
        assertThrows(ModelException.class, () -> ModelConfig.fromJson(m, "y"));
    }

    @Test
    void qwen2SavesAndReloadsWithBiases(@TempDir Path dir) throws Exception {
        Device cpu = new Device(torch.DeviceType.CPU);
        ModelConfig qwen = ModelConfig.of(ModelConfig.Architecture.QWEN2, 96, 32, 64, 2, 4, 2, 64, false, null, 1, 0);
        try (CausalLM m = CausalLM.random(qwen, 5, cpu)) {
            try (var g = new org.bytedeco.pytorch.NoGradGuard()) {
                m.parameters().get("model.layers.1.self_attn.v_proj.bias").fill_(new org.bytedeco.pytorch.Scalar(0.25));
            }
            CheckpointIO.save(m, dir, "float32", null);
            try (CausalLM again = CausalLM.load(dir, cpu)) {
                assertEquals(ModelConfig.Architecture.QWEN2, again.config().architecture());
                long[] ids = {4, 8, 15, 16, 23, 42};
                float[][] a = m.logitsOf(ids), b = again.logitsOf(ids);
                for (int t = 0; t < ids.length; t++) assertArrayEquals(a[t], b[t]);
            }
        }
    }

    @Test
    void shardedCheckpointsLoadThroughTheIndex(@TempDir Path dir) throws Exception {
        Device cpu = new Device(torch.DeviceType.CPU);
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        try (var f = org.dnonative.io.SafetensorsFile.open(Fixture.MODEL.resolve("model.safetensors"))) {
            org.dnonative.io.SafetensorsWriter a = new org.dnonative.io.SafetensorsWriter().metadata("format", "pt");
            org.dnonative.io.SafetensorsWriter b = new org.dnonative.io.SafetensorsWriter().metadata("format", "pt");
            int k = 0;
            for (var t : f.tensors().values()) {
                boolean first = k++ % 2 == 0;
                // the second shard stores bf16, so mixed dtypes across shards are exercised too
                if (first) a.add(t.name(), f.readFloats(t.name()), t.shape(), org.dnonative.io.DType.F32);
                else b.add(t.name(), f.readFloats(t.name()), t.shape(), org.dnonative.io.DType.BF16);
                map.put(t.name(), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
            }
            a.write(dir.resolve("model-00001-of-00002.safetensors"));
            b.write(dir.resolve("model-00002-of-00002.safetensors"));
        }
        java.nio.file.Files.writeString(dir.resolve("model.safetensors.index.json"), json.writeValueAsString(index));
        java.nio.file.Files.copy(Fixture.MODEL.resolve("config.json"), dir.resolve("config.json"));
        try (CausalLM sharded = CausalLM.load(dir, cpu); CausalLM single = CausalLM.load(Fixture.MODEL, cpu)) {
            long[] ids = {1, 2, 3, 4, 5};
            float[][] x = sharded.logitsOf(ids), y = single.logitsOf(ids);
            double worst = 0;
            for (int t = 0; t < ids.length; t++) for (int j = 0; j < x[t].length; j++) worst = Math.max(worst, Math.abs(x[t][j] - y[t][j]));
            assertTrue(worst < 1.0, "bf16 shard moved logits by " + worst);
        }
        java.nio.file.Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        ModelException e = assertThrows(ModelException.class, () -> CausalLM.load(dir, cpu));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
    }

    @Test
    void slidingWindowAttentionRunsBeyondTheWindow() throws Exception {
        ObjectNode n = (ObjectNode) new ObjectMapper().readTree("""
            {"architectures":["MistralForCausalLM"],"model_type":"mistral","vocab_size":64,"hidden_size":32,
             "intermediate_size":64,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,
             "rope_theta":10000.0,"max_position_embeddings":64,"sliding_window":8,"tie_word_embeddings":false}
            """);
        ModelConfig c = ModelConfig.fromJson(n, "mistral");
        assertEquals(8, c.slidingWindow());
        Device cpu = new Device(torch.DeviceType.CPU);
        try (CausalLM m = CausalLM.random(c, 1, cpu)) {
            long[] a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, b = a.clone();
            b[0] = 40;
            float[][] x = m.logitsOf(a), y = m.logitsOf(b);
            // one layer, window 8: position 7 still sees token 0, positions 8 on no longer do
            assertFalse(java.util.Arrays.equals(x[7], y[7]));
            for (int t = 8; t < a.length; t++) assertArrayEquals(x[t], y[t], 1e-5f, "position " + t);
        }
        // Mistral has no switch; Qwen2/Qwen3 slide only with use_sliding_window, from max_window_layers on
        ObjectNode q = n.deepCopy();
        q.putArray("architectures").add("Qwen2ForCausalLM");
        q.put("model_type", "qwen2");
        q.put("num_hidden_layers", 3);
        assertNull(ModelConfig.fromJson(q, "qwen2").slidingWindow());
        q.put("use_sliding_window", true);
        q.put("max_window_layers", 1);
        assertEquals(java.util.Arrays.asList(null, 8, 8),
                ModelConfig.fromJson(q, "qwen2").layerAttention().stream().map(ModelConfig.LayerAttention::window).toList());
    }

    /** google/gemma-3-1b-pt's config.json as published (hub spelling, transformers 4.50), a Gemma3ForCausalLM. */
    static ObjectNode gemma3() throws Exception {
        return (ObjectNode) new ObjectMapper().readTree("""
            {"architectures":["Gemma3ForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
             "attn_logit_softcapping":null,"bos_token_id":2,"cache_implementation":"hybrid","eos_token_id":1,
             "final_logit_softcapping":null,"head_dim":256,"hidden_activation":"gelu_pytorch_tanh","hidden_size":1152,
             "initializer_range":0.02,"intermediate_size":6912,"max_position_embeddings":32768,"model_type":"gemma3_text",
             "num_attention_heads":4,"num_hidden_layers":26,"num_key_value_heads":1,"pad_token_id":0,
             "query_pre_attn_scalar":256,"rms_norm_eps":1e-06,"rope_local_base_freq":10000,"rope_scaling":null,
             "rope_theta":1000000,"sliding_window":512,"sliding_window_pattern":6,"torch_dtype":"bfloat16",
             "use_cache":true,"vocab_size":262144}
            """);
    }

    @Test
    void gemma3HubConfigResolvesLayerTypesAndBothRopes() throws Exception {
        ModelConfig c = ModelConfig.fromJson(gemma3(), "gemma-3-1b");
        assertEquals(ModelConfig.Architecture.GEMMA3, c.architecture());
        assertEquals(ModelConfig.Activation.GELU_TANH, c.activation());
        assertEquals(1.0 / 16, c.attentionScale(), 1e-15);
        assertTrue(c.tieWordEmbeddings());
        assertNull(c.finalLogitSoftcap());
        for (int i = 0; i < 26; i++) {
            ModelConfig.LayerAttention a = c.layerAttention().get(i);
            boolean full = (i + 1) % 6 == 0;
            assertEquals(full ? null : 512, a.window(), "layer " + i);
            assertEquals(full ? 1_000_000.0 : 10_000.0, a.rope().theta(), "layer " + i);
        }
        assertEquals(1_000_000.0, c.rope().theta());
        // gemma-3-4b and larger: linear RoPE scaling on the global layers only
        ObjectNode big = gemma3();
        big.putObject("rope_scaling").put("rope_type", "linear").put("factor", 8.0);
        ModelConfig b = ModelConfig.fromJson(big, "gemma-3-4b");
        assertEquals("linear", b.layerAttention().get(5).rope().type());
        assertEquals(8.0, b.layerAttention().get(5).rope().factor());
        assertEquals("default", b.layerAttention().get(0).rope().type());
        // the multimodal checkpoints (and bidirectional embedding models) are refused by name
        ObjectNode mm = gemma3();
        mm.putArray("architectures").add("Gemma3ForConditionalGeneration");
        mm.put("model_type", "gemma3");
        ModelException e = assertThrows(ModelException.class, () -> ModelConfig.fromJson(mm, "mm"));
        assertTrue(e.getMessage().contains("Gemma3ForCausalLM"), e.getMessage());
        ObjectNode bi = gemma3();
        bi.put("use_bidirectional_attention", true);
        assertThrows(ModelException.class, () -> ModelConfig.fromJson(bi, "bi"));
    }

    @Test
    void qwen3HasPerHeadNormsAndAnOutputBiasWithAttentionBias() throws Exception {
        ObjectNode n = (ObjectNode) new ObjectMapper().readTree("""
            {"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","vocab_size":96,"hidden_size":32,
             "intermediate_size":48,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":2,
             "rope_theta":1000000,"attention_bias":true}
            """);
        ModelConfig c = ModelConfig.fromJson(n, "qwen3");
        assertEquals(128, c.headDim(), "Qwen3Config's head_dim default, not hidden/heads");
        assertFalse(c.tieWordEmbeddings(), "Qwen3Config unties by default");
        var shapes = CausalLM.expectedShapes(c);
        assertArrayEquals(new long[]{128}, shapes.get("model.layers.0.self_attn.q_norm.weight"));
        assertArrayEquals(new long[]{128}, shapes.get("model.layers.0.self_attn.k_norm.weight"));
        assertArrayEquals(new long[]{32}, shapes.get("model.layers.0.self_attn.o_proj.bias"));
        assertTrue(shapes.containsKey("lm_head.weight"));
    }

    @Test
    void newArchitecturesSaveAndReload(@TempDir Path dir) throws Exception {
        Device cpu = new Device(torch.DeviceType.CPU);
        for (ModelConfig.Architecture arch : new ModelConfig.Architecture[]{ModelConfig.Architecture.QWEN3, ModelConfig.Architecture.GEMMA3}) {
            Path d = dir.resolve(arch.modelType);
            ModelConfig cfg = ModelConfig.of(arch, 96, 32, 64, 2, 4, 2, 64, arch.gemma(), null, 1, 0);
            try (CausalLM m = CausalLM.random(cfg, 5, cpu)) {
                CheckpointIO.save(m, d, "bfloat16", null);
                try (CausalLM again = CausalLM.load(d, cpu)) {
                    assertEquals(arch, again.config().architecture());
                    assertEquals(m.parameters().keySet(), again.parameters().keySet());
                    long[] ids = {4, 8, 15, 16, 23, 42};
                    float[][] a = m.logitsOf(ids), b = again.logitsOf(ids);
                    double worst = 0;
                    for (int t = 0; t < ids.length; t++) for (int j = 0; j < a[t].length; j++) worst = Math.max(worst, Math.abs(a[t][j] - b[t][j]));
                    assertTrue(worst < 0.05, arch + ": bf16 round trip moved logits by " + worst);
                }
            }
        }
    }
}
