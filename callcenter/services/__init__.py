"""The domain: one function per unit of work, no request objects, the only place that commits."""
