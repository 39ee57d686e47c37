"""Pure core: specs, rules, text layout, scene and writers. No I/O, no framework, deterministic."""
