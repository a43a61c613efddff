package org.dnonative.model.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** Jinja2's namespace(): the one object whose attributes a template may assign ({% set ns.x = ... %}). */
final class Namespace {
    final Map<String, Object> attrs = new LinkedHashMap<>();
}
