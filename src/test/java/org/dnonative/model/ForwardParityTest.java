package org.dnonative.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.dnonative.io.SafetensorsFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ForwardParityTest {
    static CausalLM model;

    @BeforeAll
    static void load() {
        model = CausalLM.load(Fixture.MODEL, new Device(torch.DeviceType.CPU));
    }

    @AfterAll
    static void close() { model.close(); }

    @Test
    void configAcceptsRopeParametersBlock() {
        ModelConfig c = model.config();
        assertEquals(10000.0, c.rope().theta());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(2, c.kvGroups());
        assertSame(model.parameters().get("model.embed_tokens.weight"), model.lmHeadWeight());
    }

    @Test
    void logitsMatchTransformers() throws Exception {
        try (SafetensorsFile ref = SafetensorsFile.open(Fixture.REFERENCE_TENSORS)) {
            JsonNode cases = Fixture.cases();
            for (int c = 0; c < cases.size(); c++) {
                long[] ids = ref.readLongs("llama-tiny.case" + c + ".input_ids");
                float[] expected = ref.readFloats("llama-tiny.case" + c + ".logits");
                float[][] got = model.logitsOf(ids);
                int v = model.config().vocabSize();
                double worst = 0;
                for (int t = 0; t < ids.length; t++)
                    for (int j = 0; j < v; j++) worst = Math.max(worst, Math.abs(got[t][j] - expected[t * v + j]));
                assertTrue(worst < 1e-4, "case " + c + ": max |logit diff| = " + worst);
            }
        }
    }
}
