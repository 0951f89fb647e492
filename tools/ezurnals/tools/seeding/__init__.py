"""``ezurnals seed``: a synthetic country planned from a seed, created through the APIs."""
