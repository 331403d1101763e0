"""Threshold tuning on recorded history: labels, the review queue, what-if at a threshold and
suggested thresholds (headless; the Tuning page is a thin view over these functions)."""
