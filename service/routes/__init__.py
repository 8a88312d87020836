"""One module per URL family; routes never import each other."""
