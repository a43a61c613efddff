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
}
