"""Drawing a graph: DOT (and SVG through graphviz's ``dot`` program) and a text table, made
once here for every face."""
