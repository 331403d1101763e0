"""Local inference core (onnxruntime session factory, model manifests, adapters)."""
