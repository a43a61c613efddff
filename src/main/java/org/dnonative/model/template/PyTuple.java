package org.dnonative.model.template;

import java.util.List;

/** A Python tuple: a sequence that prints with parentheses and is never equal to a list. */
record PyTuple(List<Object> items) {}
