package org.dnonative.dno.stage;

import com.fasterxml.jackson.databind.JavaType;
import org.dnonative.dno.WinRates;
import org.dnonative.dno.store.RunStore;

import java.util.List;

/** JSON types of what stages gather across ranks beyond the store's records. */
final class RunStoreTypes {
    private RunStoreTypes() {}

    static final JavaType LIST_OF_STRINGS = RunStore.JSON.getTypeFactory().constructCollectionType(List.class, String.class);
    static final JavaType LIST_OF_SCORES = RunStore.JSON.getTypeFactory().constructCollectionType(List.class, WinRates.PromptScore.class);
}
