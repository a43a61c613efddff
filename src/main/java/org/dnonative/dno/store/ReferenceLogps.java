package org.dnonative.dno.store;

/** log pi_t(y|x) of a training pair's chosen and rejected responses under the frozen reference policy pi_t. */
public record ReferenceLogps(String pairId, double chosen, double rejected) {}
