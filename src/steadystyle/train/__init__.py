"""Training style networks: loss networks, losses, data and the training loop."""
