package org.dnonative.model.tokenizer;

import java.util.Arrays;

/** A growable int array (ids, spans) without boxing. */
final class IntList {
    private int[] a = new int[16];
    private int n;

    IntList add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, n * 2);
        a[n++] = v;
        return this;
    }

    void addAll(int[] values) {
        if (n + values.length > a.length) a = Arrays.copyOf(a, Math.max(n * 2, n + values.length));
        System.arraycopy(values, 0, a, n, values.length);
        n += values.length;
    }

    int size() { return n; }
    int[] array() { return a; }
    int[] toArray() { return Arrays.copyOf(a, n); }
}
