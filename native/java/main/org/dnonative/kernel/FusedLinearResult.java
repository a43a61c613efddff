package org.dnonative.kernel;

/**
 * What one fused-linear DNO loss call computed, and what it cost.
 *
 * @param result        the loss and its metrics, as for the logits-level loss
 * @param peakBytes     extra memory the call allocated at its peak (host or device), in bytes
 * @param chunks        chunks of logits computed (over both passes)
 * @param gemms         GEMM calls made
 * @param twoPassPairs  pairs whose counted rows did not fit one chunk and took two passes
 */
public record FusedLinearResult(DnoLossResult result, long peakBytes, long chunks, long gemms, long twoPassPairs) {
    public float loss() {
        return result.loss();
    }

    public float[] logps() {
        return result.logps();
    }

    public float[] z() {
        return result.z();
    }
}
