package org.dnonative.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A non-default ignore index on the CPU, for the logits loss and the fused-linear loss. The
 * contract (native/include/dno_loss.h): a position counts when its label is not the ignore index,
 * and every other label must lie in [0,V). So the ignore index may be any value (-1, one outside
 * the vocabulary, even a token id, which then never counts), and once it is not -100 a label of
 * -100 is out of range like any other: an exception naming the position, nothing written.
 */
class IgnoreIndexTest {
    static final int P = 2, T = 9, H = 16, V = 97;
    /** -1 (a common convention), V (the first positive value outside the vocabulary), a far one, token 3. */
    static final long[] IGNORE_INDICES = {-1, V, 1_000_003, 3};

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (long ignoreIndex : IGNORE_INDICES)
            for (ElementType dtype : new ElementType[] {ElementType.FLOAT32, ElementType.BFLOAT16})
                all.add(Arguments.of(ignoreIndex, dtype));
        return all.stream();
    }

    /** The labels with every ignored position relabelled to the default ignore index. */
    static long[] withDefaultIgnoreIndex(long[] labels, long ignoreIndex) {
        long[] out = labels.clone();
        for (int i = 0; i < out.length; i++) if (out[i] == ignoreIndex) out[i] = RandomCase.IGNORE;
        return out;
    }

    static RandomCase logitsCase(String test, long ignoreIndex, ElementType dtype) {
        return new RandomCase(P, T, V, dtype, true, true, CaseSeed.of(test, ignoreIndex, dtype), ignoreIndex);
    }

    static FusedCase fusedCase(String test, long ignoreIndex, ElementType dtype) {
        return new FusedCase(P, T, H, V, dtype, true, true, true, CaseSeed.of(test, ignoreIndex, dtype), ignoreIndex);
    }

    @ParameterizedTest(name = "ignoreIndex={0} {1}")
    @MethodSource("cases")
    void logitsLossMatchesTheReferenceAndTheDefaultIndexRelabelled(long ignoreIndex, ElementType dtype) {
        RandomCase c = logitsCase("IgnoreIndexTest.logits", ignoreIndex, dtype);
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withIgnoreIndex(ignoreIndex);
        ReferenceDnoLoss want = c.reference(0.5, false, 1);
        float[] grad = DnoLossTest.run(c, o);
        DnoLossResult r = DnoLossTest.got(c, o);
        DnoLossTest.assertClose(c + " loss", want.loss, r.loss(), 2e-5, 2e-5);
        for (int n = 0; n < 2 * P; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.logps[n], r.logps()[n], 1e-5, 2e-4);
        DnoLossTest.assertGradClose(c, want.grad, grad);
        for (int row = 0; row < c.labels.length; row++)
            if (c.labels[row] == ignoreIndex)
                for (int k = 0; k < V; k++)
                    if (grad[row * V + k] != 0f) fail(c + ": grad of ignored row " + row + " is not 0");
        assertEquals(0f, r.logps()[2 * P - 1], c + ": logps of the sequence with nothing counted");

        // Only the value that marks the ignored positions differs: bitwise the same outputs.
        long[] relabelled = withDefaultIgnoreIndex(c.labels, ignoreIndex);
        DnoLossOptions d = o.withIgnoreIndex(DnoLossOptions.DEFAULT_IGNORE_INDEX);
        DnoLossResult base = c.dtype == ElementType.FLOAT32
                ? DnoLoss.compute(c.shape, c.logits, relabelled, c.ref, c.targets, d, null)
                : DnoLoss.compute(c.shape, c.logitsHalf, c.dtype, relabelled, c.ref, c.targets, d, null);
        assertEquals(Float.floatToRawIntBits(base.loss()), Float.floatToRawIntBits(r.loss()), c + ": loss vs ignore index -100");
        assertArrayEquals(base.logps(), r.logps(), c + ": logps vs ignore index -100");
        assertArrayEquals(base.z(), r.z(), c + ": z vs ignore index -100");
    }

    @ParameterizedTest(name = "ignoreIndex={0} {1}")
    @MethodSource("cases")
    void fusedLossMatchesTheReferenceAndTheDefaultIndexRelabelled(long ignoreIndex, ElementType dtype) {
        FusedCase c = fusedCase("IgnoreIndexTest.fused", ignoreIndex, dtype);
        DnoLossOptions o = DnoLossOptions.defaults().withBeta(0.5f).withIgnoreIndex(ignoreIndex);
        FusedCase.Reference want = c.reference(0.5, false, 1);
        FusedLinearDnoLossTest.Out got = FusedLinearDnoLossTest.run(c, o, FusedLinearOptions.defaults(), true);
        double lossTol = dtype == ElementType.FLOAT32 ? 2e-5 : 1e-4;
        DnoLossTest.assertClose(c + " loss", want.dno.loss, got.r().loss(), lossTol, lossTol);
        for (int n = 0; n < 2 * P; n++)
            DnoLossTest.assertClose(c + " logps[" + n + "]", want.dno.logps[n], got.r().logps()[n], 2e-5, 2e-4);
        double tol = FusedLinearDnoLossTest.tol(dtype), floor = FusedLinearDnoLossTest.floor(dtype);
        FusedLinearDnoLossTest.assertTensorClose(c + " gradHidden", want.gradHidden, got.gradHidden(), tol, floor);
        FusedLinearDnoLossTest.assertTensorClose(c + " gradWeight", want.gradWeight, got.gradWeight(), tol, floor);
        FusedLinearDnoLossTest.assertTensorClose(c + " gradBias", want.gradBias, got.gradBias(), tol, floor);
        for (int row = 0; row < c.labels.length; row++)
            if (c.labels[row] == ignoreIndex)
                for (int k = 0; k < H; k++)
                    if (got.gradHidden()[row * H + k] != 0f) fail(c + ": gradHidden of ignored row " + row + " is not 0");

        long[] relabelled = withDefaultIgnoreIndex(c.labels, ignoreIndex);
        FusedCase base = fusedCase("IgnoreIndexTest.fused", ignoreIndex, dtype);
        System.arraycopy(relabelled, 0, base.labels, 0, relabelled.length);
        FusedLinearDnoLossTest.Out d = FusedLinearDnoLossTest.run(base,
                o.withIgnoreIndex(DnoLossOptions.DEFAULT_IGNORE_INDEX), FusedLinearOptions.defaults(), true);
        assertEquals(Float.floatToRawIntBits(d.r().loss()), Float.floatToRawIntBits(got.r().loss()),
                c + ": loss vs ignore index -100");
        assertArrayEquals(d.r().logps(), got.r().logps(), c + ": logps vs ignore index -100");
        assertArrayEquals(d.gradHidden(), got.gradHidden(), c + ": gradHidden vs ignore index -100");
        assertArrayEquals(d.gradWeight(), got.gradWeight(), c + ": gradWeight vs ignore index -100");
    }

    /** Sequence 1, position 5: counted in every case (after the prompt, before the padding). */
    static final int BAD_ROW = 1 * T + 5;

    @Test
    void theDefaultIndexIsAnOutOfRangeLabelUnderIgnoreIndexMinusOne() {
        RandomCase c = logitsCase("IgnoreIndexTest.defaultIsOutOfRange", -1, ElementType.FLOAT32);
        assertEquals(-1, c.labels[0], c + ": the prompt is masked with the ignore index");
        long[] labels = c.labels.clone();
        labels[BAD_ROW] = DnoLossOptions.DEFAULT_IGNORE_INDEX;
        DnoLossOptions o = DnoLossOptions.defaults().withIgnoreIndex(-1);
        float[] x = c.logits.clone();
        DnoException e = assertThrows(DnoException.class, () -> DnoLoss.compute(c.shape, x, labels, c.ref, c.targets, o, x),
                c + " with label -100 at [1,5]");
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        FusedLinearDnoLossTest.assertMessage(e, "labels[1,5]", "-100", "ignore index -1");
        assertArrayEquals(c.logits, x, c + ": in-place logits must be untouched after a failure");
    }

    @Test
    void aLabelAboveAPositiveIgnoreIndexOutsideTheVocabularyIsOutOfRange() {
        RandomCase c = logitsCase("IgnoreIndexTest.aboveIsOutOfRange", V, ElementType.FLOAT32);
        long[] labels = c.labels.clone();
        labels[BAD_ROW] = V + 1;
        DnoException e = assertThrows(DnoException.class, () -> DnoLoss.compute(c.shape, c.logits, labels, c.ref, c.targets,
                DnoLossOptions.defaults().withIgnoreIndex(V), null), c + " with label V+1 at [1,5]");
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        FusedLinearDnoLossTest.assertMessage(e, "labels[1,5]", String.valueOf(V + 1));
    }

    @Test
    void fusedLossRefusesTheDefaultIndexUnderIgnoreIndexMinusOneAndWritesNothing() {
        FusedCase c = fusedCase("IgnoreIndexTest.fusedDefaultIsOutOfRange", -1, ElementType.FLOAT32);
        c.labels[BAD_ROW] = DnoLossOptions.DEFAULT_IGNORE_INDEX;
        DnoLossOptions o = DnoLossOptions.defaults().withIgnoreIndex(-1);
        float[] gh = new float[c.hidden.length], gw = new float[c.weight.length], gb = new float[V];
        java.util.Arrays.fill(gh, 0.25f);
        java.util.Arrays.fill(gw, -0.5f);
        java.util.Arrays.fill(gb, 2f);
        float[] gh0 = gh.clone(), gw0 = gw.clone(), gb0 = gb.clone();
        DnoException e = assertThrows(DnoException.class, () -> FusedLinearDnoLoss.compute(c.shape, H, c.hidden, c.weight,
                c.bias, c.labels, c.ref, c.targets, o, FusedLinearOptions.defaults().withAccumulate(true), gh, gw, gb),
                c + " with label -100 at [1,5]");
        assertEquals(DnoException.Status.LABEL_RANGE, e.status(), c.toString());
        FusedLinearDnoLossTest.assertMessage(e, "labels[1,5]", "-100", "ignore index -1");
        assertArrayEquals(gh0, gh, c + ": gradHidden must be untouched after a failed check");
        assertArrayEquals(gw0, gw, c + ": gradWeight must be untouched after a failed check");
        assertArrayEquals(gb0, gb, c + ": gradBias must be untouched after a failed check");
    }
}
