"""LSP features of the Tensor Views server, one module per LSP method family."""
