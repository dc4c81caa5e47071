"""One module per API resource; each exposes `blp`, a flask-smorest Blueprint."""
