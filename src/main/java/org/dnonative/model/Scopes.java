package org.dnonative.model;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Lets a result escape the {@link PointerScope} that frees a computation's temporaries.
 * Inside the scope call {@code keep(result)}; after it closes call {@code adopt(result)}, which hands
 * the result to the enclosing scope (if any), so that it is freed with that scope.
 * ({@code PointerScope.detach} would drop the last reference and free it at once.)
 */
public final class Scopes {
    private Scopes() {}

    public static <P extends Pointer> P keep(P p) {
        p.retainReference();
        return p;
    }

    public static <P extends Pointer> P adopt(P p) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(p);
            p.releaseReference();
        }
        return p;
    }
}
