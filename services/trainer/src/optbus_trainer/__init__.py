"""optbus trainer: walk-forward LightGBM training of the signal scorer and the promotion gate."""
