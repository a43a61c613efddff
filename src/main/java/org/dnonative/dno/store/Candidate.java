package org.dnonative.dno.store;

/**
 * One candidate response to a prompt: a policy sample ({@code s0}, {@code s1}, ...) or the teacher's
 * gold response ({@code gold}), with the token ids the policy scores it by (eos included) and, for
 * samples, why generation stopped.
 */
public record Candidate(String id, Origin origin, String text, String finish, int[] ids) {
    public enum Origin { SAMPLE, GOLD }

    public static final String GOLD_ID = "gold";

    public static String sampleId(int k) {
        return "s" + k;
    }

    public boolean gold() {
        return origin == Origin.GOLD;
    }
}
